#!/usr/bin/python3
"""Writes the float-pixel reference fixtures of MlNotes (float_fixtures.json, fpre_*.bin; see README.md here).

Run from the repository root:
    tools/with-torch tests/MlNotes.Transforms.Tests/TestModels/vision/make_float_fixtures.py

A float32 pixel vector (HWC, values 0-255 with fractions) is what a PyTorch user holds as a float tensor; its reference
preprocessing is torchvision's tensor path (no PIL, no rounding to bytes):
    x = torch.from_numpy(hwc).permute(2, 0, 1)                                   # float32 CHW, 0-255
    x = F.rgb_to_grayscale(x)             (RGB source, grey model: 0.2989 R + 0.587 G + 0.114 B, float32)
    x = x.expand(3, -1, -1)               (grey source, RGB model)
    x = T.Resize(size, BILINEAR, antialias=True)(x)   (skipped by torchvision when the size is already right)
    x = T.CenterCrop(crop)(x)
    x = x / 255                            (the manifest's scale; ToTensor's division, in float32)
    x = T.Normalize(mean, std)(x)

The inputs are not stored: each is derived from a committed 8-bit PNG by an exact formula (every value is a multiple of
1/16, so float32 holds it exactly and C# rebuilds the same floats):
    v[y, x, c] = 0.75 * png[y, x, c] + ((7 x + 13 y + 5 c) mod 17) / 16       (x, y in the crop box; c = 0 for grey)

Besides writing the fixtures the script checks them:
  * a numpy float32 re-implementation of the antialiased bilinear resize (Pillow's coefficients computed in float32 as
    ATen does, no fixed point, no rounding between the passes, horizontal pass first) stays within 1e-4 (in 0-255
    units) of torch's _upsample_bilinear2d_aa;
  * the ViT rebuilt in PyTorch (models-onnx/python/nets.py) from vit-fashion.onnx's weights reproduces
    models-onnx/fixtures/vit-fashion.json, and the user classifier rebuilt from user_classifier.onnx reproduces
    user_classifier_fixture.json, so the logits written here are PyTorch's for those very graphs.
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper
import torch
import torch.nn as nn
import torchvision.transforms as T
import torchvision.transforms.functional as TF
from PIL import Image
from torchvision.transforms import InterpolationMode

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))
MODELS = os.path.join(ROOT, "models-onnx")
sys.path.insert(0, os.path.join(MODELS, "python"))
import nets  # noqa: E402

torch.set_num_threads(1)
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
FASHION = os.path.join(MODELS, "data", "fashion-mnist-subset")

# name -> (png relative to ROOT, crop box (left, top, right, bottom) or None)
SOURCES = {
    "img3": ("tests/MlNotes.Transforms.Tests/TestModels/vision/img3.png", None),        # 64x64 RGB
    "img5": ("tests/MlNotes.Transforms.Tests/TestModels/vision/img5.png", None),        # 28x28 L
    "img2": ("tests/MlNotes.Transforms.Tests/TestModels/vision/img2.png", None),        # 97x61 RGB
    "img6": ("tests/MlNotes.Transforms.Tests/TestModels/vision/img6.png", None),        # 120x90 L
    "img0_40x30": ("tests/MlNotes.Transforms.Tests/TestModels/vision/img0.png", (0, 0, 40, 30)),
    "img3_40x40": ("tests/MlNotes.Transforms.Tests/TestModels/vision/img3.png", (0, 0, 40, 40)),
    "img0_40x40": ("tests/MlNotes.Transforms.Tests/TestModels/vision/img0.png", (100, 50, 140, 90)),
    "img4_40x40": ("tests/MlNotes.Transforms.Tests/TestModels/vision/img4.png", (200, 100, 240, 140)),
    "img0_64x64": ("tests/MlNotes.Transforms.Tests/TestModels/vision/img0.png", (0, 0, 64, 64)),
    "img4_64x64": ("tests/MlNotes.Transforms.Tests/TestModels/vision/img4.png", (200, 100, 264, 164)),
    "fashion0": ("models-onnx/data/fashion-mnist-subset/00000.png", None),
    "fashion1": ("models-onnx/data/fashion-mnist-subset/00001.png", None),
    "fashion2": ("models-onnx/data/fashion-mnist-subset/00002.png", None),
    "fashion3": ("models-onnx/data/fashion-mnist-subset/00003.png", None),
}

PIPELINES = {
    "shortest72_crop64_rgb_imagenet": {"channels": 3, "resize": ("shortest", 72), "crop": (64, 64),
                                       "mean": IMAGENET_MEAN, "std": IMAGENET_STD},
    "exact40x30_rgb": {"channels": 3, "resize": ("exact", (30, 40)), "crop": None, "mean": None, "std": None},
    "grey28_fashion": {"channels": 1, "resize": ("shortest", 28), "crop": (28, 28), "mean": [0.286], "std": [0.353]},
}
PREPROCESS_SOURCES = ["img3", "img5", "img2", "img6", "img0_40x30"]
VIT_PIPELINE = {"channels": 1, "resize": ("exact", (28, 28)), "crop": None, "mean": [0.286], "std": [0.353]}
USER_PIPELINE = {"channels": 3, "resize": ("shortest", 256), "crop": (224, 224), "mean": IMAGENET_MEAN, "std": IMAGENET_STD}


def float_pixels(name):
    """float32 HWC from the PNG by the exact formula in the docstring."""
    path, box = SOURCES[name]
    im = Image.open(os.path.join(ROOT, path))
    assert im.mode in ("L", "RGB"), im.mode
    if box is not None:
        im = im.crop(box)
    arr = np.asarray(im).astype(np.float32)
    if arr.ndim == 2:
        arr = arr[..., None]
    h, w, c = arr.shape
    y, x, ch = np.meshgrid(np.arange(h), np.arange(w), np.arange(c), indexing="ij")
    frac = ((7 * x + 13 * y + 5 * ch) % 17).astype(np.float32) / np.float32(16)
    v = np.float32(0.75) * arr + frac
    assert v.dtype == np.float32 and np.array_equal(v * 16, np.rint(v * 16))  # exact multiples of 1/16
    return v


def torch_pipeline(hwc, p):
    x = torch.from_numpy(np.ascontiguousarray(hwc)).permute(2, 0, 1).contiguous()
    if p["channels"] == 1 and x.shape[0] == 3:
        x = TF.rgb_to_grayscale(x)
    elif p["channels"] == 3 and x.shape[0] == 1:
        x = x.expand(3, -1, -1).contiguous()
    kind, size = p["resize"]
    x = T.Resize(size if kind == "shortest" else list(size), interpolation=InterpolationMode.BILINEAR, antialias=True)(x)
    resized = list(x.shape[1:])
    if p["crop"] is not None:
        x = T.CenterCrop(list(p["crop"]))(x)
    x = x / 255
    if p["mean"] is not None:
        x = T.Normalize(p["mean"], p["std"])(x)
    assert x.dtype == torch.float32
    return x.contiguous(), resized


# ----------------------------------------------------------------------------- float resize re-implementation (check)

def aa_weights(in_size, out_size):
    """ATen's _upsample_bilinear2d_aa coefficients (torch 1.13 UpSampleKernel.cpp, scalar_t = float32): Pillow's
    antialiased triangle filter (support max(scale, 1)), but with the scale, centre, bounds and weights in float32."""
    f32 = np.float32
    scale = f32(f32(in_size) / f32(out_size))
    support = scale if scale >= 1 else f32(1.0)
    inverse = f32(1.0 / float(scale)) if scale >= 1 else f32(1.0)
    m = np.zeros((out_size, in_size), dtype=np.float32)
    for i in range(out_size):
        center = f32(float(scale) * (i + 0.5))
        xmin = max(int(float(f32(center - support)) + 0.5), 0)
        xsize = min(int(float(f32(center + support)) + 0.5), in_size) - xmin
        ws, total = [], f32(0)
        for j in range(xsize):
            t = abs(f32((float(f32(f32(j + xmin) - center)) + 0.5) * float(inverse)))
            ws.append(f32(1 - t) if t < 1 else f32(0))
            total = f32(total + ws[-1])
        for j in range(xsize):
            m[i, xmin + j] = f32(ws[j] / total) if total != 0 else ws[j]
    return m


def numpy_resize(chw, out_h, out_w):
    a = chw.astype(np.float32)
    if a.shape[2] != out_w:
        a = np.einsum("ox,cyx->cyo", aa_weights(a.shape[2], out_w), a).astype(np.float32)
    if a.shape[1] != out_h:
        a = np.einsum("oy,cyx->cox", aa_weights(a.shape[1], out_h), a).astype(np.float32)
    return a


# ----------------------------------------------------------------------------- the graphs, in PyTorch

def initializers(path):
    m = onnx.load(path)
    return m, {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}


def vit_from_onnx():
    """nets.ViT with the weights of vit-fashion.onnx: named parameters directly, each anonymous MatMul weight by the
    named bias its output is added to (the exporter stores Linear weights transposed, unnamed)."""
    manifest = json.load(open(os.path.join(MODELS, "vit-fashion.json")))
    a = manifest["architecture"]
    model = nets.ViT(patch=a["patch"], dim=a["dim"], depth=a["depth"], heads=a["heads"], mlp=a["mlp"], stem=a["stem"]).eval()
    m, init = initializers(os.path.join(MODELS, "vit-fashion.onnx"))
    consumers = {}
    for n in m.graph.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    state = {k: torch.from_numpy(v.copy()) for k, v in init.items() if not k.startswith("onnx::")}
    for n in m.graph.node:
        if n.op_type == "MatMul" and n.input[1] in init and n.input[1].startswith("onnx::"):
            (add,) = [c for c in consumers[n.output[0]] if c.op_type == "Add"]
            bias = [i for i in add.input if i in init and i.endswith(".bias")][0]
            state[bias[:-len(".bias")] + ".weight"] = torch.from_numpy(init[n.input[1]].T.copy())
    model.load_state_dict(state, strict=True)
    fixture = json.load(open(os.path.join(MODELS, "fixtures", "vit-fashion.json")))
    inp = fixture["inputs"]["image"]
    x = torch.tensor(inp["data"], dtype=torch.float32).reshape(inp["shape"])
    with torch.no_grad():
        logits, _ = model(x)
    ref = np.array(fixture["outputs"]["logits"]["data"], dtype=np.float32).reshape(logits.shape)
    gap = float(np.abs(logits.numpy() - ref).max())
    assert gap < 1e-5, gap
    return model, gap


class UserClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, kernel_size=8, stride=4, padding=2)
        self.conv2 = nn.Conv2d(8, 16, kernel_size=3, stride=2, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 5)

    def forward(self, x):
        x = torch.relu(self.conv1(x))
        x = torch.relu(self.conv2(x))
        return self.fc(torch.flatten(self.pool(x), 1))


def user_from_onnx():
    model = UserClassifier().eval()
    _, init = initializers(os.path.join(HERE, "user_classifier.onnx"))
    model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in init.items()}, strict=True)
    fixture = json.load(open(os.path.join(HERE, "user_classifier_fixture.json")))
    im = Image.open(os.path.join(HERE, fixture["images"][3])).convert("RGB")
    x = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), T.Normalize(IMAGENET_MEAN, IMAGENET_STD)])(im)
    with torch.no_grad():
        logits = model(x[None])[0].numpy()
    gap = float(np.abs(logits - np.array(fixture["outputs"]["output"]["data"][15:20], dtype=np.float32)).max())
    assert gap < 1e-5, gap
    return model, gap


def f32_list(a):
    return [float(np.format_float_positional(v, unique=True, trim="-")) for v in np.asarray(a, dtype=np.float32).ravel()]


def logits_block(model, names, p, vit):
    batch = torch.stack([torch_pipeline(float_pixels(n), p)[0] for n in names])
    rounded = torch.stack([torch_pipeline(np.clip(np.rint(float_pixels(n)), 0, 255), p)[0] for n in names])
    with torch.no_grad():
        logits = model(batch)[0] if vit else model(batch)
        old = model(rounded)[0] if vit else model(rounded)
    h, w, c = float_pixels(names[0]).shape
    return {"sources": names, "width": w, "height": h, "channels": c,
            "logits": {"dtype": "float32", "shape": list(logits.shape), "data": f32_list(logits.numpy())}}, \
        float((logits - old).abs().max())


def main():
    out = {"description": "float-pixel references: torchvision's tensor path on float32 HWC inputs derived from PNGs "
                          "(see make_float_fixtures.py); bins are raw little-endian float32 CHW",
           "formula": "v = 0.75 * png[y, x, c] + ((7 x + 13 y + 5 c) mod 17) / 16",
           "grey_weights": "torchvision rgb_to_grayscale: 0.2989 R + 0.587 G + 0.114 B (float32)",
           "versions": {"torch": torch.__version__, "torchvision": __import__("torchvision").__version__},
           "sources": {k: {"png": v[0], "box": v[1], "width": float_pixels(k).shape[1], "height": float_pixels(k).shape[0],
                           "channels": float_pixels(k).shape[2]} for k, v in SOURCES.items()},
           "entries": []}
    worst_numpy = 0.0
    for pipe, p in PIPELINES.items():
        for name in PREPROCESS_SOURCES:
            hwc = float_pixels(name)
            tensor, resized = torch_pipeline(hwc, p)
            bin_name = f"fpre_{pipe}_{name}.bin"
            tensor.numpy().astype("<f4").tofile(os.path.join(HERE, bin_name))
            # the numpy re-implementation of the float resize, before crop and normalization
            x = torch.from_numpy(hwc).permute(2, 0, 1)
            if p["channels"] == 1 and x.shape[0] == 3:
                x = TF.rgb_to_grayscale(x)
            elif p["channels"] == 3 and x.shape[0] == 1:
                x = x.expand(3, -1, -1)
            ref = T.Resize(p["resize"][1] if p["resize"][0] == "shortest" else list(p["resize"][1]),
                           interpolation=InterpolationMode.BILINEAR, antialias=True)(x.contiguous()).numpy()
            worst_numpy = max(worst_numpy, float(np.abs(numpy_resize(x.numpy(), *resized) - ref).max()))
            out["entries"].append({"source": name, "pipeline": pipe, "params": p, "shape": list(tensor.shape),
                                   "resized_hw": resized, "bin": bin_name})
    assert worst_numpy < 1e-4, worst_numpy

    vit, vit_check = vit_from_onnx()
    user, user_check = user_from_onnx()
    out["vit"] = {"model": "models-onnx/vit-fashion.onnx", "pipeline": VIT_PIPELINE, "batches": []}
    gaps = {}
    for names in (["fashion0", "fashion1", "fashion2", "fashion3"], ["img3_40x40", "img0_40x40", "img4_40x40"]):
        block, gaps[names[0]] = logits_block(vit, names, VIT_PIPELINE, True)
        out["vit"]["batches"].append(block)
    out["user"] = {"model": "user_classifier.onnx", "pipeline": USER_PIPELINE, "batches": []}
    block, gaps["user"] = logits_block(user, ["img3", "img0_64x64", "img4_64x64"], USER_PIPELINE, False)
    out["user"]["batches"].append(block)
    with open(os.path.join(HERE, "float_fixtures.json"), "w") as f:
        f.write(json.dumps(out, indent=1) + "\n")
    print(f"{len(out['entries'])} preprocess tensors; numpy float resize vs torch max {worst_numpy:.3g} (0-255 units)")
    print(f"rebuilt graphs vs committed fixtures: vit {vit_check:.3g}, user {user_check:.3g}")
    print("logit gap, fractional input vs the same input rounded to bytes:", {k: f"{v:.3g}" for k, v in gaps.items()})


if __name__ == "__main__":
    main()
