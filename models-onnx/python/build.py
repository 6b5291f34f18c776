#!/usr/bin/python3
"""Trains, exports and describes every graph of models-onnx/ (run through ../build.sh).

    build.py [--only vit,resnet,text,vae,clip] [--quick]

Writes <name>.onnx, <name>.json (manifest), fixtures/<name>.json, data/ and metrics.json into models-onnx/.
--only rebuilds some models and merges their entries into the existing metrics.json.
--quick trains for a few steps only (to test the pipeline; its metrics are meaningless).
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as C  # noqa: E402
import data as D  # noqa: E402
import nets as N  # noqa: E402
import tokenizer as T  # noqa: E402

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


def augment(x, gen):
    """Random horizontal flip per image, and a random shift of up to 2 pixels per group of 16 images."""
    flip = torch.rand(x.shape[0], generator=gen) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
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

def train_classifier(model, fashion, n_epochs, peak_lr, weight_decay, batch=128, label_smoothing=0.1, seed=0):
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
            x = augment(x_all[idx], gen)
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
        acc = accuracy(model, D.normalize(fashion.test_unit), fashion.test_y) if (ep == n_epochs - 1 or ARGS.verbose) else float("nan")
        log(f"  epoch {ep + 1}/{n_epochs} loss {tot_loss / steps_per_epoch:.4f} test acc {acc:.4f}")
    model.eval()


def accuracy(model, x, y):
    return float((batched(model, x).argmax(1) == y).float().mean())


def build_image_classifier(key, name, model, fashion, n_epochs, peak_lr, weight_decay, metrics, architecture):
    C.seed_everything(0)
    log(f"[{key}] training {name}: {sum(p.numel() for p in model.parameters())} parameters")
    timer = C.Timer()
    train_classifier(model, fashion, epochs(n_epochs), peak_lr, weight_decay)
    train_seconds = timer.seconds()
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
        "labels": D.FASHION_CLASSES,
        "embedding_size": int(outs[1].shape[1]),
        "postprocessing": {"logits": "unnormalized class scores; softmax gives probabilities"},
        "training": {"data": "Fashion-MNIST train (60,000), Debian dataset-fashion-mnist",
                     "epochs": epochs(n_epochs), "optimizer": "AdamW", "peak_lr": peak_lr,
                     "weight_decay": weight_decay, "augmentation": "horizontal flip, shift up to 2 px",
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
                    "train_seconds": train_seconds, "graph": name + ".onnx"}


VIT_CONFIG = dict(patch=7, dim=64, depth=4, heads=4, mlp=128)
VIT_TRAIN = dict(n_epochs=15, peak_lr=2e-3, weight_decay=0.05)
RESNET_CONFIG = dict(widths=(16, 32, 64), blocks=(1, 1, 1))
RESNET_TRAIN = dict(n_epochs=6, peak_lr=4e-3, weight_decay=5e-4)


def build_vit(fashion, metrics):
    C.seed_everything(0)
    model = N.ViT(**VIT_CONFIG)
    build_image_classifier("vit", "vit-fashion", model, fashion, metrics=metrics,
                           architecture=dict(VIT_CONFIG, kind="ViT", class_token=True,
                                             position_embeddings="learned", norm="pre-norm"),
                           **VIT_TRAIN)


def build_resnet(fashion, metrics):
    C.seed_everything(0)
    model = N.ResNet(**RESNET_CONFIG)
    build_image_classifier("resnet", "resnet-fashion", model, fashion, metrics=metrics,
                           architecture=dict(kind="ResNet", widths=list(RESNET_CONFIG["widths"]),
                                             blocks=list(RESNET_CONFIG["blocks"])),
                           **RESNET_TRAIN)


# ----------------------------------------------------------------------------- main

def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--only", default="")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--verbose", action="store_true", help="evaluate on the test set after every epoch")
    ARGS = p.parse_args()
    todo = [s for s in (ARGS.only.split(",") if ARGS.only else ["vit", "resnet", "text", "vae", "clip"]) if s]
    C.seed_everything(0)
    metrics_path = os.path.join(C.ROOT, "metrics.json")
    metrics = {}
    if ARGS.only and os.path.exists(metrics_path):
        with open(metrics_path) as f:
            metrics = json.load(f)
    total = C.Timer()
    fashion = Fashion() if any(k in todo for k in ("vit", "resnet", "vae", "clip")) else None
    steps = {"vit": lambda: build_vit(fashion, metrics), "resnet": lambda: build_resnet(fashion, metrics)}
    for key in todo:
        steps[key]()
        C.write_json(metrics_path, metrics)
    metrics["build"] = {"torch": torch.__version__, "threads": C.THREADS, "quick": ARGS.quick,
                        "last_run_seconds": total.seconds(), "last_run_models": todo}
    C.write_json(metrics_path, metrics)
    log(f"done in {total.seconds()}s")


if __name__ == "__main__":
    main()
