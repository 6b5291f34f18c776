"""Data: Fashion-MNIST (Debian's dataset-fashion-mnist) and the texts of Debian's fortunes package.

Also writes the small committed subsets under models-onnx/data/ that the C# tests and samples use.
"""
import csv
import gzip
import os
import random
import re

import numpy as np
import torch

FASHION_DIR = "/usr/share/datasets/fashion-mnist"
FORTUNES_DIR = "/usr/share/games/fortunes"

FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

# ToTensor() then Normalize(MEAN, STD): the mean and std of the Fashion-MNIST training pixels in [0, 1]
# (0.28604 and 0.35302 measured), rounded to 4 digits. Written into every image manifest.
FASHION_MEAN = 0.2860
FASHION_STD = 0.3530


def _read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = int.from_bytes(data[0:4], "big")
    ndim = magic & 0xFF
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_fashion(split):
    """Returns (uint8 images [N, 28, 28], int64 labels [N]) for split 'train' or 't10k'."""
    images = _read_idx(os.path.join(FASHION_DIR, f"{split}-images-idx3-ubyte.gz"))
    labels = _read_idx(os.path.join(FASHION_DIR, f"{split}-labels-idx1-ubyte.gz"))
    return images.copy(), labels.astype(np.int64)


def to_unit(images_u8):
    """uint8 [N, 28, 28] -> float32 [N, 1, 28, 28] in [0, 1] (what ToTensor does)."""
    return torch.from_numpy(images_u8).float().div_(255.0).unsqueeze(1)


def normalize(unit):
    """[0, 1] tensor -> (x - mean) / std."""
    return (unit - FASHION_MEAN) / FASHION_STD


def stratified_indices(labels, per_class, seed):
    rng = np.random.RandomState(seed)
    picked = []
    for c in sorted(set(labels.tolist())):
        idx = np.flatnonzero(labels == c)
        picked.extend(rng.choice(idx, per_class, replace=False).tolist())
    picked.sort()
    return np.array(picked, dtype=np.int64)


def write_fashion_subset(images, labels, indices, folder):
    """Writes 8-bit grey PNGs 00000.png ... and labels.csv (ImagePath,Label,LabelName)."""
    from PIL import Image
    os.makedirs(folder, exist_ok=True)
    rows = []
    for k, i in enumerate(indices):
        name = f"{k:05d}.png"
        Image.fromarray(images[i], mode="L").save(os.path.join(folder, name), optimize=True)
        rows.append((name, int(labels[i]), FASHION_CLASSES[labels[i]]))
    with open(os.path.join(folder, "labels.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["ImagePath", "Label", "LabelName"])
        w.writerows(rows)
    return rows


def read_fashion_subset(folder):
    """Reads the committed PNG subset back (what the C# side sees): uint8 images, labels, file names."""
    from PIL import Image
    with open(os.path.join(folder, "labels.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    images = np.stack([np.array(Image.open(os.path.join(folder, r["ImagePath"])).convert("L")) for r in rows])
    labels = np.array([int(r["Label"]) for r in rows], dtype=np.int64)
    return images, labels, [r["ImagePath"] for r in rows]


# ----------------------------------------------------------------------------- fortunes

_OVERSTRIKE = re.compile(r".\x08")


def clean_fortune(text):
    """Removes overstriking (x BACKSPACE y -> y) and control characters; every run of whitespace
    (tabs, newlines included) becomes one space. This is the text the TSV files hold."""
    text = _OVERSTRIKE.sub("", text)
    text = "".join(ch if (ch in "\t\n\r" or ord(ch) >= 32) and ord(ch) != 127 else " " for ch in text)
    return " ".join(text.split())


def read_fortune_file(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        raw = f.read()
    parts = re.split(r"^%\s*$", raw, flags=re.M)
    return [t for t in (clean_fortune(p) for p in parts) if t]


def fortune_categories(n):
    """The n categories of the fortunes package with the most texts (ties broken by name)."""
    sizes = []
    for name in sorted(os.listdir(FORTUNES_DIR)):
        path = os.path.join(FORTUNES_DIR, name)
        if "." in name or os.path.islink(path) or not os.path.isfile(path):
            continue
        sizes.append((-len(read_fortune_file(path)), name))
    return [name for _, name in sorted(sizes)[:n]]


def load_fortunes(categories, test_fraction, seed):
    """Texts of the given categories, de-duplicated (a text found in two categories is dropped),
    split per category into train and test with a fixed seed. Returns (train, test): lists of (label, text)."""
    seen = {}
    for cat in categories:
        for t in read_fortune_file(os.path.join(FORTUNES_DIR, cat)):
            seen.setdefault(t, set()).add(cat)
    by_cat = {c: [] for c in categories}
    for t, cats in seen.items():
        if len(cats) == 1:
            by_cat[next(iter(cats))].append(t)
    rng = random.Random(seed)
    train, test = [], []
    for c in categories:
        texts = sorted(by_cat[c])
        rng.shuffle(texts)
        n_test = int(round(len(texts) * test_fraction))
        test += [(c, t) for t in texts[:n_test]]
        train += [(c, t) for t in texts[n_test:]]
    rng.shuffle(train)
    rng.shuffle(test)
    return train, test


def write_tsv(rows, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("Label\tText\n")
        for label, text in rows:
            assert "\t" not in text and "\n" not in text and "\r" not in text
            f.write(f"{label}\t{text}\n")


def read_tsv(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    assert lines[0] == "Label\tText"
    return [tuple(line.split("\t", 1)) for line in lines[1:] if line]
