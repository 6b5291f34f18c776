"""The PyTorch side of the generate benchmark: a batched greedy decode with the KV cache of the G2P Transformer in PyTorch.

    tools/with-torch tests/MlNotes.Benchmarks/generate_torch.py WORDS_FILE REPEATS     (TORCH_THREADS=2 by default)

The model is models-onnx/python/g2p_nets.Seq2SeqTransformer with the weights of the committed ONNX graphs (the exporter
keeps each parameter's name, except a Linear's weight, folded into a transposed MatMul initializer: found through the Add
of its named bias). The decode follows the manifest's decoder contract, as the C# transform does: contract 2 computes
every layer's cross-attention keys and values once per batch (g2p_nets.CrossCachingEncoder / CrossCachedDecoder),
contract 1 recomputes them at every step. Before timing it checks that its greedy decode gives the fixture's tokens. The
decode is vectorized (no per-row Python loop): arg-max, scores by gather, finished rows masked, all rows of a batch of 64
together. Prints one JSON line: tokens (generated, end-of-sequence included), seconds per repeat, tokens_per_s (best
repeat).
    generate_torch.py WORDS_FILE REPEATS [MANIFEST]     (default models-onnx/g2p-cmudict.json)
"""
import json
import os
import sys
import time

import numpy as np
import onnx
import torch
from onnx import numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "models-onnx", "python"))
import g2p_nets as GN  # noqa: E402

MODELS = os.path.join(ROOT, "models-onnx")
BATCH = 64


def onnx_weights(path):
    """{parameter name: array} from an exported graph: named initializers as they are, Linear weights from MatMul + Add."""
    g = onnx.load(path).graph
    init = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    weights = {k: v for k, v in init.items() if not k.startswith("onnx::")}
    consumers = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    for n in g.node:
        if n.op_type == "MatMul" and n.input[1] in init:
            adds = [c for c in consumers.get(n.output[0], []) if c.op_type == "Add"]
            bias = [i for a in adds for i in a.input if i.endswith(".bias") and i in init]
            assert len(bias) == 1, (n.name, bias)
            weights[bias[0][:-len(".bias")] + ".weight"] = init[n.input[1]].T
    return weights


def load_model(manifest):
    with open(manifest) as f:
        m = json.load(f)
    a = m["architecture"]
    model = GN.Seq2SeqTransformer(len(m["source"]["symbols"]), len(m["target"]["symbols"]), a["dim"], a["heads"],
                                  a["enc_layers"], a["dec_layers"], a["ff"],
                                  max(m["source"]["max_length"], m["target"]["max_length"]), 0.0)
    w = {}
    for part in ("encoder", "decoder"):
        # contract 1 graphs name the parameters of their module (embed.weight); contract 2 graphs those of the whole
        # model (encoder.embed.weight, and the encoder graph holds the decoder's cross-attention key/value projections)
        for k, v in onnx_weights(os.path.join(MODELS, m[part]["model_file"])).items():
            w[k if k.startswith(("encoder.", "decoder.")) else part + "." + k] = v
    state = model.state_dict()
    missing = [k for k in state if k not in w]
    assert not missing, missing
    model.load_state_dict({k: torch.from_numpy(np.array(w[k], dtype=np.float32)) for k in state})
    return model.eval(), m


def greedy(model, ids, mask, max_new, bos, eos, contract):
    """Vectorized batched greedy decode with the KV cache; returns (tokens [b, t], generated token count incl. </s>)."""
    b = ids.shape[0]
    if contract == 2:
        cross = GN.CrossCachingEncoder(model)(ids, mask)[1:]
        step = GN.CrossCachedDecoder(model)
        memory = (mask, *cross)
    else:
        step = model.decoder
        memory = (model.encoder(ids, mask), mask)
    past = model.decoder.empty_past(b)
    tok = torch.full((b, 1), bos, dtype=torch.int64)
    done = torch.zeros(b, dtype=torch.bool)
    out, count = [], 0
    for t in range(max_new):
        outs = step(tok, torch.full((b, 1), t, dtype=torch.int64), torch.ones(b, t + 1, dtype=torch.int64),
                    *memory, *past)
        past = [torch.cat([p, n], 0) for p, n in zip(past, outs[1:])]
        nxt = outs[0][:, -1].argmax(-1)
        count += int((~done).sum())
        nxt = torch.where(done, torch.zeros_like(nxt), nxt)
        out.append(nxt)
        done = done | (nxt == eos)
        if bool(done.all()):
            break
        tok = nxt[:, None]
    return torch.stack(out, 1), count


def main():
    torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "2")))
    words = [w.strip() for w in open(sys.argv[1], encoding="utf-8") if w.strip()]
    repeats = int(sys.argv[2])
    model, m = load_model(sys.argv[3] if len(sys.argv) > 3 else os.path.join(MODELS, "g2p-cmudict.json"))
    contract = m["decoder"].get("contract", 1)
    sym = {s: i for i, s in enumerate(m["source"]["symbols"])}
    ids_ = m["special_token_ids"]
    pad, bos, eos, unk = ids_["pad"], ids_["bos"], ids_["eos"], ids_["unk"]
    max_new = m["generation"]["max_new_tokens"]

    def batch(ws):
        seqs = [[sym.get(c, unk) for c in w.lower()] + [eos] for w in ws]
        L = max(len(s) for s in seqs)
        return (torch.tensor([s + [pad] * (L - len(s)) for s in seqs]),
                torch.tensor([[1] * len(s) + [0] * (L - len(s)) for s in seqs]))

    with torch.no_grad():
        fixture = json.load(open(os.path.join(MODELS, "fixtures", "g2p-cmudict.json")))
        for row in fixture["words"][:8]:
            toks, _ = greedy(model, *batch([row["word"]]), max_new, bos, eos, contract)
            got = [int(x) for x in toks[0] if int(x) != eos and int(x) != pad]
            assert got == row["greedy"]["tokens"], (row["word"], got, row["greedy"]["tokens"])
        chunks = [batch(words[i:i + BATCH]) for i in range(0, len(words), BATCH)]
        greedy(model, *chunks[0], max_new, bos, eos, contract)  # warm-up: one batch
        seconds, tokens = [], 0
        for _ in range(repeats):
            t0 = time.perf_counter()
            tokens = sum(greedy(model, ids, mask, max_new, bos, eos, contract)[1] for ids, mask in chunks)
            seconds.append(time.perf_counter() - t0)
    print(json.dumps({"rows": len(words), "tokens": tokens, "seconds": seconds, "tokens_per_s": tokens / min(seconds),
                      "threads": torch.get_num_threads(), "contract": contract}))


if __name__ == "__main__":
    main()
