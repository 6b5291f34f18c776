#!/usr/bin/python3
"""Writes the torchvision image-preprocessing reference fixtures of MlNotes (see README.md here).

Run from the repository root:
    tools/with-torch tests/MlNotes.Transforms.Tests/TestModels/vision/make_vision_fixtures.py
(any Debian python3 with python3-torch, python3-torchvision, python3-pil and python3-onnx works).

Everything is seeded: the same Debian builds (torch 1.13, torchvision 0.14.1, Pillow 9.4.0,
numpy 1.24, onnx 1.12) write byte-identical files.

Besides writing the fixtures the script checks them:
  * a pure-numpy re-implementation of Pillow's 8-bit BILINEAR resampler (the algorithm documented
    in README.md) must reproduce every PIL resize used here bit for bit;
  * torchvision's shortest-side size and CenterCrop offsets must equal the documented formulas;
  * PIL's RGB->L conversion must equal the documented integer formula;
  * the ONNX classifier, run by a small numpy interpreter of its graph, must match PyTorch.
"""
import json
import os
import re
import sys

import numpy as np
import onnx
from onnx import numpy_helper
import PIL
import torch
import torch.nn as nn
import torchvision
import torchvision.transforms as T
from PIL import Image, ImageDraw
from torchvision.transforms import InterpolationMode

HERE = os.path.dirname(os.path.abspath(__file__))
OPSET = 17
torch.set_num_threads(1)

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
CLASS_NAMES = ["cat", "dog", "bird", "fish", "frog"]

# (file, width, height, mode)
IMAGES = [
    ("img0.png", 300, 200, "RGB"),
    ("img1.png", 200, 300, "RGB"),
    ("img2.png", 97, 61, "RGB"),
    ("img3.png", 64, 64, "RGB"),
    ("img4.png", 500, 375, "RGB"),
    ("img5.png", 28, 28, "L"),
    ("img6.png", 120, 90, "L"),
    ("img7.png", 45, 150, "RGBA"),
]


# ----------------------------------------------------------------------------- images

def make_rgb_array(w, h, seed):
    """Smooth gradients + a sine ripple + seeded Gaussian noise (sigma 4), as uint8 HxWx3."""
    rng = np.random.RandomState(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    period = rng.uniform(0.3, 0.6) * (w + h)
    r = 20 + 215 * x / max(w - 1, 1)
    g = 20 + 215 * y / max(h - 1, 1)
    b = 128 + 90 * np.sin(2 * np.pi * (x + 0.7 * y) / period)
    arr = np.stack([r, g, b], axis=-1) + rng.normal(0.0, 4.0, size=(h, w, 3))
    return np.clip(np.rint(arr), 0, 255).astype(np.uint8), rng


def draw_shapes(im, rng, colors):
    """Hard-edged shapes (no antialiasing): rectangle, ellipse, triangle, thin and thick lines and a
    1-pixel checkerboard patch, so resampling sees real edges and high frequencies."""
    w, h = im.size
    d = ImageDraw.Draw(im)

    def pt(fx0, fx1, fy0, fy1):
        return int(rng.uniform(fx0, fx1) * w), int(rng.uniform(fy0, fy1) * h)

    x0, y0 = pt(0.05, 0.25, 0.05, 0.25)
    x1, y1 = pt(0.35, 0.55, 0.35, 0.6)
    d.rectangle([x0, y0, x1, y1], fill=colors[0])
    x0, y0 = pt(0.45, 0.6, 0.4, 0.55)
    x1, y1 = pt(0.75, 0.95, 0.75, 0.95)
    d.ellipse([x0, y0, x1, y1], fill=colors[1], outline=colors[2])
    d.polygon([pt(0.6, 0.9, 0.02, 0.2), pt(0.9, 0.99, 0.3, 0.45), pt(0.5, 0.65, 0.3, 0.4)], fill=colors[2])
    d.line([pt(0.0, 0.1, 0.6, 0.9), pt(0.4, 0.6, 0.9, 1.0)], fill=colors[3], width=1)
    d.line([pt(0.0, 0.2, 0.9, 1.0), pt(0.8, 1.0, 0.0, 0.2)], fill=colors[0], width=3)
    # 1-pixel checkerboard patch
    cw, ch = max(4, w // 6), max(4, h // 6)
    cx, cy = int(0.05 * w), int(0.7 * h)
    px = im.load()
    for yy in range(cy, min(cy + ch, h)):
        for xx in range(cx, min(cx + cw, w)):
            px[xx, yy] = colors[3] if (xx + yy) % 2 == 0 else colors[1]


def make_image(w, h, mode, seed):
    arr, rng = make_rgb_array(w, h, seed)
    if mode == "L":
        grey = np.clip(np.rint(0.5 * arr[..., 0].astype(np.float64) + 0.5 * arr[..., 1]), 0, 255).astype(np.uint8)
        im = Image.fromarray(grey, "L")
        draw_shapes(im, rng, [235, 15, 128, 60])
        return im
    im = Image.fromarray(arr, "RGB")
    draw_shapes(im, rng, [(230, 40, 30), (20, 60, 200), (250, 220, 40), (10, 10, 10)])
    if mode == "RGBA":
        alpha = Image.new("L", (w, h), 255)
        im = Image.merge("RGBA", (*im.split(), alpha))
    return im


# ----------------------------------------------------------------------------- pipelines

def pipeline_defs():
    """name -> (torchvision transform, structured parameters)."""
    to_rgb = T.Lambda(lambda im: im.convert("RGB"))
    to_l = T.Lambda(lambda im: im.convert("L"))
    return {
        "shortest72_crop64_rgb_imagenet": (
            T.Compose([to_rgb, T.Resize(72, interpolation=InterpolationMode.BILINEAR), T.CenterCrop(64),
                       T.ToTensor(), T.Normalize(IMAGENET_MEAN, IMAGENET_STD)]),
            {"convert": "RGB", "channels": 3,
             "resize": {"mode": "shortest", "size": 72, "max_size": None, "interpolation": "bilinear"},
             "crop": {"mode": "center", "height": 64, "width": 64},
             "scale": "uint8/255", "mean": IMAGENET_MEAN, "std": IMAGENET_STD,
             "torchvision": "T.Compose([T.Lambda(lambda im: im.convert('RGB')), T.Resize(72, interpolation=BILINEAR), "
                            "T.CenterCrop(64), T.ToTensor(), T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])"}),
        "exact40x30_rgb": (
            T.Compose([to_rgb, T.Resize((30, 40)), T.ToTensor()]),
            {"convert": "RGB", "channels": 3,
             "resize": {"mode": "exact", "height": 30, "width": 40, "interpolation": "bilinear"},
             "crop": None, "scale": "uint8/255", "mean": None, "std": None,
             "torchvision": "T.Compose([T.Lambda(lambda im: im.convert('RGB')), T.Resize((30, 40)), T.ToTensor()])"}),
        "grey28_fashion": (
            T.Compose([to_l, T.Resize(28), T.CenterCrop(28), T.ToTensor(), T.Normalize([0.286], [0.353])]),
            {"convert": "L", "channels": 1,
             "resize": {"mode": "shortest", "size": 28, "max_size": None, "interpolation": "bilinear"},
             "crop": {"mode": "center", "height": 28, "width": 28},
             "scale": "uint8/255", "mean": [0.286], "std": [0.353],
             "torchvision": "T.Compose([T.Lambda(lambda im: im.convert('L')), T.Resize(28), T.CenterCrop(28), "
                            "T.ToTensor(), T.Normalize([0.286], [0.353])])"}),
    }


CLASSIFIER_PIPELINE = {
    "convert": "RGB", "channels": 3,
    "resize": {"mode": "shortest", "size": 256, "max_size": None, "interpolation": "bilinear"},
    "crop": {"mode": "center", "height": 224, "width": 224},
    "scale": "uint8/255", "mean": IMAGENET_MEAN, "std": IMAGENET_STD,
    "torchvision": "T.Compose([T.Lambda(lambda im: im.convert('RGB')), T.Resize(256), T.CenterCrop(224), "
                   "T.ToTensor(), T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])",
}


def classifier_transform():
    return T.Compose([T.Lambda(lambda im: im.convert("RGB")), T.Resize(256), T.CenterCrop(224),
                      T.ToTensor(), T.Normalize(IMAGENET_MEAN, IMAGENET_STD)])


# ----------------------------------------------------------------------------- reference formulas (checks)

def shortest_side_size(w, h, size):
    """torchvision 0.14 _compute_resized_output_size, size=[s], max_size=None -> (new_w, new_h)."""
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size, int(size * long / short)   # truncation of the long side
    assert new_long == (size * long) // short                 # same as integer division here
    return (new_short, new_long) if w <= h else (new_long, new_short)


def center_crop_offsets(w, h, cw, ch):
    """torchvision 0.14 center_crop (no padding case): Python round() = round half to even."""
    assert cw <= w and ch <= h
    return int(round((h - ch) / 2.0)), int(round((w - cw) / 2.0))   # (top, left)


PRECISION_BITS = 32 - 8 - 2


def pil_coeffs(in_size, out_size):
    """Pillow 9.4.0 precompute_coeffs + normalize_coeffs_8bpc for the BILINEAR (triangle) filter."""
    scale = float(in_size) / out_size
    filterscale = max(scale, 1.0)
    support = 1.0 * filterscale
    ss = 1.0 / filterscale
    m = np.zeros((out_size, in_size), dtype=np.int64)
    for xx in range(out_size):
        center = (xx + 0.5) * scale
        xmin = max(int(center - support + 0.5), 0)          # C (int) cast truncates toward zero
        xmax = min(int(center + support + 0.5), in_size)
        ws = [max(0.0, 1.0 - abs((x - center + 0.5) * ss)) for x in range(xmin, xmax)]
        tot = sum(ws)
        for i, wv in enumerate(ws):
            k = wv / tot if tot != 0.0 else wv
            m[xx, xmin + i] = int(-0.5 + k * (1 << PRECISION_BITS)) if k < 0 else int(0.5 + k * (1 << PRECISION_BITS))
    return m


def pil_resize_reference(arr, out_w, out_h):
    """arr: uint8 HxWxC. Horizontal pass, round+clip to uint8, then vertical pass, round+clip."""
    h, w = arr.shape[:2]
    if (w, h) == (out_w, out_h):
        return arr.copy()
    a = arr.astype(np.int64)
    half = 1 << (PRECISION_BITS - 1)
    if out_w != w:
        a = np.clip((np.einsum("ox,yxc->yoc", pil_coeffs(w, out_w), a) + half) >> PRECISION_BITS, 0, 255)
    if out_h != h:
        a = np.clip((np.einsum("oy,yxc->oxc", pil_coeffs(h, out_h), a) + half) >> PRECISION_BITS, 0, 255)
    return a.astype(np.uint8)


def pil_rgb_to_l_reference(arr):
    """Pillow 9.4.0 Convert.c rgb2l: L = (R*19595 + G*38470 + B*7471 + 0x8000) >> 16."""
    a = arr.astype(np.int64)
    return ((a[..., 0] * 19595 + a[..., 1] * 38470 + a[..., 2] * 7471 + 0x8000) >> 16).astype(np.uint8)


def reference_pipeline(im, params):
    """Independent re-implementation of a pipeline (PIL algorithms written out), as float32 CHW."""
    arr = np.asarray(im)
    if im.mode == "L":
        arr = arr[..., None]
    if params["convert"] == "RGB":
        arr = np.repeat(arr, 3, axis=2) if arr.shape[2] == 1 else arr[..., :3]
    else:
        arr = arr if arr.shape[2] == 1 else pil_rgb_to_l_reference(arr[..., :3])[..., None]
    h, w = arr.shape[:2]
    r = params["resize"]
    if r["mode"] == "shortest":
        nw, nh = shortest_side_size(w, h, r["size"])
    else:
        nw, nh = r["width"], r["height"]
    arr = pil_resize_reference(arr, nw, nh)
    top = left = 0
    if params["crop"]:
        ch, cw = params["crop"]["height"], params["crop"]["width"]
        top, left = center_crop_offsets(nw, nh, cw, ch)
        arr = arr[top:top + ch, left:left + cw]
    t = arr.transpose(2, 0, 1).astype(np.float32) / np.float32(255)
    if params["mean"] is not None:
        mean = np.array(params["mean"], dtype=np.float32)[:, None, None]
        std = np.array(params["std"], dtype=np.float32)[:, None, None]
        t = (t - mean) / std
    return t, [nh, nw], [top, left]


# ----------------------------------------------------------------------------- classifier

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


def onnx_numpy_run(model, x):
    """Tiny numpy interpreter for the few ONNX ops the classifier exports to."""
    env = {i.name: numpy_helper.to_array(i).astype(np.float64) for i in model.graph.initializer}
    env[model.graph.input[0].name] = x.astype(np.float64)

    def attr(node, name, default):
        for a in node.attribute:
            if a.name == name:
                return onnx.helper.get_attribute_value(a)
        return default

    for node in model.graph.node:
        ins = [env[n] for n in node.input if n]
        op = node.op_type
        if op == "Conv":
            xin, wgt = ins[0], ins[1]
            s = attr(node, "strides", [1, 1])
            p = attr(node, "pads", [0, 0, 0, 0])
            assert attr(node, "group", 1) == 1 and attr(node, "dilations", [1, 1]) == [1, 1]
            xp = np.pad(xin, ((0, 0), (0, 0), (p[0], p[2]), (p[1], p[3])))
            kh, kw = wgt.shape[2:]
            oh = (xp.shape[2] - kh) // s[0] + 1
            ow = (xp.shape[3] - kw) // s[1] + 1
            cols = np.empty((xin.shape[0], xin.shape[1], kh, kw, oh, ow))
            for i in range(kh):
                for j in range(kw):
                    cols[:, :, i, j] = xp[:, :, i:i + s[0] * oh:s[0], j:j + s[1] * ow:s[1]]
            y = np.einsum("bcijhw,ocij->bohw", cols, wgt)
            if len(ins) > 2:
                y = y + ins[2][None, :, None, None]
        elif op == "Relu":
            y = np.maximum(ins[0], 0)
        elif op == "GlobalAveragePool":
            y = ins[0].mean(axis=(2, 3), keepdims=True)
        elif op == "Flatten":
            y = ins[0].reshape(ins[0].shape[0], -1)
        elif op == "Gemm":
            a, b = ins[0], ins[1]
            a = a.T if attr(node, "transA", 0) else a
            b = b.T if attr(node, "transB", 0) else b
            y = attr(node, "alpha", 1.0) * a @ b + (attr(node, "beta", 1.0) * ins[2] if len(ins) > 2 else 0)
        else:
            raise NotImplementedError(op)
        env[node.output[0]] = y
    return env[model.graph.output[0].name]


# ----------------------------------------------------------------------------- helpers

def f32_list(a):
    out = []
    for v in np.asarray(a, dtype=np.float32).reshape(-1):
        s = repr(np.float32(v))
        s = s.replace("np.float32(", "").rstrip(")")
        out.append(float(s))
    return out


def dumps(obj):
    """JSON with indentation for the structure and each flat number array on one line."""
    text = json.dumps(obj, indent=1)
    return re.sub(r"\[\s*([^\[\]{}\"]*?)\s*\]",
                  lambda mt: "[" + ", ".join(x.strip() for x in mt.group(1).split(",") if x.strip()) + "]",
                  text) + "\n"


def versions():
    return {"python": sys.version.split()[0], "torch": torch.__version__, "torchvision": torchvision.__version__,
            "PIL": PIL.__version__, "numpy": np.__version__, "onnx": onnx.__version__}


# ----------------------------------------------------------------------------- main

def main():
    # 1. images
    for i, (name, w, h, mode) in enumerate(IMAGES):
        im = make_image(w, h, mode, seed=100 + i)
        assert im.size == (w, h) and im.mode == mode
        im.save(os.path.join(HERE, name), format="PNG")
    photo = make_image(400, 300, "RGB", seed=200)
    photo.save(os.path.join(HERE, "photo.jpg"), format="JPEG", quality=90)

    loaded = {}
    for name, w, h, mode in IMAGES:
        im = Image.open(os.path.join(HERE, name))
        im.load()
        assert im.size == (w, h) and im.mode == mode, (name, im.size, im.mode)
        if mode == "RGBA":
            assert np.all(np.asarray(im)[..., 3] == 255)
        loaded[name] = im
    with Image.open(os.path.join(HERE, "photo.jpg")) as ph:
        assert ph.size == (400, 300) and ph.mode == "RGB"

    # 2. preprocessing fixtures
    entries = []
    pipes = pipeline_defs()
    max_ref_diff = 0.0
    for pname, (tf, params) in pipes.items():
        for name, w, h, mode in IMAGES:
            im = loaded[name]
            t = tf(im)
            assert t.dtype == torch.float32
            arr = t.numpy()
            ref, resized_hw, crop_tl = reference_pipeline(im, params)
            assert ref.shape == arr.shape, (pname, name, ref.shape, arr.shape)
            # resampler/size/crop/convert re-implementation must be exact, float ops too
            assert np.array_equal(ref, arr), (pname, name, float(np.abs(ref - arr).max()))
            max_ref_diff = max(max_ref_diff, float(np.abs(ref - arr).max()))
            binname = f"pre_{pname}_{os.path.splitext(name)[0]}.bin"
            arr.astype("<f4").tofile(os.path.join(HERE, binname))
            entries.append({"image": name, "image_mode": mode, "image_size_wh": [w, h], "pipeline": pname,
                            "shape": list(arr.shape), "dtype": "float32", "layout": "CHW", "bin": binname,
                            "resized_hw": resized_hw, "crop_top_left": crop_tl if params["crop"] else None,
                            "params": {k: v for k, v in params.items() if k != "torchvision"}})

    # grey conversion check: PIL convert("L") of the 64x64 RGB image
    im3 = loaded["img3.png"]
    grey = np.asarray(im3.convert("L"))
    assert np.array_equal(grey, pil_rgb_to_l_reference(np.asarray(im3)))
    grey.astype(np.uint8).tofile(os.path.join(HERE, "grey_img3.bin"))

    pre = {
        "description": "torchvision (PIL path) preprocessing references; bins are raw little-endian float32, "
                       "CHW row-major; see README.md",
        "versions": versions(),
        "images": [{"file": n, "width": w, "height": h, "mode": m} for n, w, h, m in IMAGES],
        "pipelines": {k: v[1] for k, v in pipes.items()},
        "entries": entries,
        "grey_check": {"image": "img3.png", "bin": "grey_img3.bin", "dtype": "uint8", "shape": [64, 64],
                       "layout": "HW", "pil": "Image.convert('L')",
                       "formula": "L = (R*19595 + G*38470 + B*7471 + 0x8000) >> 16"},
    }
    with open(os.path.join(HERE, "preprocess.json"), "w") as f:
        f.write(dumps(pre))

    # 3. user's classifier
    # Kaiming-normal conv weights, small biases and a unit-std head make the logits depend on the
    # image (the default init gives almost the same top-1 for every image); seed 25 gives three
    # different top-1 classes over the 8 images with a top-1/top-2 margin of at least 0.29.
    torch.manual_seed(25)
    model = UserClassifier().eval()
    with torch.no_grad():
        for conv in (model.conv1, model.conv2):
            nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
            conv.bias.uniform_(-0.05, 0.05)
        nn.init.normal_(model.fc.weight, std=1.0)
        model.fc.bias.zero_()
    path = os.path.join(HERE, "user_classifier.onnx")
    ctf = classifier_transform()
    batch = torch.stack([ctf(loaded[n]) for n, _, _, _ in IMAGES])
    assert batch.shape == (8, 3, 224, 224)
    with torch.no_grad():
        torch.onnx.export(model, (batch[:2],), path, input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                          opset_version=OPSET, do_constant_folding=True)
        logits = model(batch)
        single = torch.cat([model(batch[i:i + 1]) for i in range(8)])
    assert logits.shape == (8, 5)
    assert torch.allclose(logits, single, atol=1e-5)
    top2 = logits.topk(2, dim=1).values
    assert len(set(logits.argmax(1).tolist())) >= 3 and float((top2[:, 0] - top2[:, 1]).min()) > 0.1
    m = onnx.load(path)
    assert [i.name for i in m.graph.input] == ["input"] and [o.name for o in m.graph.output] == ["output"]
    od = m.graph.output[0].type.tensor_type.shape.dim
    assert len(od) == 2
    od[0].Clear()
    od[0].dim_param = "batch"
    od[1].Clear()
    od[1].dim_value = 5
    m.producer_name = "MlNotes make_vision_fixtures.py"
    onnx.save(m, path)
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)

    def dims(v):
        return [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]

    assert dims(m.graph.input[0]) == ["batch", 3, 224, 224], dims(m.graph.input[0])
    assert dims(m.graph.output[0]) == ["batch", 5], dims(m.graph.output[0])
    assert m.opset_import[0].version == OPSET
    np_logits = onnx_numpy_run(m, batch.numpy())
    onnx_diff = float(np.abs(np_logits - logits.numpy().astype(np.float64)).max())
    assert onnx_diff < 1e-5, onnx_diff

    # reference pipeline for the classifier inputs too
    for k, (n, _, _, _) in enumerate(IMAGES):
        ref, _, _ = reference_pipeline(loaded[n], CLASSIFIER_PIPELINE)
        assert np.array_equal(ref, batch[k].numpy()), n

    uc = {
        "model": "user_classifier.onnx",
        "versions": versions(),
        "images": [n for n, _, _, _ in IMAGES],
        "pipeline": CLASSIFIER_PIPELINE,
        "class_names": CLASS_NAMES,
        "outputs": {"output": {"dtype": "float32", "shape": list(logits.shape), "data": f32_list(logits.numpy())}},
    }
    with open(os.path.join(HERE, "user_classifier_fixture.json"), "w") as f:
        f.write(dumps(uc))

    # report
    total = 0
    for fn in sorted(os.listdir(HERE)):
        p = os.path.join(HERE, fn)
        if os.path.isfile(p):
            total += os.path.getsize(p)
    print(f"versions {versions()}")
    print(f"{len(entries)} preprocess entries, reference re-implementation max diff {max_ref_diff}")
    print(f"onnx nodes {[n.op_type for n in m.graph.node]}, numpy-vs-torch max diff {onnx_diff:.3g}")
    print("logits argmax", [CLASS_NAMES[i] for i in logits.argmax(1).tolist()])
    print(f"folder size {total} B")
    assert total < 3 * 1000 * 1000


if __name__ == "__main__":
    main()
