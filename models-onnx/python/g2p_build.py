"""Trains, evaluates and exports the grapheme-to-phoneme Transformer (build.py --only g2p).

Writes g2p-cmudict-encoder.onnx, g2p-cmudict-decoder.onnx, g2p-cmudict.json (manifest), fixtures/g2p-cmudict.json,
data/g2p/ (the committed test and validation splits, the licence) and the metrics.json entry "g2p".

Decoding (the reference the C# transform is tested against; docs/generation.md says the same):
  greedy: at each step the arg-max token (lowest id on a tie); score = sum of the log-softmax of the chosen
          tokens, end-of-sequence included; stops at </s> or after max_new_tokens tokens.
  beam:   width W; hypotheses start as [<s>] with score 0. At each step every alive hypothesis is extended by every
          token; of all (hypothesis, token) candidates the best W - finished by raw score are kept (ties: earlier
          hypothesis, then lower token id); those ending in </s> are finished with score raw / length^alpha
          (length = generated tokens, </s> included); the others stay alive. Stops when W hypotheses are finished or
          after max_new_tokens steps (the alive ones are then finished unterminated). n-best: the finished ones by
          score, best first (ties: finished earlier first).
"""
import math
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import common as C
import g2p_data as G
import g2p_nets as GN
import nets as N

NAME = "g2p-cmudict"
DATA_DIR = os.path.join(C.DATA, "g2p")
SPECIALS = ["<pad>", "<unk>", "<s>", "</s>"]
PAD, UNK, BOS, EOS = 0, 1, 2, 3
MAX_SOURCE = 32         # letters, </s> included (the longest word in the dictionary has 22)
MAX_TARGET = 32         # positions of the decoder: <s> + phones + </s> (the longest pronunciation has 20 phones)
MAX_NEW_TOKENS = 30     # generated tokens, </s> included
G2P_CONFIG = dict(dim=128, heads=4, enc_layers=3, dec_layers=3, ff=512, dropout=0.1)
G2P_TRAIN = dict(n_epochs=3, peak_lr=1e-3, weight_decay=0.01, batch=64, label_smoothing=0.1, warmup_steps=800)
# G2P_EPOCHS overrides n_epochs; G2P_BUDGET_S (seconds of wall time) ends training at the budget, recorded in the
# manifest, and then drives the schedule: the cosine decay follows elapsed time / budget (not steps / total), so it
# completes within the budget whatever the machine's speed (epochs are then only an upper bound).
STOPPED = {}
TRAINED = {}  # steps and epochs actually trained
BEAM = dict(width=4, length_penalty=0.0)
GRAPH_FIXTURE_WORDS = 4  # words of the graph-level fixture (encoder, decoder and decoder_uncached tensors)
FIXTURE_WORDS_EXTRA = ["blorfication", "zyxt", "mlnotes", "a", "supercalifragilisticexpialidocious"]  # the last is cut to 31 letters here; the C# transform refuses it


def log(*a):
    print(*a, flush=True)


class Vocab:
    def __init__(self, symbols):
        self.symbols = SPECIALS + symbols
        self.index = {s: i for i, s in enumerate(self.symbols)}

    def __len__(self):
        return len(self.symbols)


def encode_word(src_vocab, word):
    return [src_vocab.index.get(c, UNK) for c in word][:MAX_SOURCE - 1] + [EOS]


def pad_batch(seqs, pad=PAD):
    L = max(len(s) for s in seqs)
    ids = torch.tensor([s + [pad] * (L - len(s)) for s in seqs], dtype=torch.int64)
    mask = torch.tensor([[1] * len(s) + [0] * (L - len(s)) for s in seqs], dtype=torch.int64)
    return ids, mask


# ----------------------------------------------------------------------------- decoding (the reference)

def encode(model, src_ids, src_mask):
    """Contract 2's encoder outputs without encoder_hidden_states: [cross_key_0, cross_value_0, ...]."""
    return list(GN.CrossCachingEncoder(model)(src_ids, src_mask)[1:])


def decoder_step(model, tokens, positions, self_mask, cross, memory_mask, past):
    outs = GN.CrossCachedDecoder(model)(tokens, positions, self_mask, memory_mask, *cross, *past)
    return outs[0][:, -1].float(), [torch.cat([p, n], 0) for p, n in zip(past, outs[1:])]


def greedy(model, src_ids, src_mask, max_new=MAX_NEW_TOKENS):
    """Batched greedy decode with the KV cache. Returns ([tokens without </s>], [score], [finished])."""
    with torch.no_grad():
        b = src_ids.shape[0]
        memory = encode(model, src_ids, src_mask)
        past = model.decoder.empty_past(b)
        tok = torch.full((b, 1), BOS, dtype=torch.int64)
        out = [[] for _ in range(b)]
        score = torch.zeros(b, dtype=torch.float64)
        done = torch.zeros(b, dtype=torch.bool)
        for t in range(max_new):
            logits, past = decoder_step(model, tok, torch.full((b, 1), t, dtype=torch.int64),
                                        torch.ones(b, t + 1, dtype=torch.int64), memory, src_mask, past)
            logp = torch.log_softmax(logits, -1)
            nxt = logp.argmax(-1)  # first maximum on ties
            for i in range(b):
                if not done[i]:
                    score[i] += float(logp[i, nxt[i]])
                    if int(nxt[i]) == EOS:
                        done[i] = True
                    else:
                        out[i].append(int(nxt[i]))
            if bool(done.all()):
                break
            tok = nxt[:, None]
        return out, score.tolist(), done.tolist()


def beam(model, src_ids, src_mask, width=BEAM["width"], alpha=BEAM["length_penalty"], max_new=MAX_NEW_TOKENS):
    """Beam search for one source row ([1, src]). Returns [(tokens without </s>, score, finished)], best first."""
    with torch.no_grad():
        memory1 = encode(model, src_ids, src_mask)
        hyps = [[BOS]]
        raw = [0.0]
        past = model.decoder.empty_past(1)
        finished = []
        for t in range(max_new):
            k = len(hyps)
            memory = [c.expand(k, -1, -1, -1) for c in memory1]
            mem_mask = src_mask.expand(k, -1)
            tok = torch.tensor([[h[-1]] for h in hyps], dtype=torch.int64)
            logits, past = decoder_step(model, tok, torch.full((k, 1), t, dtype=torch.int64),
                                        torch.ones(k, t + 1, dtype=torch.int64), memory, mem_mask, past)
            logp = torch.log_softmax(logits, -1).double().numpy()
            cand = (np.asarray(raw)[:, None] + logp).reshape(-1)
            order = np.argsort(-cand, kind="stable")[:width - len(finished)]
            V = logp.shape[1]
            new_hyps, new_raw, keep = [], [], []
            for flat in order.tolist():
                hi, v = divmod(flat, V)
                if v == EOS:
                    n = len(hyps[hi])  # generated tokens incl. </s> = len(hyp) - 1 (<s>) + 1
                    finished.append((hyps[hi][1:], float(cand[flat]) / (n ** alpha), True))
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
                finished.append((h[1:], r / ((len(h) - 1) ** alpha), False))
        order = sorted(range(len(finished)), key=lambda i: -finished[i][1])  # stable: earlier first on ties
        return [finished[i] for i in order]


def decode_all(model, words, src_vocab, tgt_vocab, mode, bs=256):
    model.eval()
    preds = [None] * len(words)
    order = sorted(range(len(words)), key=lambda i: len(words[i]))
    for s in range(0, len(order), bs):
        chunk = order[s:s + bs]
        ids, mask = pad_batch([encode_word(src_vocab, words[i]) for i in chunk])
        if mode == "greedy":
            toks, _, _ = greedy(model, ids, mask)
        else:
            toks = [beam(model, ids[j:j + 1, :int(mask[j].sum())], mask[j:j + 1, :int(mask[j].sum())])[0][0]
                    for j in range(len(chunk))]
        for i, t in zip(chunk, toks):
            preds[i] = [tgt_vocab.symbols[x] for x in t]
    return preds


# ----------------------------------------------------------------------------- training

class ByteDropout(nn.Module):
    """Dropout whose mask comes from numpy (PCG64 bytes, a uint16 per element, p rounded to a multiple of 1/65536). torch
    1.13's CPU bernoulli_ draws one mt19937 number per element: 5.3 ms forward and backward on G2P's [64, 10, 512] against
    1.5 ms here, and the 32 dropouts were a fifth of a training step. Swapped in for nn.Dropout while training only."""

    def __init__(self, p, rng):
        super().__init__()
        self.p, self.rng = p, rng
        self.threshold = int(round(p * 65536))

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        u = np.frombuffer(self.rng.bytes(2 * x.numel()), dtype=np.uint16).reshape(x.shape)
        return x * torch.from_numpy((u >= self.threshold).astype(np.float32) * np.float32(1.0 / (1.0 - self.p)))


def swap_dropouts(model, make):
    """Replaces every nn.Dropout (or ByteDropout) submodule by make(p); returns the replaced ones for swap_back."""
    replaced = []
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, (nn.Dropout, ByteDropout)):
                replaced.append((parent, name, child))
                setattr(parent, name, make(child.p))
    return replaced


def swap_back(replaced):
    for parent, name, child in replaced:
        setattr(parent, name, child)


def make_batches(pairs, bs, gen):
    perm = torch.randperm(len(pairs), generator=gen).tolist()
    batches = []
    for w in range(0, len(perm), bs * 50):  # buckets: sort windows of 50 batches by length
        window = sorted(perm[w:w + bs * 50], key=lambda i: (len(pairs[i][0]), len(pairs[i][1])))
        batches += [window[k:k + bs] for k in range(0, len(window), bs)]
    return [batches[i] for i in torch.randperm(len(batches), generator=gen).tolist()]


def train(model, pairs, valid, src_vocab, tgt_vocab, args, n_epochs):
    cfg = G2P_TRAIN
    gen = torch.Generator().manual_seed(0)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg["weight_decay"]},
                             {"params": no_decay, "weight_decay": 0.0}], lr=cfg["peak_lr"], betas=(0.9, 0.98))
    steps_per_epoch = math.ceil(len(pairs) / cfg["batch"])
    if args.quick:
        steps_per_epoch = 60
    total, step = n_epochs * steps_per_epoch, 0
    warmup = cfg["warmup_steps"] if not args.quick else 20
    budget = float(os.environ.get("G2P_BUDGET_S", "0"))
    N.BROADCAST_TRAINING_MATMUL = True  # nets.head_matmul: faster attention products while gradients are on
    rng = np.random.default_rng(0)  # one stream for every dropout's masks
    dropouts = swap_dropouts(model, lambda p: ByteDropout(p, rng))
    started = C.Timer()
    for ep in range(n_epochs):
        if budget and started.seconds() > budget:
            break
        model.train()
        timer = C.Timer()
        tot = 0.0
        batches = make_batches(pairs, cfg["batch"], gen)[:steps_per_epoch]
        for b in batches:
            if budget and started.seconds() > budget:
                STOPPED.update(step=step, of=total, budget_s=budget)
                log(f"  time budget of {budget}s reached at step {step} of {total}")
                break
            src, src_mask = pad_batch([pairs[i][0] for i in b])
            tgt, _ = pad_batch([[BOS] + pairs[i][1] + [EOS] for i in b])
            logits = model(src, src_mask, tgt[:, :-1])
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt[:, 1:].reshape(-1),
                                   ignore_index=PAD, label_smoothing=cfg["label_smoothing"])
            if budget:  # progress by time: step / total := elapsed / budget (after the warm-up steps)
                at = warmup + (total - warmup) * min(1.0, started.seconds() / budget) if step >= warmup else step
                C.set_lr(opt, C.cosine_lr(at, total, warmup, cfg["peak_lr"]))
            else:
                C.set_lr(opt, C.cosine_lr(step, total, warmup, cfg["peak_lr"]))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            step += 1
            tot += loss.item()
        msg = ""
        if args.verbose or ep == n_epochs - 1 or STOPPED or budget:
            sub = valid[:500]
            preds = decode_all(model, [w for w, _ in sub], src_vocab, tgt_vocab, "greedy")
            wer, per = G.wer_per(preds, [r for _, r in sub], stress=False)
            msg = f" valid[:500] greedy WER {wer:.4f} PER {per:.4f} (no stress)"
        log(f"  epoch {ep + 1}/{n_epochs} loss {tot / max(1, len(batches)):.4f} {timer.seconds()}s{msg}")
    swap_back(dropouts)
    N.BROADCAST_TRAINING_MATMUL = False
    model.eval()
    TRAINED.update(steps=step, epochs=round(step / steps_per_epoch, 2))


# ----------------------------------------------------------------------------- export

def export(model, src_vocab, tgt_vocab, fixture_words):
    """Contract 2 (g2p_nets.py): the encoder graph also outputs every decoder layer's cross-attention keys and values,
    which the decoder graph takes in place of encoder_hidden_states."""
    enc_path = os.path.join(C.ROOT, NAME + "-encoder.onnx")
    dec_path = os.path.join(C.ROOT, NAME + "-decoder.onnx")
    # the graph-level fixture holds the first GRAPH_FIXTURE_WORDS words only: every layer's cross keys and values are in it three
    # times (encoder outputs, decoder inputs cached and uncached), 12 MB of JSON for all the words padded to the longest
    ids, mask = pad_batch([encode_word(src_vocab, w) for w in fixture_words[:GRAPH_FIXTURE_WORDS]])
    n_layers = model.decoder.n_layers
    cross_names = [f"cross_{kv}_{i}" for i in range(n_layers) for kv in ("key", "value")]
    enc_out_names = ["encoder_hidden_states"] + cross_names
    enc_dyn = {"input_ids": {0: "batch", 1: "source"}, "attention_mask": {0: "batch", 1: "source"},
               "encoder_hidden_states": {0: "batch", 1: "source"}}
    for n in cross_names:
        enc_dyn[n] = {0: "batch", 2: "source"}
    enc_outs, enc_sig = C.export_onnx(GN.CrossCachingEncoder(model), (ids, mask), enc_path,
                                      ["input_ids", "attention_mask"], enc_out_names, enc_dyn)
    cross = list(enc_outs[1:])
    b = ids.shape[0]
    step = GN.CrossCachedDecoder(model)
    # the decoder traced at a step with a past of 2 tokens (<s> and the greedy first phone)
    with torch.no_grad():
        prefix = torch.full((b, 1), BOS, dtype=torch.int64)
        first = step(prefix, torch.zeros(b, 1, dtype=torch.int64), torch.ones(b, 1, dtype=torch.int64),
                     mask, *cross, *model.decoder.empty_past(b))
        tok1 = first[0][:, -1].argmax(-1, keepdim=True)
        second = step(tok1, torch.ones(b, 1, dtype=torch.int64), torch.ones(b, 2, dtype=torch.int64),
                      mask, *cross, *first[1:])
        past = [torch.cat([p, n], 0) for p, n in zip(first[1:], second[1:])]
        tok2 = second[0][:, -1].argmax(-1, keepdim=True)
    past_names = [f"past_{kv}_{i}" for i in range(n_layers) for kv in ("key", "value")]
    new_names = [f"{kv}_{i}" for i in range(n_layers) for kv in ("key", "value")]
    in_names = ["input_ids", "position_ids", "attention_mask", "encoder_attention_mask"] + cross_names + past_names
    out_names = ["logits"] + new_names
    dec_dyn = {"input_ids": {0: "batch", 1: "new"}, "position_ids": {0: "batch", 1: "new"},
               "attention_mask": {0: "batch", 1: "total"}, "encoder_attention_mask": {0: "batch", 1: "source"},
               "logits": {0: "batch", 1: "new"}}
    for n in cross_names:
        dec_dyn[n] = {0: "batch", 2: "source"}
    for n in past_names:
        dec_dyn[n] = {0: "past", 1: "batch"}
    for n in new_names:
        dec_dyn[n] = {0: "new", 1: "batch"}
    dec_args = (tok2, torch.full((b, 1), 2, dtype=torch.int64), torch.ones(b, 3, dtype=torch.int64), mask, *cross, *past)
    dec_outs, dec_sig = C.export_onnx(step, dec_args, dec_path, in_names, out_names, dec_dyn)
    # an uncached call (past 0, the 3 tokens at once) must give the cached step's logits at its last position
    with torch.no_grad():
        three = torch.cat([prefix, tok1, tok2], 1)
        un = step(three, torch.arange(3)[None].expand(b, 3), torch.ones(b, 3, dtype=torch.int64),
                  mask, *cross, *model.decoder.empty_past(b))
    gap = float((un[0][:, -1] - dec_outs[0][:, -1]).abs().max())
    assert gap < 1e-4, gap
    graphs = {"encoder": (enc_sig, enc_dyn), "decoder": (dec_sig, dec_dyn)}
    head = 4 + len(cross_names)
    fixture_graph = {
        "encoder": C.fixture(["input_ids", "attention_mask"], [ids, mask], enc_out_names, enc_outs),
        "decoder": C.fixture(in_names, list(dec_args), out_names, dec_outs),
        "decoder_uncached": C.fixture(in_names[:head] + past_names,
                                      [three, torch.arange(3)[None].expand(b, 3).contiguous(),
                                       torch.ones(b, 3, dtype=torch.int64), mask, *cross]
                                      + model.decoder.empty_past(b), ["logits"], [un[0]]),
    }
    return graphs, fixture_graph, gap


def build_g2p(metrics, args):
    C.seed_everything(0)
    splits = G.load_splits()
    G.write_committed(splits, DATA_DIR)
    assert G.read_split_tsv(os.path.join(DATA_DIR, "test.tsv.gz")) == [(w, [tuple(p) for p in r]) for w, r in splits["test"]]
    src_vocab = Vocab(list(G.LETTERS))
    tgt_vocab = Vocab(sorted({p for w, prons in splits["train"] for pr in prons for p in pr}))
    pairs = [(encode_word(src_vocab, w), [tgt_vocab.index[p] for p in pr]) for w, prons in splits["train"] for pr in prons]
    model = GN.Seq2SeqTransformer(len(src_vocab), len(tgt_vocab), G2P_CONFIG["dim"], G2P_CONFIG["heads"],
                                  G2P_CONFIG["enc_layers"], G2P_CONFIG["dec_layers"], G2P_CONFIG["ff"],
                                  max(MAX_SOURCE, MAX_TARGET), G2P_CONFIG["dropout"])
    log(f"[g2p] {len(splits['train'])} train words ({len(pairs)} pronunciations), {len(splits['valid'])} valid, "
        f"{len(splits['test'])} test; vocab {len(src_vocab)} letters / {len(tgt_vocab)} phones; "
        f"{sum(p.numel() for p in model.parameters())} parameters")
    n_ep = 1 if args.quick else int(os.environ.get("G2P_EPOCHS", G2P_TRAIN["n_epochs"]))
    timer = C.Timer()
    train(model, pairs, splits["valid"], src_vocab, tgt_vocab, args, n_ep)
    train_seconds, train_cpu = timer.seconds(), timer.cpu_seconds()
    test = splits["test"][:300] if args.quick else splits["test"]
    words, refs = [w for w, _ in test], [r for _, r in test]
    result = {}
    beam_words = int(os.environ.get("G2P_BEAM_WORDS", "0")) or len(words)  # beam search on the first n test words only
    for mode in ("greedy", "beam"):
        t = C.Timer()
        n = len(words) if mode == "greedy" else beam_words
        preds = decode_all(model, words[:n], src_vocab, tgt_vocab, mode)
        result[mode + "_test_words"] = n
        for stress in (False, True):
            wer, per = G.wer_per(preds, refs[:n], stress=stress)
            key = f"{mode}_{'stress' if stress else 'no_stress'}"
            result[key] = {"wer": round(wer, 4), "per": round(per, 4)}
        log(f"[g2p] test {mode}: {result[mode + '_no_stress']} without stress, {result[mode + '_stress']} with, {t.seconds()}s")
    fixture_words = [w for w, _ in splits["test"][:8]] + FIXTURE_WORDS_EXTRA
    graphs, fixture_graph, gap = export(model, src_vocab, tgt_vocab, fixture_words)
    write_manifest(graphs, src_vocab, tgt_vocab, result, n_ep, len(pairs))
    write_fixture(model, src_vocab, tgt_vocab, fixture_words, fixture_graph, gap)
    metrics["g2p"] = {"test_words": len(test), "decode": {"greedy": "max_new_tokens %d" % MAX_NEW_TOKENS,
                                                          "beam": dict(BEAM)},
                      **result, "epochs": n_ep, "trained": dict(TRAINED), "train_seconds": train_seconds, "train_cpu_seconds": train_cpu,
                      "parameters": sum(p.numel() for p in model.parameters()),
                      "threads": C.THREADS, "stopped_by_time_budget": dict(STOPPED) or None,
                      "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
                      "graphs": [NAME + "-encoder.onnx", NAME + "-decoder.onnx"]}


def write_manifest(graphs, src_vocab, tgt_vocab, result, n_ep, n_pairs):
    enc_in, enc_out = C.tensor_specs(*graphs["encoder"])
    dec_in, dec_out = C.tensor_specs(*graphs["decoder"])
    manifest = {
        "format_version": 1, "name": NAME, "family": "seq2seq-generator", "opset": C.OPSET,
        "architecture": dict(G2P_CONFIG, kind="Transformer encoder-decoder (post-norm, as in the original Transformer)",
                             positional_encoding="sinusoidal", embedding_scale="sqrt(dim)", head_dim=G2P_CONFIG["dim"] // G2P_CONFIG["heads"]),
        "encoder": {"model_file": NAME + "-encoder.onnx", "inputs": enc_in, "outputs": enc_out},
        "decoder": {"model_file": NAME + "-decoder.onnx", "inputs": dec_in, "outputs": dec_out,
                    "layers": G2P_CONFIG["dec_layers"], "heads": G2P_CONFIG["heads"],
                    "head_dim": G2P_CONFIG["dim"] // G2P_CONFIG["heads"], "contract": 2,
                    "cross": {"layout": "[batch, heads, source, head_dim]", "inputs": "cross_key_<i>, cross_value_<i>",
                              "description": "every layer's cross-attention keys and values of the encoder states: "
                                             "outputs of the encoder graph (once per batch), inputs of every step"},
                    "cache": {"layout": "sequence-major [past, batch, heads, head_dim]",
                              "past_inputs": "past_key_<i>, past_value_<i>", "new_outputs": "key_<i>, value_<i>",
                              "description": "the outputs are this step's keys and values only; append them at "
                                             "position past"}},
        "source": {"kind": "characters", "symbols": src_vocab.symbols, "lower_case": True,
                   "append": "</s>", "max_length": MAX_SOURCE,
                   "unknown": "a character outside symbols maps to <unk>"},
        "target": {"kind": "symbols", "symbols": tgt_vocab.symbols, "separator": " ", "max_length": MAX_TARGET},
        "special_tokens": {"pad": "<pad>", "unk": "<unk>", "bos": "<s>", "eos": "</s>"},
        "special_token_ids": {"pad": PAD, "unk": UNK, "bos": BOS, "eos": EOS},
        "generation": {"max_new_tokens": MAX_NEW_TOKENS, "beam_width": BEAM["width"],
                       "length_penalty": BEAM["length_penalty"]},
        "training": {"data": "CMU dictionary 0.4 (Debian festlex-cmu), words split by SHA-256 of the spelling "
                             "(h %% 20 == 0 test, 1 validation, else train): data/g2p; %d training pronunciations" % n_pairs,
                     "targets": "phones with the syllable's stress digit on vowels",
                     "epochs": n_ep, "trained": dict(TRAINED), **{k: v for k, v in G2P_TRAIN.items() if k != "n_epochs"},
                     "optimizer": "AdamW (0.9, 0.98)", "schedule": "linear warm-up, cosine decay (by elapsed time / budget when a time budget is set)",
                     "batches": "length-bucketed (windows of 50 batches sorted by length)", "seed": 0,
                     "threads": C.THREADS, "stopped_by_time_budget": dict(STOPPED) or None},
        "metrics": result,
    }
    C.write_json(os.path.join(C.ROOT, NAME + ".json"), manifest)


def write_fixture(model, src_vocab, tgt_vocab, words, fixture_graph, gap):
    rows = []
    for w in words:
        ids, mask = pad_batch([encode_word(src_vocab, w)])
        g_tok, g_score, g_fin = greedy(model, ids, mask)
        row = {"word": w, "source_ids": encode_word(src_vocab, w),
               "greedy": {"tokens": g_tok[0], "phones": " ".join(tgt_vocab.symbols[t] for t in g_tok[0]),
                          "score": g_score[0], "finished": g_fin[0]}}
        for alpha in (0.0, 1.0):
            nb = beam(model, ids, mask, width=4, alpha=alpha)
            row[f"beam4_alpha{alpha:g}"] = [{"tokens": t, "phones": " ".join(tgt_vocab.symbols[x] for x in t),
                                             "score": s, "finished": f} for t, s, f in nb]
        rows.append(row)
    # batched greedy of all words at once: rows of very different lengths stop on their own
    ids, mask = pad_batch([encode_word(src_vocab, w) for w in words])
    b_tok, b_score, _ = greedy(model, ids, mask)
    C.write_json(os.path.join(C.FIXTURES, NAME + ".json"), dict(
        fixture_graph, words=rows, batched_greedy={"tokens": b_tok, "scores": b_score},
        max_new_tokens=MAX_NEW_TOKENS, cached_vs_uncached_logit_gap=gap,
        note="scores are sums of log-softmax (float64 sums of float32 values); beam4_alpha<a>: width 4, "
             "length penalty a, all 4 finished hypotheses best first (g2p_build.py says the algorithm); "
             "batched_greedy: the words decoded in one batch (padded sources)"))
