"""Re-exports the trained G2P Transformer in the decoder contract 2 without training (build.py --only g2p-reexport).

The weights come from the committed contract-1 graphs (g2p-cmudict-v1-encoder.onnx / -v1-decoder.onnx, the training
of 2026-12-01, kept for the C# side's contract-1 tests): every named initializer is a parameter of the same name; the
exporter's unnamed MatMul weights (onnx::MatMul_<n>, the transposed nn.Linear weights) are named by the Add that
follows them, whose other input is the layer's bias (<layer>.bias). Every parameter must be set exactly once. The
rebuilt module must reproduce the committed fixture's graph outputs (models-onnx/fixtures/g2p-cmudict.json) within
1e-5 and its greedy and beam decodes exactly (tokens; scores within 2e-5: measured 3.7e-6) before anything is written. Then it writes
what g2p_build.py writes after training: the contract-2 graphs, the manifest (training and metrics kept from the
contract-1 manifest, the test metrics re-evaluated and required equal), the fixture, and the metrics.json entry.
"""
import json
import os

import numpy as np
import onnx
import torch
from onnx import numpy_helper

import common as C
import g2p_build as B
import g2p_data as G
import g2p_nets as GN

V1 = B.NAME + "-v1"


def log(*a):
    print(*a, flush=True)


def graph_weights(path):
    """{parameter name: array} of an exported graph: named initializers as they are, MatMul weights transposed and
    named after the bias added to their product."""
    m = onnx.load(path)
    inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    consumers = {}
    for node in m.graph.node:
        for x in node.input:
            consumers.setdefault(x, []).append(node)
    out = {n: a for n, a in inits.items() if not n.startswith("onnx::")}
    for node in m.graph.node:
        if node.op_type != "MatMul" or node.input[1] not in inits or not node.input[1].startswith("onnx::"):
            continue
        adds = [c for c in consumers.get(node.output[0], []) if c.op_type == "Add"]
        biases = [x for a in adds for x in a.input if x.endswith(".bias") and x in inits]
        assert len(biases) == 1, (path, node.name, biases)
        name = biases[0][:-len(".bias")] + ".weight"
        assert name not in out, (path, name)
        out[name] = inits[node.input[1]].T.copy()
    unused = [n for n in inits if n.startswith("onnx::") and not any(
        node.op_type == "MatMul" and node.input[1] == n for node in m.graph.node)]
    assert not unused, (path, unused)
    return out


def load_into(module, weights, what):
    state = module.state_dict()
    assert set(state) == set(weights), (what, sorted(set(state) ^ set(weights)))
    for name, t in state.items():
        assert tuple(t.shape) == weights[name].shape, (what, name, tuple(t.shape), weights[name].shape)
    module.load_state_dict({n: torch.from_numpy(np.ascontiguousarray(a)) for n, a in weights.items()})


def tensor(fx):
    dt = {"float32": torch.float32, "int64": torch.int64}[fx["dtype"]]
    return torch.tensor(fx["data"], dtype=dt).reshape(fx["shape"])


def max_gap(outs, fx, names):
    return max(float((o - tensor(fx["outputs"][n])).abs().max()) for o, n in zip(outs, names))


def check_fixture(model, fixture):
    """The rebuilt module against the fixture's graph tensors (contract 1 or 2, whichever the fixture holds)."""
    gaps = {}
    with torch.no_grad():
        enc = fixture["encoder"]
        ids, mask = tensor(enc["inputs"]["input_ids"]), tensor(enc["inputs"]["attention_mask"])
        gaps["encoder"] = max_gap(GN.CrossCachingEncoder(model)(ids, mask), enc, list(enc["outputs"]))
        for key in ("decoder", "decoder_uncached"):
            fx = fixture[key]
            args = [tensor(fx["inputs"][n]) for n in fx["inputs"]]
            v1 = "encoder_hidden_states" in fx["inputs"]
            outs = model.decoder(*args) if v1 else GN.CrossCachedDecoder(model)(*args)
            gaps[key] = max_gap(outs, fx, list(fx["outputs"]))
    return gaps


def check_decodes(model, src_vocab, fixture):
    """Greedy and beam decodes of the fixture's words equal the committed ones."""
    worst = 0.0
    for row in fixture["words"]:
        ids, mask = B.pad_batch([B.encode_word(src_vocab, row["word"])])
        tok, score, fin = B.greedy(model, ids, mask)
        assert tok[0] == row["greedy"]["tokens"] and fin[0] == row["greedy"]["finished"], row["word"]
        worst = max(worst, abs(score[0] - row["greedy"]["score"]))
        for alpha in (0.0, 1.0):
            nb = B.beam(model, ids, mask, width=4, alpha=alpha)
            want = row[f"beam4_alpha{alpha:g}"]
            assert [t for t, _, _ in nb] == [h["tokens"] for h in want], (row["word"], alpha)
            worst = max([worst] + [abs(s - h["score"]) for (_, s, _), h in zip(nb, want)])
    assert worst < 2e-5, worst  # measured 3.7e-6 (float32 rounding of the sums' terms), margin 5x
    return worst


def build(metrics, args):
    C.seed_everything(0)
    with open(os.path.join(C.ROOT, V1 + ".json")) as f:
        old = json.load(f)
    with open(os.path.join(C.FIXTURES, B.NAME + ".json")) as f:
        fixture = json.load(f)
    src_vocab = B.Vocab(old["source"]["symbols"][len(B.SPECIALS):])
    tgt_vocab = B.Vocab(old["target"]["symbols"][len(B.SPECIALS):])
    assert src_vocab.symbols == old["source"]["symbols"] and tgt_vocab.symbols == old["target"]["symbols"]
    cfg = B.G2P_CONFIG
    model = GN.Seq2SeqTransformer(len(src_vocab), len(tgt_vocab), cfg["dim"], cfg["heads"], cfg["enc_layers"],
                                  cfg["dec_layers"], cfg["ff"], max(B.MAX_SOURCE, B.MAX_TARGET), cfg["dropout"])
    load_into(model.encoder, graph_weights(os.path.join(C.ROOT, old["encoder"]["model_file"])), "encoder")
    load_into(model.decoder, graph_weights(os.path.join(C.ROOT, old["decoder"]["model_file"])), "decoder")
    model.eval()
    fixture_contract = 1 if "encoder_hidden_states" in fixture["decoder"]["inputs"] else 2
    gaps = check_fixture(model, fixture)
    log(f"[g2p-reexport] rebuilt module vs the committed fixture: max |gap| {gaps}")
    assert max(gaps.values()) < 1e-5, gaps
    worst = check_decodes(model, src_vocab, fixture)
    log(f"[g2p-reexport] greedy and beam decodes of the {len(fixture['words'])} fixture words equal; worst score gap {worst:.2e}")

    test = G.read_split_tsv(os.path.join(B.DATA_DIR, "test.tsv.gz"))
    if args.quick:
        test = test[:300]
    words, refs = [w for w, _ in test], [r for _, r in test]
    before = metrics.get("g2p", {})
    result = {}
    for mode in ("greedy", "beam"):
        t = C.Timer()
        n = len(words) if mode == "greedy" else before.get("beam_test_words", len(words))
        preds = B.decode_all(model, words[:n], src_vocab, tgt_vocab, mode)
        result[mode + "_test_words"] = n
        for stress in (False, True):
            wer, per = G.wer_per(preds, refs[:n], stress=stress)
            result[f"{mode}_{'stress' if stress else 'no_stress'}"] = {"wer": round(wer, 4), "per": round(per, 4)}
        log(f"[g2p-reexport] test {mode} ({n} words): {result[mode + '_no_stress']} without stress, "
            f"{result[mode + '_stress']} with, {t.seconds()}s")
    if not args.quick:
        for k, v in result.items():
            assert before.get(k) == v, (k, before.get(k), v)
        assert old["metrics"] == result, (old["metrics"], result)

    fixture_words = [row["word"] for row in fixture["words"]]
    graphs, fixture_graph, gap = B.export(model, src_vocab, tgt_vocab, fixture_words)
    B.write_manifest(graphs, src_vocab, tgt_vocab, result, old["training"]["epochs"], 0)
    path = os.path.join(C.ROOT, B.NAME + ".json")
    with open(path) as f:
        manifest = json.load(f)
    manifest["training"] = old["training"]  # the training of the contract-1 graphs, whose weights these are
    C.write_json(path, manifest)
    B.write_fixture(model, src_vocab, tgt_vocab, fixture_words, fixture_graph, gap)
    with open(os.path.join(C.FIXTURES, B.NAME + ".json")) as f:
        check_decodes(model, src_vocab, json.load(f))  # the fixture just written holds the same decodes
    if not args.quick:
        done = {k: v for k, v in before.get("reexported", {}).items() if k.startswith("fixture_max_gap_vs_contract_")}
        metrics["g2p"] = dict(before, reexported={
            "contract": 2, "from": [old["encoder"]["model_file"], old["decoder"]["model_file"]],
            **done, f"fixture_max_gap_vs_contract_{fixture_contract}": max(gaps.values()),
            "test_metrics": "re-evaluated, equal"})
