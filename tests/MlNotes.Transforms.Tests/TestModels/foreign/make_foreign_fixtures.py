#!/usr/bin/python3
"""Writes the "users' graphs" fixtures of MlNotes (see README.md here): Pillow resize references (bilinear, bicubic, nearest,
alpha and grey conversion) and small random-weight exports of torchvision architectures with their PyTorch outputs.

Run from the repository root:
    tools/with-torch tests/MlNotes.Transforms.Tests/TestModels/foreign/make_foreign_fixtures.py
Debian bookworm's python3-torch 1.13, python3-torchvision 0.14.1, python3-pil 9.4 and python3-onnx 1.12. Seeded.
"""
import json
import os

import numpy as np
import onnx
import PIL
import torch
import torch.nn as nn
import torchvision
import torchvision.transforms as T
from PIL import Image
from torchvision.models.convnext import CNBlockConfig, ConvNeXt
from torchvision.models.efficientnet import EfficientNet, _efficientnet_conf
from torchvision.models.resnet import Bottleneck, ResNet
from torchvision.models.vision_transformer import VisionTransformer
from torchvision.transforms import InterpolationMode

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))
VISION = os.path.join(HERE, "..", "vision")
FASHION = os.path.join(ROOT, "models-onnx", "data", "fashion-mnist-subset")
OPSET = 17
torch.set_num_threads(1)
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


def f32(values):
    return [float(np.float32(v)) for v in np.asarray(values, dtype=np.float32).ravel()]


# ----------------------------------------------------------------------------- images

def images():
    """The test images: a photo (JPEG decoded by Pillow, kept as PNG so no JPEG decoder difference enters), two fashion-MNIST
    photos (grey), a synthetic RGB image with hard edges, and an RGBA image with partial transparency."""
    photo = Image.open(os.path.join(VISION, "photo.jpg")).convert("RGB").crop((40, 30, 240, 180))  # 200 x 150
    photo.save(os.path.join(HERE, "photo.png"), optimize=True)
    rgba = photo.resize((90, 70), Image.Resampling.BILINEAR).convert("RGBA")
    a = np.asarray(rgba).copy()
    yy, xx = np.mgrid[0:70, 0:90]
    a[..., 3] = np.clip(255 * xx / 89 + 40 * np.sin(yy / 5.0), 0, 255).astype(np.uint8)
    Image.fromarray(a, "RGBA").save(os.path.join(HERE, "alpha.png"))
    out = [("photo.png", os.path.join(HERE, "photo.png")), ("alpha.png", os.path.join(HERE, "alpha.png")),
           ("img0.png", os.path.join(VISION, "img0.png"))]
    for name in ("00000.png", "00007.png"):
        Image.open(os.path.join(FASHION, name)).save(os.path.join(HERE, "fashion_" + name))
        out.append(("fashion_" + name, os.path.join(HERE, "fashion_" + name)))
    return out


def resize_fixtures(files):
    """Per image, filter and size: Pillow's convert("RGB") then resize, as HWC uint8 (exactly what torchvision's Resize
    hands ToTensor). Downscale (to 37 x 23, and the shortest side to 48) and upscale (to 97 x 73)."""
    entries = []
    blob = bytearray()
    filters = {"bilinear": Image.Resampling.BILINEAR, "bicubic": Image.Resampling.BICUBIC, "nearest": Image.Resampling.NEAREST}
    for name, path in files:
        rgb = Image.open(path).convert("RGB")
        for fname, f in filters.items():
            for (w, h) in [(37, 23), (97, 73)]:
                arr = np.asarray(rgb.resize((w, h), f), dtype=np.uint8)
                entries.append({"image": name, "filter": fname, "width": w, "height": h, "offset": len(blob)})
                blob += arr.tobytes()
            # torchvision's whole PIL path: Resize(48, filter), CenterCrop(40).
            t = T.Compose([T.Resize(48, interpolation=InterpolationMode(fname)), T.CenterCrop(40)])
            arr = np.asarray(t(rgb), dtype=np.uint8)
            entries.append({"image": name, "filter": fname, "width": 40, "height": 40, "shortest": 48, "offset": len(blob)})
            blob += arr.tobytes()
    with open(os.path.join(HERE, "resized.bin"), "wb") as fh:
        fh.write(bytes(blob))
    return entries


# ----------------------------------------------------------------------------- graphs

class SlimResNet(ResNet):
    """torchvision's resnet50 (Bottleneck, [3, 4, 6, 3]) with every stage's width divided by 16 (4, 8, 16, 32; outputs
    16, 32, 64, 128) so that the file stays small. Also returns the pooled features [N, 128, 1, 1]."""

    def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
        return super()._make_layer(block, planes // 16, blocks, stride, dilate)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        pooled = self.avgpool(x)
        return self.fc(torch.flatten(pooled, 1)), pooled


class VitTokens(nn.Module):
    """torchvision's VisionTransformer (vit_b_16's structure: patch 16, 12 layers) at 64 x 64 input, hidden 32, 4 heads, MLP 64.
    Returns the logits and the encoder's tokens [N, 17, 32] (class token first)."""

    def __init__(self):
        super().__init__()
        self.vit = VisionTransformer(image_size=64, patch_size=16, num_layers=12, num_heads=4, hidden_dim=32, mlp_dim=64, num_classes=10)

    def forward(self, x):
        v = self.vit
        x = v._process_input(x)
        x = torch.cat([v.class_token.expand(x.shape[0], -1, -1), x], dim=1)
        tokens = v.encoder(x)
        return v.heads(tokens[:, 0]), tokens


class ZooNet(nn.Module):
    """An ONNX-zoo style graph: NHWC input, BGR, 0-255 values minus the Caffe means (outside the graph), a small CNN."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 5, 2, 2), nn.ReLU(), nn.Conv2d(8, 16, 3, 2, 1), nn.ReLU(),
                                  nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 6))

    def forward(self, x):
        return self.body(x.permute(0, 3, 1, 2) / 64.0)


def models():
    torch.manual_seed(7)
    res = SlimResNet(Bottleneck, [3, 4, 6, 3], num_classes=10)
    res.fc = nn.Linear(128, 10)
    mob = torchvision.models.mobilenet_v3_small(width_mult=0.25, num_classes=10)
    settings, last = _efficientnet_conf("efficientnet_b0", width_mult=0.25, depth_mult=0.5)
    eff = EfficientNet(settings, dropout=0.2, last_channel=last, num_classes=10)
    cnx = ConvNeXt([CNBlockConfig(8, 16, 3), CNBlockConfig(16, 32, 3), CNBlockConfig(32, 64, 9), CNBlockConfig(64, None, 3)], num_classes=10)
    vit = VitTokens()
    zoo = ZooNet()
    fixed = ZooNet()
    for m in (res, mob, eff, cnx, vit, zoo, fixed):
        # Random BatchNorm statistics, so that folding them is exercised, not an identity; heads of unit gain (torchvision
        # starts ViT's head at zero and MobileNet's at std 0.01, which would make the logits too small to test anything).
        for mod in m.modules():
            if isinstance(mod, nn.Linear):
                nn.init.normal_(mod.weight, std=1.0 / mod.in_features ** 0.5)
                nn.init.uniform_(mod.bias, -0.1, 0.1)
            if isinstance(mod, nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.2, 0.2)
                mod.running_var.uniform_(0.5, 1.5)
        m.eval()
    return {
        "resnet50_slim": (res, ["logits", "features"], "bilinear"),
        "mobilenet_v3_small_slim": (mob, ["logits"], "bilinear"),
        "efficientnet_b0_slim": (eff, ["logits"], "bicubic"),
        "convnext_tiny_slim": (cnx, ["logits"], "bilinear"),
        "vit_b_16_slim": (vit, ["logits", "tokens"], "bicubic"),
    }, zoo, fixed


def export(model, name, outputs, example, dynamic=True, input_name="image"):
    path = os.path.join(HERE, name + ".onnx")
    axes = {input_name: {0: "batch"}, **{o: {0: "batch"} for o in outputs}} if dynamic else None
    torch.onnx.export(model, example, path, input_names=[input_name], output_names=outputs, dynamic_axes=axes, opset_version=OPSET,
                      do_constant_folding=True)
    onnx.checker.check_model(onnx.load(path), full_check=True)
    return os.path.getsize(path)


def torchvision_inputs(files, filter_name):
    t = T.Compose([T.Lambda(lambda im: im.convert("RGB")), T.Resize(72, interpolation=InterpolationMode(filter_name)), T.CenterCrop(64),
                   T.ToTensor(), T.Normalize(MEAN, STD)])
    return torch.stack([t(Image.open(p)) for _, p in files])


def zoo_inputs(files):
    """ONNX-zoo preprocessing as its scripts write it: Pillow resize to 64 x 64 (bilinear), BGR, float 0-255 minus the Caffe
    means, NHWC."""
    caffe = np.array([103.939, 116.779, 123.68], dtype=np.float32)
    rows = []
    for _, p in files:
        arr = np.asarray(Image.open(p).convert("RGB").resize((64, 64), Image.Resampling.BILINEAR), dtype=np.float32)
        rows.append(arr[..., ::-1] - caffe)
    return torch.from_numpy(np.ascontiguousarray(np.stack(rows)))


def main():
    files = images()
    fixtures = {"versions": {"torch": torch.__version__, "torchvision": torchvision.__version__, "PIL": PIL.__version__,
                             "onnx": onnx.__version__, "numpy": np.__version__},
                "images": [n for n, _ in files], "resized": resize_fixtures(files), "graphs": {}}
    nets, zoo, fixed = models()
    for name, (model, outputs, filter_name) in nets.items():
        x = torchvision_inputs(files, filter_name)
        with torch.no_grad():
            result = model(x)
        result = result if isinstance(result, tuple) else (result,)
        size = export(model, name, outputs, x[:2])
        entry = {"bytes": size, "interpolation": filter_name, "resize": 72, "crop": 64, "mean": MEAN, "std": STD, "outputs": {}}
        for o, value in zip(outputs, result):
            entry["outputs"][o] = {"shape": list(value.shape), "data": f32(value.numpy())}
        if name == "vit_b_16_slim":
            tokens = result[1]
            entry["pooled"] = {"ClassToken": f32(tokens[:, 0].numpy()), "Mean": f32(tokens.mean(dim=1).numpy()),
                               "PatchMean": f32(tokens[:, 1:].mean(dim=1).numpy())}
        fixtures["graphs"][name] = entry
        print(name, "max |output|", [float(v.abs().max()) for v in result])
    x = zoo_inputs(files)
    with torch.no_grad():
        zoo_out = zoo(x)
        fixed_out = torch.cat([fixed(x[i:i + 1]) for i in range(len(files))])
    fixtures["graphs"]["zoo_nhwc_bgr"] = {"bytes": export(zoo, "zoo_nhwc_bgr", ["prob"], x[:2], input_name="data"),
                                          "outputs": {"prob": {"shape": list(zoo_out.shape), "data": f32(zoo_out.numpy())}}}
    fixtures["graphs"]["fixed_batch1"] = {"bytes": export(fixed, "fixed_batch1", ["prob"], x[:1], dynamic=False, input_name="data"),
                                          "outputs": {"prob": {"shape": list(fixed_out.shape), "data": f32(fixed_out.numpy())}}}
    fixtures["graphs"]["fixed_batch3"] = {"bytes": export(fixed, "fixed_batch3", ["prob"], x[:3], dynamic=False, input_name="data"),
                                          "outputs": {"prob": {"shape": list(fixed_out.shape), "data": f32(fixed_out.numpy())}}}
    with open(os.path.join(HERE, "fixtures.json"), "w") as fh:
        json.dump(fixtures, fh, indent=1)
    total = sum(g["bytes"] for g in fixtures["graphs"].values())
    print("graphs:", {k: g["bytes"] for k, g in fixtures["graphs"].items()}, "total", total)


if __name__ == "__main__":
    main()
