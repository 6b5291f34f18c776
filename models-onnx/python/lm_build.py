"""A small character-level causal language model on the fortunes (build.py --only lm): the decoder-only use of the
Transformer decoder of g2p_nets (masked self-attention, no cross-attention), exported as one decoder-step graph with a
key/value cache in the same contract as the G2P decoder minus the encoder's inputs (g2p_nets says the contract).

Writes lm-fortunes-decoder.onnx, lm-fortunes.json (manifest, family decoder-generator), fixtures/lm-fortunes.json and the
metrics.json entry "lm".

Prompt: <s> followed by the prompt's characters (no end-of-sequence); the model continues it until </s> or max_new_tokens.
Decoding (the reference the C# transform is tested against), as g2p_build.py says for greedy and beam, except that the
first step feeds the whole prompt (past 0) and takes the logits of its last position; later steps feed one token.
"""
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

import common as C
import g2p_nets as GN

NAME = "lm-fortunes"
SPECIALS = ["<pad>", "<unk>", "<s>", "</s>"]
PAD, UNK, BOS, EOS = 0, 1, 2, 3
MAX_POSITIONS = 128     # positions of the decoder: <s> + prompt + continuation
MAX_PROMPT = 64         # prompt tokens, <s> included
MAX_NEW_TOKENS = 60
MIN_COUNT = 20          # characters seen fewer times in training map to <unk>
LM_CONFIG = dict(dim=128, heads=4, layers=2, ff=256, dropout=0.1)
LM_TRAIN = dict(peak_lr=2e-3, weight_decay=0.01, batch=16, warmup_steps=100, cpu_budget_s=300)
# LM_CPU_BUDGET_S overrides cpu_budget_s: training stops after that much CPU time of this process (on a shared machine the
# wall time measures the others' work too), and the cosine decay follows CPU time used / budget.
BEAM = dict(width=4, length_penalty=0.0)
FIXTURE_PROMPTS = ["", "The ", "Computers are ", "A man", "Q: What is the difference between a", "zq\u00e9"]


def log(*a):
    print(*a, flush=True)


def read_texts(name):
    with open(os.path.join(C.DATA, "fortunes", name), encoding="utf-8") as f:
        rows = [line.rstrip("\n").split("\t", 1) for line in f][1:]
    return [t for _, t in rows]


def encode(index, text):
    return [index.get(c, UNK) for c in text]


def decoder_step(model, tokens, positions, mask, past):
    outs = model(tokens, positions, mask, *past)
    return outs[0][:, -1].float(), [torch.cat([p, n], 0) for p, n in zip(past, outs[1:])]


def prefill(model, prompt, k):
    """The prompt ([<s>] + ids) run at past 0 for k copies: (last logits [k, V], past)."""
    n = len(prompt)
    tok = torch.tensor([prompt] * k, dtype=torch.int64)
    return decoder_step(model, tok, torch.arange(n)[None].expand(k, n), torch.ones(k, n, dtype=torch.int64),
                        model.empty_past(k))


def greedy(model, prompt, max_new=MAX_NEW_TOKENS):
    """One prompt; returns (tokens without </s>, score, finished)."""
    with torch.no_grad():
        logits, past = prefill(model, prompt, 1)
        out, score = [], 0.0
        for t in range(max_new):
            if t:
                pos = len(prompt) + t - 1
                logits, past = decoder_step(model, torch.tensor([[out[-1]]]), torch.tensor([[pos]]),
                                            torch.ones(1, pos + 1, dtype=torch.int64), past)
            logp = torch.log_softmax(logits, -1)[0]
            nxt = int(logp.argmax())
            score += float(logp[nxt])
            if nxt == EOS:
                return out, score, True
            out.append(nxt)
        return out, score, False


def beam(model, prompt, width=BEAM["width"], alpha=BEAM["length_penalty"], max_new=MAX_NEW_TOKENS):
    """g2p_build.beam for a prompt. Returns [(tokens without </s>, score, finished)], best first."""
    with torch.no_grad():
        hyps, raw, finished = [[]], [0.0], []
        logits, past = prefill(model, prompt, 1)
        for t in range(max_new):
            if t:
                k, pos = len(hyps), len(prompt) + t - 1
                logits, past = decoder_step(model, torch.tensor([[h[-1]] for h in hyps]),
                                            torch.full((k, 1), pos, dtype=torch.int64),
                                            torch.ones(k, pos + 1, dtype=torch.int64), past)
            logp = torch.log_softmax(logits, -1).double().numpy()
            cand = (np.asarray(raw)[:, None] + logp).reshape(-1)
            order = np.argsort(-cand, kind="stable")[:width - len(finished)]
            V = logp.shape[1]
            new_hyps, new_raw, keep = [], [], []
            for flat in order.tolist():
                hi, v = divmod(flat, V)
                if v == EOS:
                    finished.append((hyps[hi], float(cand[flat]) / ((len(hyps[hi]) + 1) ** alpha), True))
                else:
                    new_hyps.append(hyps[hi] + [v])
                    new_raw.append(float(cand[flat]))
                    keep.append(hi)
            if not new_hyps:
                break
            idx = torch.tensor(keep, dtype=torch.int64)
            past = [p[:, idx] for p in past]
            hyps, raw = new_hyps, new_raw
        else:
            for h, r in zip(hyps, raw):
                finished.append((h, r / (len(h) ** alpha), False))
        order = sorted(range(len(finished)), key=lambda i: -finished[i][1])
        return [finished[i] for i in order]


def batches(seqs, bs, gen):
    perm = torch.randperm(len(seqs), generator=gen).tolist()
    out = []
    for w in range(0, len(perm), bs * 50):
        window = sorted(perm[w:w + bs * 50], key=lambda i: len(seqs[i]))
        out += [window[k:k + bs] for k in range(0, len(window), bs)]
    return [out[i] for i in torch.randperm(len(out), generator=gen).tolist()]


def loss_of(model, seqs, idx):
    L = max(len(seqs[i]) for i in idx)
    ids = torch.tensor([seqs[i] + [PAD] * (L - len(seqs[i])) for i in idx], dtype=torch.int64)
    b, n = ids.shape[0], L - 1
    logits = model(ids[:, :-1], torch.arange(n)[None].expand(b, n), torch.ones(b, n, dtype=torch.int64),
                   *model.empty_past(b))[0]
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1), ignore_index=PAD)


def build_lm(metrics, args):
    C.seed_everything(0)
    train_texts, test_texts = read_texts("train.tsv"), read_texts("test.tsv")
    counts = {}
    for t in train_texts:
        for c in t:
            counts[c] = counts.get(c, 0) + 1
    symbols = SPECIALS + sorted(c for c, n in counts.items() if n >= MIN_COUNT)
    index = {s: i for i, s in enumerate(symbols)}
    seq = lambda t: ([BOS] + encode(index, t) + [EOS])[:MAX_POSITIONS]  # noqa: E731
    train, test = [seq(t) for t in train_texts], [seq(t) for t in test_texts]
    cfg = LM_TRAIN
    model = GN.Decoder(len(symbols), LM_CONFIG["dim"], LM_CONFIG["heads"], LM_CONFIG["layers"], LM_CONFIG["ff"],
                       MAX_POSITIONS, LM_CONFIG["dropout"], cross=False)
    n_params = sum(p.numel() for p in model.parameters())
    log(f"[lm] {len(train)} train / {len(test)} test fortunes, {len(symbols)} symbols, {n_params} parameters")
    budget = 20.0 if args.quick else float(os.environ.get("LM_CPU_BUDGET_S", cfg["cpu_budget_s"]))
    opt = torch.optim.AdamW(model.parameters(), lr=cfg["peak_lr"], betas=(0.9, 0.98), weight_decay=cfg["weight_decay"])
    gen = torch.Generator().manual_seed(0)
    timer, step, epoch, total = C.Timer(), 0, 0, 10 ** 6
    while timer.cpu_seconds() < budget:
        model.train()
        for b in batches(train, cfg["batch"], gen):
            if timer.cpu_seconds() >= budget:
                break
            at = step if step < cfg["warmup_steps"] else cfg["warmup_steps"] + (total - cfg["warmup_steps"]) * min(1.0, timer.cpu_seconds() / budget)
            C.set_lr(opt, C.cosine_lr(at, total, cfg["warmup_steps"], cfg["peak_lr"]))
            loss = loss_of(model, train, b)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            step += 1
            if step % 200 == 0:
                log(f"  step {step} loss {loss.item():.3f} {timer.seconds()}s wall {timer.cpu_seconds()}s CPU")
        epoch += 1
    train_seconds, train_cpu = timer.seconds(), timer.cpu_seconds()
    model.eval()
    with torch.no_grad():
        sub = list(range(0, len(test), 4 if not args.quick else 40))
        tok = sum(len(test[i]) - 1 for i in sub)
        nll = sum(float(loss_of(model, test, [i])) * (len(test[i]) - 1) for i in sub)
    bits = nll / tok / math.log(2)
    log(f"[lm] {step} steps in {train_seconds}s; test {bits:.3f} bits per character ({len(sub)} fortunes)")
    graphs, fixture_graph = export(model)
    write_manifest(graphs, symbols, step, bits, train_seconds)
    write_fixture(model, symbols, index, fixture_graph)
    metrics["lm"] = {"test_fortunes": len(sub), "test_bits_per_character": round(bits, 4), "steps": step,
                     "epochs": round(step * cfg["batch"] / len(train), 2), "train_seconds": train_seconds,
                     "train_cpu_seconds": train_cpu, "parameters": n_params, "threads": C.THREADS,
                     "load_average_at_end": [round(x, 2) for x in os.getloadavg()], "graphs": [NAME + "-decoder.onnx"]}


def export(model):
    path = os.path.join(C.ROOT, NAME + "-decoder.onnx")
    b, n_layers = 2, model.n_layers
    past_names = [f"past_{kv}_{i}" for i in range(n_layers) for kv in ("key", "value")]
    new_names = [f"{kv}_{i}" for i in range(n_layers) for kv in ("key", "value")]
    in_names = ["input_ids", "position_ids", "attention_mask"] + past_names
    out_names = ["logits"] + new_names
    dyn = {"input_ids": {0: "batch", 1: "new"}, "position_ids": {0: "batch", 1: "new"},
           "attention_mask": {0: "batch", 1: "total"}, "logits": {0: "batch", 1: "new"}}
    for nm in past_names:
        dyn[nm] = {0: "past", 1: "batch"}
    for nm in new_names:
        dyn[nm] = {0: "new", 1: "batch"}
    three = torch.tensor([[BOS, 40, 50], [BOS, 60, 45]], dtype=torch.int64)
    with torch.no_grad():
        first = model(three[:, :2], torch.arange(2)[None].expand(b, 2), torch.ones(b, 2, dtype=torch.int64),
                      *model.empty_past(b))
    args = (three[:, 2:], torch.full((b, 1), 2, dtype=torch.int64), torch.ones(b, 3, dtype=torch.int64), *first[1:])
    outs, sig = C.export_onnx(model, args, path, in_names, out_names, dyn)
    with torch.no_grad():
        un = model(three, torch.arange(3)[None].expand(b, 3), torch.ones(b, 3, dtype=torch.int64), *model.empty_past(b))
    gap = float((un[0][:, -1] - outs[0][:, -1]).abs().max())
    assert gap < 1e-4, gap
    fixture_graph = {"decoder": C.fixture(in_names, list(args), out_names, outs),
                     "decoder_uncached": C.fixture(in_names, [three, torch.arange(3)[None].expand(b, 3).contiguous(),
                                                              torch.ones(b, 3, dtype=torch.int64)] + model.empty_past(b),
                                                   ["logits"], [un[0]]),
                     "cached_vs_uncached_logit_gap": gap}
    return (sig, dyn), fixture_graph


def write_manifest(graph, symbols, steps, bits, seconds):
    dec_in, dec_out = C.tensor_specs(*graph)
    manifest = {
        "format_version": 1, "name": NAME, "family": "decoder-generator", "opset": C.OPSET,
        "architecture": dict(LM_CONFIG, kind="Transformer decoder without cross-attention (post-norm), causal",
                             positional_encoding="sinusoidal", embedding_scale="sqrt(dim)"),
        "decoder": {"model_file": NAME + "-decoder.onnx", "inputs": dec_in, "outputs": dec_out,
                    "layers": LM_CONFIG["layers"], "heads": LM_CONFIG["heads"],
                    "head_dim": LM_CONFIG["dim"] // LM_CONFIG["heads"],
                    "cache": {"layout": "sequence-major [past, batch, heads, head_dim]",
                              "past_inputs": "past_key_<i>, past_value_<i>", "new_outputs": "key_<i>, value_<i>"}},
        "source": {"kind": "characters", "symbols": symbols, "lower_case": False, "prepend": "<s>",
                   "max_length": MAX_PROMPT, "unknown": "a character outside symbols maps to <unk>"},
        "target": {"kind": "symbols", "symbols": symbols, "separator": "", "max_length": MAX_POSITIONS},
        "special_tokens": {"pad": "<pad>", "unk": "<unk>", "bos": "<s>", "eos": "</s>"},
        "special_token_ids": {"pad": PAD, "unk": UNK, "bos": BOS, "eos": EOS},
        "generation": {"max_new_tokens": MAX_NEW_TOKENS, "beam_width": BEAM["width"],
                       "length_penalty": BEAM["length_penalty"]},
        "training": {"data": "models-onnx/data/fortunes/train.tsv (one fortune a sequence: <s> text </s>, cut at %d)"
                             % MAX_POSITIONS, **LM_TRAIN, "steps": steps, "seconds": seconds,
                     "optimizer": "AdamW (0.9, 0.98)", "schedule": "linear warm-up, cosine decay by CPU time used / CPU budget",
                     "seed": 0, "threads": C.THREADS},
        "metrics": {"test_bits_per_character": round(bits, 4)},
    }
    C.write_json(os.path.join(C.ROOT, NAME + ".json"), manifest)


def write_fixture(model, symbols, index, fixture_graph):
    rows = []
    for p in FIXTURE_PROMPTS:
        prompt = [BOS] + encode(index, p)
        g_tok, g_score, g_fin = greedy(model, prompt)
        row = {"prompt": p, "prompt_ids": prompt,
               "greedy": {"tokens": g_tok, "text": "".join(symbols[t] for t in g_tok), "score": g_score, "finished": g_fin}}
        for alpha in (0.0, 1.0):
            row[f"beam4_alpha{alpha:g}"] = [{"tokens": t, "text": "".join(symbols[x] for x in t), "score": s,
                                             "finished": f} for t, s, f in beam(model, prompt, 4, alpha)]
        rows.append(row)
    C.write_json(os.path.join(C.FIXTURES, NAME + ".json"), dict(
        fixture_graph, prompts=rows, max_new_tokens=MAX_NEW_TOKENS,
        note="each prompt decoded alone (greedy; beam width 4, length penalty 0 and 1, all finished hypotheses best "
             "first); scores are sums of log-softmax (float64 sums of float32 values)"))
