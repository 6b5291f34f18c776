#!/usr/bin/python3
"""Trains, exports and describes every graph of models-onnx/ (run through ../build.sh).

    build.py [--only vit,resnet,text,vae,clip,vqvae,glyphs,vae-background,resnet-seen,g2p,lm,gan,cvae] [--quick]

Writes <name>.onnx, <name>.json (manifest), fixtures/<name>.json, data/ and metrics.json into models-onnx/.
--only rebuilds some models and merges their entries into the existing metrics.json.
--quick trains for a few steps only (to test the pipeline; its metrics are meaningless).
"""
import argparse
import json
import math
import os
import sys
import types

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as C  # noqa: E402
import data as D  # noqa: E402
import nets as N  # noqa: E402
import tokenizer as T  # noqa: E402
import vqvae as VQ  # noqa: E402
import gan as GAN  # noqa: E402
import anomaly as A  # noqa: E402
import g2p_build  # noqa: E402
import lm_build  # noqa: E402
import cvae as CV  # noqa: E402

ARGS = None
SUBSET_DIR = os.path.join(C.DATA, "fashion-mnist-subset")
FORTUNES_OUT = os.path.join(C.DATA, "fortunes")
SUBSET_PER_CLASS = 200          # 2,000 images, stratified, from the Fashion-MNIST test set
FORTUNE_CATEGORIES = 8
TEXT_MAX_LEN = 128
CLIP_MAX_LEN = 32
IMAGE_FIXTURE_ROWS = [0, 1, 2, 3]  # subset images used in the image fixtures
VAE_HELD_OUT = 9                # Ankle boot

IMAGE_DYN = {"image": {0: "batch"}, "logits": {0: "batch"}, "embedding": {0: "batch"}}


def log(*a):
    print(*a, flush=True)


def epochs(n):
    return 1 if ARGS.quick else n


def limit(n_batches):
    return 3 if ARGS.quick else n_batches


def image_preprocessing(normalized=True):
    return {"width": 28, "height": 28, "channels": 1, "color": "grey", "resize": "none", "crop": "none",
            "scale": 1.0 / 255.0, "mean": [D.FASHION_MEAN] if normalized else [0.0],
            "std": [D.FASHION_STD] if normalized else [1.0], "layout": "CHW",
            "formula": "x = (pixel * scale - mean[c]) / std[c]"}


# ----------------------------------------------------------------------------- data

class Fashion:
    def __init__(self):
        tr_x, tr_y = D.load_fashion("train")
        te_x, te_y = D.load_fashion("t10k")
        self.train_unit, self.train_y = D.to_unit(tr_x), torch.from_numpy(tr_y)
        self.test_unit, self.test_y = D.to_unit(te_x), torch.from_numpy(te_y)
        idx = D.stratified_indices(te_y, SUBSET_PER_CLASS, seed=2024)
        if not os.path.exists(os.path.join(SUBSET_DIR, "labels.csv")) or not ARGS.only:
            D.write_fashion_subset(te_x, te_y, idx, SUBSET_DIR)
        sub_x, sub_y, self.subset_files = D.read_fashion_subset(SUBSET_DIR)
        assert np.array_equal(sub_x, te_x[idx]) and np.array_equal(sub_y, te_y[idx])
        self.subset_u8 = sub_x
        self.subset_unit, self.subset_y = D.to_unit(sub_x), torch.from_numpy(sub_y)


def augment(x, gen, shift=True):
    """Random horizontal flip per image, and a random shift of up to 2 pixels per group of 16 images."""
    flip = torch.rand(x.shape[0], generator=gen) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    if not shift:
        return x
    padded = F.pad(x, (2, 2, 2, 2))
    out = torch.empty_like(x)
    for s in range(0, x.shape[0], 16):
        dy, dx = torch.randint(0, 5, (2,), generator=gen).tolist()
        out[s:s + 16] = padded[s:s + 16, :, dy:dy + 28, dx:dx + 28]
    return out


def batched(model, x, bs=500):
    outs = []
    with torch.no_grad():
        for s in range(0, x.shape[0], bs):
            o = model(x[s:s + bs])
            outs.append(o if isinstance(o, torch.Tensor) else o[0])
    return torch.cat(outs)


# ----------------------------------------------------------------------------- image classifiers

def train_classifier(model, fashion, n_epochs, peak_lr, weight_decay, batch=128, label_smoothing=0.1, seed=0, shift=True):
    gen = torch.Generator().manual_seed(seed)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and "pos_embed" not in n]
    no_decay = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and "pos_embed" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=peak_lr)
    n = fashion.train_unit.shape[0]
    steps_per_epoch = limit(n // batch)
    total = n_epochs * steps_per_epoch
    step = 0
    x_all = D.normalize(fashion.train_unit)
    for ep in range(n_epochs):
        model.train()
        perm = torch.randperm(n, generator=gen)
        tot_loss = 0.0
        for b in range(steps_per_epoch):
            idx = perm[b * batch:(b + 1) * batch]
            x = augment(x_all[idx], gen, shift)
            logits = model(x)[0]
            loss = F.cross_entropy(logits, fashion.train_y[idx], label_smoothing=label_smoothing)
            C.set_lr(opt, C.cosine_lr(step, total, steps_per_epoch // 2, peak_lr))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            step += 1
            tot_loss += loss.item()
        model.eval()
        acc = accuracy(model, D.normalize(fashion.test_unit), fashion.test_y) if ARGS.verbose else float("nan")
        log(f"  epoch {ep + 1}/{n_epochs} loss {tot_loss / steps_per_epoch:.4f} test acc {acc:.4f}")
    model.eval()


def accuracy(model, x, y):
    return float((batched(model, x).argmax(1) == y).float().mean())


def build_image_classifier(key, name, model, fashion, n_epochs, peak_lr, weight_decay, metrics, architecture, shift=True,
                           labels=None, data_note="Fashion-MNIST train (60,000), Debian dataset-fashion-mnist"):
    C.seed_everything(0)
    log(f"[{key}] training {name}: {sum(p.numel() for p in model.parameters())} parameters")
    timer = C.Timer()
    train_classifier(model, fashion, epochs(n_epochs), peak_lr, weight_decay, shift=shift)
    train_seconds, train_cpu = timer.seconds(), timer.cpu_seconds()
    test_acc = accuracy(model, D.normalize(fashion.test_unit), fashion.test_y)
    subset_acc = accuracy(model, D.normalize(fashion.subset_unit), fashion.subset_y)
    log(f"[{key}] test accuracy {test_acc:.4f}, subset {subset_acc:.4f}, {train_seconds}s")

    path = os.path.join(C.ROOT, name + ".onnx")
    rows = IMAGE_FIXTURE_ROWS
    x = D.normalize(fashion.subset_unit[rows])
    outs, sig = C.export_onnx(model, (x,), path, ["image"], ["logits", "embedding"], IMAGE_DYN)
    ins, outs_spec = C.tensor_specs(sig, IMAGE_DYN)
    manifest = {
        "format_version": 1,
        "name": name,
        "family": "image-classifier",
        "architecture": architecture,
        "model_file": name + ".onnx",
        "opset": C.OPSET,
        "inputs": ins,
        "outputs": outs_spec,
        "roles": {"image": "image", "logits": "logits", "embedding": "embedding"},
        "preprocessing": image_preprocessing(),
        "labels": labels or D.FASHION_CLASSES,
        "embedding_size": int(outs[1].shape[1]),
        "postprocessing": {"logits": "unnormalized class scores; softmax gives probabilities"},
        "training": {"data": data_note,
                     "epochs": epochs(n_epochs), "optimizer": "AdamW", "peak_lr": peak_lr,
                     "weight_decay": weight_decay, "augmentation": "horizontal flip" + (", shift up to 2 px" if shift else ""),
                     "label_smoothing": 0.1, "seed": 0},
        "metrics": {"test_accuracy": round(test_acc, 4), "subset_accuracy": round(subset_acc, 4)},
    }
    C.write_json(os.path.join(C.ROOT, name + ".json"), manifest)
    fx = C.fixture(["image"], [x], ["logits", "embedding"], outs,
                   images=[f"data/fashion-mnist-subset/{fashion.subset_files[i]}" for i in rows],
                   labels=[int(fashion.subset_y[i]) for i in rows],
                   note="inputs.image is the preprocessed tensor of the PNG files in 'images' (models-onnx-relative paths)")
    C.write_json(os.path.join(C.FIXTURES, name + ".json"), fx)
    metrics[key] = {"test_accuracy": round(test_acc, 4), "subset_accuracy": round(subset_acc, 4),
                    "train_seconds": train_seconds, "train_cpu_seconds": train_cpu, "graph": name + ".onnx"}


VIT_CONFIG = dict(patch=7, dim=64, depth=4, heads=4, mlp=128, stem=32)
VIT_TRAIN = dict(n_epochs=12, peak_lr=2e-3, weight_decay=0.05, shift=False)
RESNET_CONFIG = dict(widths=(16, 32, 64), blocks=(1, 1, 1))
RESNET_TRAIN = dict(n_epochs=6, peak_lr=4e-3, weight_decay=5e-4, shift=False)


def build_vit(fashion, metrics):
    C.seed_everything(0)
    model = N.ViT(**VIT_CONFIG)
    build_image_classifier("vit", "vit-fashion", model, fashion, metrics=metrics,
                           architecture=dict(VIT_CONFIG, kind="ViT", variant="hybrid: the patches are cut from a 3x3 conv + GELU "
                                                                         "feature map of `stem` channels",
                                             class_token=True,
                                             position_embeddings="learned", norm="pre-norm"),
                           **VIT_TRAIN)


def build_resnet(fashion, metrics):
    C.seed_everything(0)
    model = N.ResNet(**RESNET_CONFIG)
    build_image_classifier("resnet", "resnet-fashion", model, fashion, metrics=metrics,
                           architecture=dict(kind="ResNet", widths=list(RESNET_CONFIG["widths"]),
                                             blocks=list(RESNET_CONFIG["blocks"])),
                           **RESNET_TRAIN)


def build_resnet_seen(fashion, metrics):
    """The ResNet of build_resnet trained on the 9 classes the VAE saw (Ankle boots held out, as for the VAE): a semantic
    detector of the held-out class (its energy) for the anomaly comparison, fair where the 10-class ViT is not. 2 epochs."""
    held = VAE_HELD_OUT
    assert held == len(D.FASHION_CLASSES) - 1, "the seen classes keep their indices only when the held-out class is the last"
    keep_sub = (fashion.subset_y != held).nonzero().flatten()
    seen = types.SimpleNamespace(
        train_unit=fashion.train_unit[fashion.train_y != held], train_y=fashion.train_y[fashion.train_y != held],
        test_unit=fashion.test_unit[fashion.test_y != held], test_y=fashion.test_y[fashion.test_y != held],
        subset_unit=fashion.subset_unit[keep_sub], subset_y=fashion.subset_y[keep_sub],
        subset_files=[fashion.subset_files[i] for i in keep_sub.tolist()])
    C.seed_everything(0)
    model = N.ResNet(**RESNET_CONFIG, classes=held)
    build_image_classifier("resnet_seen", "resnet-fashion-seen", model, seen, metrics=metrics,
                           architecture=dict(kind="ResNet", widths=list(RESNET_CONFIG["widths"]), blocks=list(RESNET_CONFIG["blocks"])),
                           labels=D.FASHION_CLASSES[:held],
                           data_note=f"Fashion-MNIST train without class {held} ({D.FASHION_CLASSES[held]}): "
                                     f"{int(seen.train_y.shape[0])} images, Debian dataset-fashion-mnist",
                           **dict(RESNET_TRAIN, n_epochs=2))
    metrics["resnet_seen"]["held_out_class"] = held


# ----------------------------------------------------------------------------- text encoder

FIXTURE_TEXTS = [
    "Hello, World! Isn't this a FINE day?",
    "Caf\u00e9 na\u00efve r\u00e9sum\u00e9: \u00c9cole, \u00fcber, se\u00f1or.",
    "The quux-blorfification of xyzzyplugh zorkmids (v2.0) costs $3.50 @ 10:30pm; ok?",
    "",
    "\u6771\u4eac means Tokyo \u2014 \u201cquoted\u201d \u00abtext\u00bb \u2026 and an emoji \U0001F600 here.",
    "Pneumonoultramicroscopicsilicovolcanoconiosis" * 3 + " is longer than one hundred characters.",
]


def long_fixture_text(test_rows):
    """The longest test text (it runs past max_length and is truncated)."""
    return max((t for _, t in test_rows), key=len)


def encode_batch(tok, texts, max_len):
    ids, mask = tok.batch(texts, max_len)
    return torch.tensor(ids, dtype=torch.int64), torch.tensor(mask, dtype=torch.int64)


def text_tokenizer_block(vocab_file, max_len):
    return {"kind": "bert-wordpiece", "vocab_file": vocab_file, "lower_case": True, "strip_accents": True,
            "tokenize_cjk_chars": True, "max_length": max_len, "continuation_prefix": "##",
            "max_chars_per_word": T.MAX_CHARS_PER_WORD,
            "special_tokens": {"pad": "[PAD]", "unk": "[UNK]", "cls": "[CLS]", "sep": "[SEP]", "mask": "[MASK]"},
            "special_token_ids": {"pad": T.PAD, "unk": T.UNK, "cls": T.CLS, "sep": T.SEP, "mask": T.MASK},
            "sequence": "[CLS] pieces [SEP]; pieces truncated to max_length - 2; batch padded with [PAD] "
                        "to its longest row; attention_mask 1 on tokens, 0 on pads"}


def fortunes_split():
    cats = D.fortune_categories(FORTUNE_CATEGORIES)
    train, test = D.load_fortunes(cats, test_fraction=0.2, seed=0)
    return cats, train, test


TEXT_CONFIG = dict(dim=64, heads=4, layers=2, ff=256, max_len=TEXT_MAX_LEN, dropout=0.1)
TEXT_TRAIN = dict(n_epochs=12, peak_lr=1e-3, weight_decay=0.01, batch=32, vocab_size=8000)


def build_text(metrics):
    C.seed_everything(0)
    name = "text-fortunes"
    cats, train, test = fortunes_split()
    D.write_tsv(train, os.path.join(FORTUNES_OUT, "train.tsv"))
    D.write_tsv(test, os.path.join(FORTUNES_OUT, "test.tsv"))
    vocab = T.build_vocab([t for _, t in train], TEXT_TRAIN["vocab_size"])
    tok = T.WordPieceTokenizer(vocab, lower_case=True, max_length=TEXT_MAX_LEN)
    vocab_file = name + ".vocab.txt"
    tok.save(os.path.join(C.ROOT, vocab_file))
    tok = T.WordPieceTokenizer.from_file(os.path.join(C.ROOT, vocab_file), max_length=TEXT_MAX_LEN)
    label_of = {c: i for i, c in enumerate(cats)}
    train_seqs = [(tok.encode(t), label_of[c]) for c, t in train]
    model = N.TransformerTextEncoder(len(vocab), len(cats), **TEXT_CONFIG)
    log(f"[text] {len(train)} train / {len(test)} test texts, {len(cats)} categories {cats}; "
        f"vocab {len(vocab)}; {sum(p.numel() for p in model.parameters())} parameters")

    def run_batch(rows):
        L = max(len(s) for s, _ in rows)
        ids = torch.tensor([s + [T.PAD] * (L - len(s)) for s, _ in rows])
        mask = torch.tensor([[1] * len(s) + [0] * (L - len(s)) for s, _ in rows])
        return model(ids, mask)[2], torch.tensor([y for _, y in rows])

    def evaluate(rows):
        model.eval()
        rows = [(tok.encode(t), label_of[c]) for c, t in rows]
        order = sorted(range(len(rows)), key=lambda i: len(rows[i][0]))
        pred = [0] * len(rows)
        with torch.no_grad():
            for s in range(0, len(rows), 64):
                chunk = order[s:s + 64]
                logits, _ = run_batch([rows[i] for i in chunk])
                for i, p_ in zip(chunk, logits.argmax(1).tolist()):
                    pred[i] = p_
        return float(np.mean([p_ == y for p_, (_, y) in zip(pred, rows)]))

    timer = C.Timer()
    gen = torch.Generator().manual_seed(0)
    decay = [p_ for n, p_ in model.named_parameters() if p_.dim() >= 2]
    no_decay = [p_ for n, p_ in model.named_parameters() if p_.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": TEXT_TRAIN["weight_decay"]},
                             {"params": no_decay, "weight_decay": 0.0}], lr=TEXT_TRAIN["peak_lr"])
    bs = TEXT_TRAIN["batch"]
    n_ep = epochs(TEXT_TRAIN["n_epochs"])
    steps_per_epoch = limit(math.ceil(len(train_seqs) / bs))
    total, step = n_ep * steps_per_epoch, 0
    for ep in range(n_ep):
        model.train()
        # batches of similar length: sort a shuffled order in windows of 50 batches, then shuffle the batches
        perm = torch.randperm(len(train_seqs), generator=gen).tolist()
        batches = []
        for w in range(0, len(perm), bs * 50):
            window = sorted(perm[w:w + bs * 50], key=lambda i: len(train_seqs[i][0]))
            batches += [window[k:k + bs] for k in range(0, len(window), bs)]
        batches = [batches[i] for i in torch.randperm(len(batches), generator=gen).tolist()][:steps_per_epoch]
        tot = 0.0
        for b in batches:
            logits, y = run_batch([train_seqs[i] for i in b])
            loss = F.cross_entropy(logits, y, label_smoothing=0.1)
            C.set_lr(opt, C.cosine_lr(step, total, steps_per_epoch, TEXT_TRAIN["peak_lr"]))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            step += 1
            tot += loss.item()
        acc = evaluate(test) if (ARGS.verbose or ep == n_ep - 1) else float("nan")
        log(f"  epoch {ep + 1}/{n_ep} loss {tot / len(batches):.4f} test acc {acc:.4f}")
    train_seconds, train_cpu = timer.seconds(), timer.cpu_seconds()
    model.eval()
    test_acc = evaluate(test)
    subset = D.read_tsv(os.path.join(FORTUNES_OUT, "test.tsv"))
    subset_acc = evaluate(subset)
    majority = max(sum(1 for c, _ in test if c == k) for k in cats) / len(test)
    log(f"[text] test accuracy {test_acc:.4f} (majority class {majority:.4f}), {train_seconds}s")

    texts = FIXTURE_TEXTS + [test[0][1], long_fixture_text(test)]
    ids, mask = encode_batch(tok, texts, TEXT_MAX_LEN)
    dyn = {"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"},
           "last_hidden_state": {0: "batch", 1: "sequence"}, "pooled": {0: "batch"}, "logits": {0: "batch"}}
    out_names = ["last_hidden_state", "pooled", "logits"]
    outs, sig = C.export_onnx(model, (ids, mask), os.path.join(C.ROOT, name + ".onnx"),
                              ["input_ids", "attention_mask"], out_names, dyn)
    ins, outs_spec = C.tensor_specs(sig, dyn)
    manifest = {
        "format_version": 1, "name": name, "family": "text-encoder",
        "architecture": dict(TEXT_CONFIG, kind="Transformer encoder (post-norm, as in the original Transformer)",
                             positional_encoding="sinusoidal", embedding_scale="sqrt(dim)"),
        "model_file": name + ".onnx", "opset": C.OPSET, "inputs": ins, "outputs": outs_spec,
        "roles": {"input_ids": "input_ids", "attention_mask": "attention_mask",
                  "last_hidden_state": "last_hidden_state", "pooled": "pooled", "logits": "logits"},
        "tokenizer": text_tokenizer_block(vocab_file, TEXT_MAX_LEN),
        "pooling": {"kind": "masked-mean", "output": "pooled",
                    "description": "mean of last_hidden_state over the positions where attention_mask is 1 "
                                   "([CLS] and [SEP] included); logits = pooled W + b"},
        "embedding_size": TEXT_CONFIG["dim"],
        "labels": cats,
        "training": {"data": "Debian fortunes, the %d largest categories, de-duplicated (a text found in two "
                             "categories dropped), 80/20 stratified split (seed 0): data/fortunes/train.tsv, test.tsv"
                             % len(cats),
                     "epochs": n_ep, "optimizer": "AdamW", "peak_lr": TEXT_TRAIN["peak_lr"],
                     "batch": bs, "label_smoothing": 0.1, "seed": 0},
        "metrics": {"test_accuracy": round(test_acc, 4), "majority_class_accuracy": round(majority, 4)},
    }
    C.write_json(os.path.join(C.ROOT, name + ".json"), manifest)
    fx = C.fixture(["input_ids", "attention_mask"], [ids, mask], out_names, outs,
                   texts=texts, token_ids=[tok.encode(t) for t in texts],
                   tokens=[[tok.tokens[i] for i in tok.encode(t)] for t in texts],
                   note="token_ids: [CLS] pieces [SEP] per text (truncated to max_length); inputs are the batch "
                        "padded to its longest row")
    C.write_json(os.path.join(C.FIXTURES, name + ".json"), fx)
    metrics["text"] = {"test_accuracy": round(test_acc, 4), "subset_accuracy": round(subset_acc, 4),
                       "majority_class_accuracy": round(majority, 4), "categories": cats,
                       "train_texts": len(train), "test_texts": len(test),
                       "train_seconds": train_seconds, "train_cpu_seconds": train_cpu, "graph": name + ".onnx"}


# ----------------------------------------------------------------------------- VAE

VAE_LATENT = 16
VAE_TRAIN = dict(n_epochs=10, peak_lr=2e-3, batch=128)


def roc_auc(scores, positive):
    """Area under the ROC curve (probability that a positive scores above a negative, ties count 1/2)."""
    scores = np.asarray(scores, dtype=np.float64)
    positive = np.asarray(positive, dtype=bool)
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    s_sorted = scores[order]
    i = 0
    while i < len(scores):  # average ranks of ties
        j = i
        while j + 1 < len(scores) and s_sorted[j + 1] == s_sorted[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    n_pos, n_neg = positive.sum(), (~positive).sum()
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def vae_neg_elbo(enc, dec, x, eps_gen=None):
    """Per image -ELBO (nats), one sample z = mean + exp(logvar/2) eps; eps = 0 when eps_gen is None."""
    out = []
    with torch.no_grad():
        for s in range(0, x.shape[0], 500):
            xb = x[s:s + 500]
            mean, logvar = enc(xb)
            eps = torch.randn(mean.shape, generator=eps_gen) if eps_gen is not None else torch.zeros_like(mean)
            out.append(N.negative_elbo(xb, dec(N.reparameterize(mean, logvar, eps)), mean, logvar))
    return torch.cat(out)


def build_vae(fashion, metrics):
    C.seed_everything(0)
    enc, dec = N.VaeEncoder(VAE_LATENT), N.VaeDecoder(VAE_LATENT)
    held = VAE_HELD_OUT
    keep = fashion.train_y != held
    x_train = fashion.train_unit[keep]
    log(f"[vae] held-out class {held} ({D.FASHION_CLASSES[held]}); training on {x_train.shape[0]} images; "
        f"{sum(p.numel() for p in list(enc.parameters()) + list(dec.parameters()))} parameters")
    params = list(enc.parameters()) + list(dec.parameters())
    opt = torch.optim.Adam(params, lr=VAE_TRAIN["peak_lr"])
    gen = torch.Generator().manual_seed(0)
    bs = VAE_TRAIN["batch"]
    n_ep = epochs(VAE_TRAIN["n_epochs"])
    steps_per_epoch = limit(x_train.shape[0] // bs)
    total, step = n_ep * steps_per_epoch, 0
    seen_test = fashion.test_y != held
    timer = C.Timer()
    for ep in range(n_ep):
        enc.train()
        dec.train()
        perm = torch.randperm(x_train.shape[0], generator=gen)
        tot = 0.0
        for b in range(steps_per_epoch):
            x = x_train[perm[b * bs:(b + 1) * bs]]
            mean, logvar = enc(x)
            z = N.reparameterize(mean, logvar, torch.randn(mean.shape, generator=gen))
            loss = N.negative_elbo(x, dec(z), mean, logvar).mean()
            C.set_lr(opt, C.cosine_lr(step, total, steps_per_epoch // 4, VAE_TRAIN["peak_lr"]))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            tot += loss.item()
        log(f"  epoch {ep + 1}/{n_ep} train -ELBO {tot / steps_per_epoch:.2f} nats")
    train_seconds, train_cpu = timer.seconds(), timer.cpu_seconds()
    enc.eval()
    dec.eval()

    def elbo_stats(x, y, at_mean):
        neg = vae_neg_elbo(enc, dec, x, None if at_mean else torch.Generator().manual_seed(123))
        is_held = (y == held)
        return (-float(neg[~is_held].mean()), -float(neg[is_held].mean()),
                roc_auc(neg.numpy(), is_held.numpy()))

    t_seen, t_held, t_auc = elbo_stats(fashion.test_unit, fashion.test_y, False)
    s_seen, s_held, s_auc = elbo_stats(fashion.subset_unit, fashion.subset_y, False)
    m_seen, m_held, m_auc = elbo_stats(fashion.subset_unit, fashion.subset_y, True)
    log(f"[vae] test ELBO seen {t_seen:.2f}, held-out {t_held:.2f} nats/image, AUC {t_auc:.4f}; "
        f"subset {s_seen:.2f} / {s_held:.2f}, AUC {s_auc:.4f}; {train_seconds}s")

    rows = IMAGE_FIXTURE_ROWS + [int(np.flatnonzero(fashion.subset_y.numpy() == held)[0])]
    x = fashion.subset_unit[rows]
    held_block = {"index": held, "name": D.FASHION_CLASSES[held]}
    likelihood = {"kind": "bernoulli", "decoder_output": "logits", "output_is": "logits",
                  "probabilities": "sigmoid(logits)", "data_range": [0.0, 1.0],
                  "nll": "sum over pixels of softplus(logits) - x * logits (binary cross-entropy with logits)"}
    enc_dyn = {"image": {0: "batch"}, "mean": {0: "batch"}, "logvar": {0: "batch"}}
    enc_outs, enc_sig = C.export_onnx(enc, (x,), os.path.join(C.ROOT, "vae-fashion-encoder.onnx"),
                                      ["image"], ["mean", "logvar"], enc_dyn)
    eps = torch.randn(enc_outs[0].shape, generator=torch.Generator().manual_seed(7))
    z = N.reparameterize(enc_outs[0], enc_outs[1], eps)
    dec_dyn = {"z": {0: "batch"}, "logits": {0: "batch"}}
    dec_outs, dec_sig = C.export_onnx(dec, (z,), os.path.join(C.ROOT, "vae-fashion-decoder.onnx"),
                                      ["z"], ["logits"], dec_dyn)
    with torch.no_grad():
        neg = N.negative_elbo(x, dec_outs[0], enc_outs[0], enc_outs[1])
        neg0 = N.negative_elbo(x, dec(enc_outs[0]), enc_outs[0], enc_outs[1])
    common = {
        "format_version": 1, "opset": C.OPSET, "latent_size": VAE_LATENT, "likelihood": likelihood,
        "held_out_class": held_block, "labels": D.FASHION_CLASSES,
        "reparameterization": "z = mean + exp(logvar / 2) * eps, eps ~ N(0, I)",
        "elbo": "ELBO = log p(x|z) - KL(N(mean, exp(logvar)) || N(0, I)), KL = -1/2 sum(1 + logvar - mean^2 - exp(logvar)); "
                "in nats per image",
        "training": {"data": "Fashion-MNIST train without class %d (%s): %d images" % (held, D.FASHION_CLASSES[held], x_train.shape[0]),
                     "epochs": n_ep, "optimizer": "Adam", "peak_lr": VAE_TRAIN["peak_lr"], "batch": bs, "seed": 0,
                     "loss": "negative ELBO, one sample per image"},
        "metrics": {"test_elbo_seen": round(t_seen, 2), "test_elbo_heldout": round(t_held, 2), "test_auc": round(t_auc, 4)},
    }
    ins, outs_spec = C.tensor_specs(enc_sig, enc_dyn)
    C.write_json(os.path.join(C.ROOT, "vae-fashion-encoder.json"), dict(
        {"name": "vae-fashion-encoder", "family": "vae-encoder", "model_file": "vae-fashion-encoder.onnx",
         "decoder": "vae-fashion-decoder.json", "inputs": ins, "outputs": outs_spec,
         "roles": {"image": "image", "mean": "mean", "logvar": "logvar"},
         "preprocessing": image_preprocessing(normalized=False)}, **common))
    ins, outs_spec = C.tensor_specs(dec_sig, dec_dyn)
    C.write_json(os.path.join(C.ROOT, "vae-fashion-decoder.json"), dict(
        {"name": "vae-fashion-decoder", "family": "vae-decoder", "model_file": "vae-fashion-decoder.onnx",
         "encoder": "vae-fashion-encoder.json", "inputs": ins, "outputs": outs_spec,
         "roles": {"z": "z", "logits": "logits"},
         "output_image": {"width": 28, "height": 28, "channels": 1, "layout": "CHW",
                          "pixel": "sigmoid(logits) in [0, 1]; times 255 for 8-bit"}}, **common))
    files = [f"data/fashion-mnist-subset/{fashion.subset_files[i]}" for i in rows]
    labels = [int(fashion.subset_y[i]) for i in rows]
    C.write_json(os.path.join(C.FIXTURES, "vae-fashion-encoder.json"), C.fixture(
        ["image"], [x], ["mean", "logvar"], enc_outs, images=files, labels=labels,
        eps=C.tensor_json(eps), z=C.tensor_json(z), neg_elbo=C.tensor_json(neg), neg_elbo_at_mean=C.tensor_json(neg0),
        note="image = PNG / 255 (no mean/std). z = mean + exp(logvar/2) * eps; neg_elbo = -ELBO (nats) of each "
             "image with that z; neg_elbo_at_mean uses eps = 0. The last row is of the held-out class."))
    C.write_json(os.path.join(C.FIXTURES, "vae-fashion-decoder.json"), C.fixture(
        ["z"], [z], ["logits"], dec_outs, eps=C.tensor_json(eps), images=files, labels=labels,
        note="z is the encoder fixture's mean + exp(logvar/2) * eps for the images listed"))
    metrics["vae"] = {"held_out_class": held, "held_out_class_name": D.FASHION_CLASSES[held],
                      "test_elbo_seen": round(t_seen, 2), "test_elbo_heldout": round(t_held, 2),
                      "test_auc": round(t_auc, 4),
                      "subset_elbo_seen": round(s_seen, 2), "subset_elbo_heldout": round(s_held, 2),
                      "subset_auc": round(s_auc, 4),
                      "subset_elbo_seen_at_mean": round(m_seen, 2), "subset_elbo_heldout_at_mean": round(m_held, 2),
                      "subset_auc_at_mean": round(m_auc, 4),
                      "estimator": "ELBO in nats per image (higher is better), one sample of eps per image "
                                   "(torch.Generator seed 123, batches of 500); *_at_mean: eps = 0, deterministic. "
                                   "AUC: anomaly score -ELBO, held-out class positive",
                      "latent_size": VAE_LATENT, "train_seconds": train_seconds, "train_cpu_seconds": train_cpu,
                      "graphs": ["vae-fashion-encoder.onnx", "vae-fashion-decoder.onnx"]}


# ----------------------------------------------------------------------------- CLIP

CLIP_TRAIN_TEMPLATES = ["a photo of a {}.", "a picture of a {}.", "an image of a {}.", "this is a {}.",
                        "a small photo of the {}.", "a grayscale photo of a {}.", "a low resolution image of the {}."]
CLIP_ZERO_SHOT_TEMPLATES = ["a blurry photo of a {}.", "a close-up photo of the {}.",
                            "a black and white picture of a {}.", "an item of clothing: a {}."]
CLIP_CLASS_NAMES = ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle boot"]
CLIP_EMBED = 64
CLIP_CNN = dict(width=16)
CLIP_TEXT = dict(dim=64, heads=4, layers=2, mlp=128, max_len=CLIP_MAX_LEN)
CLIP_TRAIN = dict(n_epochs=8, peak_lr=2e-3, weight_decay=0.05, batch=256, vocab_size=4000, filler_prob=0.5)


def build_clip(fashion, metrics):
    C.seed_everything(0)
    _, train_texts, _ = fortunes_split()
    captions = [t.format(c) for t in CLIP_TRAIN_TEMPLATES for c in CLIP_CLASS_NAMES]
    vocab = T.build_vocab([t for _, t in train_texts], CLIP_TRAIN["vocab_size"], extra_words=captions)
    tok = T.WordPieceTokenizer(vocab, lower_case=True, max_length=CLIP_MAX_LEN)
    vocab_file = "clip-fashion-text.vocab.txt"
    tok.save(os.path.join(C.ROOT, vocab_file))
    tok = T.WordPieceTokenizer.from_file(os.path.join(C.ROOT, vocab_file), max_length=CLIP_MAX_LEN)
    for t in captions:
        assert T.UNK not in tok.encode(t), t
    image_tower = N.ClipImageTower(CLIP_EMBED, **CLIP_CNN)
    text_tower = N.ClipTextTower(len(vocab), embed=CLIP_EMBED, **CLIP_TEXT)
    log_logit_scale = torch.nn.Parameter(torch.tensor(N.LOGIT_SCALE_INIT))
    log(f"[clip] {len(captions)} training captions, vocab {len(vocab)}; image tower "
        f"{sum(p.numel() for p in image_tower.parameters())}, text tower {sum(p.numel() for p in text_tower.parameters())} parameters")

    # captions of (template, class) pre-tokenized; fillers: random vocabulary words inserted during training so
    # that the text tower learns to ignore words it has not seen in a template
    cap_ids = [[tok.encode(t.format(c)) for c in CLIP_CLASS_NAMES] for t in CLIP_TRAIN_TEMPLATES]
    filler_ids = [i for i, w in enumerate(tok.tokens) if i >= 5 and w.isalpha() and len(w) > 2]
    x_all = D.normalize(fashion.train_unit)
    y_all = fashion.train_y
    gen = torch.Generator().manual_seed(0)
    towers = torch.nn.ModuleList([image_tower, text_tower])
    decay = [p for n, p in towers.named_parameters() if p.dim() >= 2 and "pos_embed" not in n]
    no_decay = [p for n, p in towers.named_parameters() if not (p.dim() >= 2 and "pos_embed" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": CLIP_TRAIN["weight_decay"]},
                             {"params": no_decay + [log_logit_scale], "weight_decay": 0.0}], lr=CLIP_TRAIN["peak_lr"])
    bs = CLIP_TRAIN["batch"]
    n_ep = epochs(CLIP_TRAIN["n_epochs"])
    steps_per_epoch = limit(x_all.shape[0] // bs)
    total, step = n_ep * steps_per_epoch, 0

    def caption_batch(labels):
        seqs = []
        for y in labels.tolist():
            t = int(torch.randint(len(CLIP_TRAIN_TEMPLATES), (1,), generator=gen))
            s = list(cap_ids[t][y])
            if float(torch.rand(1, generator=gen)) < CLIP_TRAIN["filler_prob"]:
                pos = int(torch.randint(1, len(s), (1,), generator=gen))
                s.insert(pos, filler_ids[int(torch.randint(len(filler_ids), (1,), generator=gen))])
            seqs.append(s[:CLIP_MAX_LEN - 1] + [T.SEP] if len(s) > CLIP_MAX_LEN else s)
        L = max(len(s) for s in seqs)
        ids = torch.tensor([s + [T.PAD] * (L - len(s)) for s in seqs])
        mask = torch.tensor([[1] * len(s) + [0] * (L - len(s)) for s in seqs])
        return ids, mask

    def zero_shot(x, y, templates):
        towers.eval()
        with torch.no_grad():
            class_emb = []
            for c in CLIP_CLASS_NAMES:
                ids, mask = encode_batch(tok, [t.format(c) for t in templates], CLIP_MAX_LEN)
                class_emb.append(F.normalize(text_tower(ids, mask).mean(0), dim=-1))
            class_emb = torch.stack(class_emb)
            img = torch.cat([image_tower(x[s:s + 500]) for s in range(0, x.shape[0], 500)])
            return float(((img @ class_emb.t()).argmax(1) == y).float().mean()), class_emb

    timer = C.Timer()
    for ep in range(n_ep):
        towers.train()
        perm = torch.randperm(x_all.shape[0], generator=gen)
        tot = 0.0
        for b in range(steps_per_epoch):
            idx = perm[b * bs:(b + 1) * bs]
            x = augment(x_all[idx], gen)
            ids, mask = caption_batch(y_all[idx])
            loss = N.clip_loss(image_tower(x), text_tower(ids, mask), log_logit_scale)
            C.set_lr(opt, C.cosine_lr(step, total, steps_per_epoch // 2, CLIP_TRAIN["peak_lr"]))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(towers.parameters(), 1.0)
            opt.step()
            with torch.no_grad():
                log_logit_scale.clamp_(max=N.LOGIT_SCALE_MAX)
            step += 1
            tot += loss.item()
        msg = ""
        if ARGS.verbose:
            acc, _ = zero_shot(D.normalize(fashion.test_unit), fashion.test_y, CLIP_ZERO_SHOT_TEMPLATES)
            msg = f" zero-shot {acc:.4f}"
        log(f"  epoch {ep + 1}/{n_ep} loss {tot / steps_per_epoch:.4f} logit scale {math.exp(float(log_logit_scale)):.2f}{msg}")
    train_seconds, train_cpu = timer.seconds(), timer.cpu_seconds()
    towers.eval()
    zs_test, _ = zero_shot(D.normalize(fashion.test_unit), fashion.test_y, CLIP_ZERO_SHOT_TEMPLATES)
    zs_train_tpl, _ = zero_shot(D.normalize(fashion.test_unit), fashion.test_y, CLIP_TRAIN_TEMPLATES)
    zs_subset, class_emb = zero_shot(D.normalize(fashion.subset_unit), fashion.subset_y, CLIP_ZERO_SHOT_TEMPLATES)
    log_scale = float(log_logit_scale.detach().clamp(max=N.LOGIT_SCALE_MAX))
    scale = math.exp(log_scale)
    log(f"[clip] zero-shot accuracy {zs_test:.4f} (held-out templates), {zs_train_tpl:.4f} (training templates), "
        f"subset {zs_subset:.4f}; logit scale {scale:.3f}; {train_seconds}s")

    rows = IMAGE_FIXTURE_ROWS
    x = D.normalize(fashion.subset_unit[rows])
    img_dyn = {"image": {0: "batch"}, "image_embeds": {0: "batch"}}
    img_outs, img_sig = C.export_onnx(image_tower, (x,), os.path.join(C.ROOT, "clip-fashion-image.onnx"),
                                      ["image"], ["image_embeds"], img_dyn)
    texts = ([t.format(c) for t, c in zip(CLIP_ZERO_SHOT_TEMPLATES, CLIP_CLASS_NAMES)]
             + ["A PHOTO of an Ankle-Boot!", "", "Caf\u00e9 su\u00e9de sn\u00e9aker, size 42\u00bd \u6771\u4eac",
                "a photo of a " + " and a ".join(CLIP_CLASS_NAMES) + " and " + "very " * 20 + "many more things."])
    ids, mask = encode_batch(tok, texts, CLIP_MAX_LEN)
    txt_dyn = {"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"},
               "text_embeds": {0: "batch"}}
    txt_outs, txt_sig = C.export_onnx(text_tower, (ids, mask), os.path.join(C.ROOT, "clip-fashion-text.onnx"),
                                      ["input_ids", "attention_mask"], ["text_embeds"], txt_dyn)
    with torch.no_grad():
        sim = scale * img_outs[0] @ txt_outs[0].t()
    common = {
        "format_version": 1, "opset": C.OPSET, "embedding_size": CLIP_EMBED,
        "logit_scale": scale, "log_logit_scale": log_scale, "logit_scale_max": 100.0,
        "similarity": "logits_per_image = logit_scale * image_embeds . text_embeds (both L2-normalized)",
        "labels": D.FASHION_CLASSES, "class_names": CLIP_CLASS_NAMES,
        "train_templates": CLIP_TRAIN_TEMPLATES, "zero_shot_templates": CLIP_ZERO_SHOT_TEMPLATES,
        "zero_shot": "class embedding = L2-normalized mean of the text embeddings of its zero_shot_templates "
                     "filled with class_names; predict the class of highest cosine similarity",
        "training": {"data": "Fashion-MNIST train (60,000) with captions train_templates x class_names "
                             "(a random template per image and step; half of the captions get one random vocabulary "
                             "word inserted)", "epochs": n_ep, "batch": bs, "optimizer": "AdamW",
                     "peak_lr": CLIP_TRAIN["peak_lr"], "seed": 0,
                     "loss": "symmetric cross-entropy over in-batch pairs, (loss_image + loss_text) / 2",
                     "logit_scale_init": "exp(ln(1/0.07))"},
        "metrics": {"zero_shot_accuracy": round(zs_test, 4), "zero_shot_accuracy_train_templates": round(zs_train_tpl, 4)},
    }
    ins, outs_spec = C.tensor_specs(img_sig, img_dyn)
    C.write_json(os.path.join(C.ROOT, "clip-fashion-image.json"), dict(
        {"name": "clip-fashion-image", "family": "clip-image", "model_file": "clip-fashion-image.onnx",
         "text_tower": "clip-fashion-text.json", "inputs": ins, "outputs": outs_spec,
         "roles": {"image": "image", "image_embeds": "embedding"},
         "architecture": dict(CLIP_CNN, kind="CNN (conv-BN-ReLU x4, max pooling, global average pooling) + linear projection + L2 normalization"),
         "preprocessing": image_preprocessing()}, **common))
    ins, outs_spec = C.tensor_specs(txt_sig, txt_dyn)
    C.write_json(os.path.join(C.ROOT, "clip-fashion-text.json"), dict(
        {"name": "clip-fashion-text", "family": "clip-text", "model_file": "clip-fashion-text.onnx",
         "image_tower": "clip-fashion-image.json", "inputs": ins, "outputs": outs_spec,
         "roles": {"input_ids": "input_ids", "attention_mask": "attention_mask", "text_embeds": "embedding"},
         "architecture": dict(CLIP_TEXT, kind="pre-norm Transformer, causal attention, learned positions, "
                                               "+ linear projection + L2 normalization"),
         "tokenizer": text_tokenizer_block(vocab_file, CLIP_MAX_LEN),
         "pooling": {"kind": "end-of-text", "token": "[SEP]",
                     "description": "the final LayerNorm's output at the last non-pad position "
                                    "(index sum(attention_mask) - 1), as CLIP pools at its end-of-text token"}},
        **common))
    files = [f"data/fashion-mnist-subset/{fashion.subset_files[i]}" for i in rows]
    C.write_json(os.path.join(C.FIXTURES, "clip-fashion-image.json"), C.fixture(
        ["image"], [x], ["image_embeds"], img_outs, images=files, labels=[int(fashion.subset_y[i]) for i in rows],
        logits_per_image=C.tensor_json(sim), logit_scale=scale,
        note="logits_per_image = logit_scale * image_embeds @ text_embeds^T with the text fixture's text_embeds"))
    C.write_json(os.path.join(C.FIXTURES, "clip-fashion-text.json"), C.fixture(
        ["input_ids", "attention_mask"], [ids, mask], ["text_embeds"], txt_outs,
        texts=texts, token_ids=[tok.encode(t) for t in texts], tokens=[[tok.tokens[i] for i in tok.encode(t)] for t in texts],
        zero_shot_class_embeds=C.tensor_json(class_emb),
        note="token_ids: [CLS] pieces [SEP] per text (truncated to max_length 32); zero_shot_class_embeds: one row per "
             "class (labels order), from zero_shot_templates"))
    metrics["clip"] = {"zero_shot_accuracy": round(zs_test, 4),
                       "zero_shot_accuracy_train_templates": round(zs_train_tpl, 4),
                       "subset_zero_shot_accuracy": round(zs_subset, 4),
                       "logit_scale": scale, "log_logit_scale": log_scale, "embedding_size": CLIP_EMBED,
                       "train_seconds": train_seconds, "train_cpu_seconds": train_cpu,
                       "graphs": ["clip-fashion-image.onnx", "clip-fashion-text.onnx"]}


# ----------------------------------------------------------------------------- main

def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--only", default="")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--verbose", action="store_true", help="evaluate on the test set after every epoch")
    ARGS = p.parse_args()
    todo = [s for s in (ARGS.only.split(",") if ARGS.only else ["clip", "vit", "resnet", "vae", "text", "vqvae", "glyphs", "vae-background", "resnet-seen", "gan", "cvae", "g2p", "lm"]) if s]
    C.seed_everything(0)
    metrics_path = os.path.join(C.ROOT, "metrics.json")
    metrics = {}
    if ARGS.only and os.path.exists(metrics_path):
        with open(metrics_path) as f:
            metrics = json.load(f)
    total = C.Timer()
    fashion = Fashion() if any(k in todo for k in ("vit", "resnet", "vae", "clip", "vqvae", "vae-background", "gan", "cvae", "resnet-seen")) else None
    steps = {"vit": lambda: build_vit(fashion, metrics), "resnet": lambda: build_resnet(fashion, metrics),
             "text": lambda: build_text(metrics), "vae": lambda: build_vae(fashion, metrics),
             "clip": lambda: build_clip(fashion, metrics),
             "vqvae": lambda: VQ.build_vqvae(fashion, metrics, ARGS.quick, log),
             "glyphs": lambda: A.render_glyphs(),
             "vae-background": lambda: A.build_vae_background(fashion, metrics, ARGS.quick),
             "resnet-seen": lambda: build_resnet_seen(fashion, metrics),
             "gan": lambda: GAN.build_gan(fashion, metrics, ARGS.quick, log),
             "cvae": lambda: CV.build_cvae(fashion, metrics, ARGS.quick, log),
             "g2p": lambda: g2p_build.build_g2p(metrics, ARGS),
             "lm": lambda: lm_build.build_lm(metrics, ARGS)}
    for key in todo:
        steps[key]()
        C.write_json(metrics_path, metrics)
    metrics["build"] = {"torch": torch.__version__, "threads": C.THREADS, "quick": ARGS.quick,
                        "last_run_seconds": total.seconds(), "last_run_cpu_seconds": total.cpu_seconds(),
                        "last_run_models": todo, "load_average_at_end": [round(x, 2) for x in os.getloadavg()]}
    C.write_json(metrics_path, metrics)
    log(f"done in {total.seconds()}s")


if __name__ == "__main__":
    main()
