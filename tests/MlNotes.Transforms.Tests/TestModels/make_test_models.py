#!/usr/bin/python3
"""Writes the small ONNX test graphs of the scoring engine and their PyTorch fixtures (expected.json).

Run from the repository root:
    tools/with-torch tests/MlNotes.Transforms.Tests/TestModels/make_test_models.py [vae]
(or any Debian python3 with python3-torch and python3-onnx). Weights are random but seeded, so the
output is the same on every run with the same torch build. With the argument `vae`, only the tiny VAE pair
(vae/, for the persistence fixtures) is written and the other graphs are left as they are; with `vae_background`, only
the likelihood ratio's background pair of the same shapes (vae/tiny_vae_background_*); with `vae_norm`, only the
tiny VAE pair on normalized input and its -ELBO fixture (vae/tiny_vae_norm_*).
"""
import json
import math
import os
import re
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OPSET = 17
torch.set_num_threads(2)


# ----------------------------------------------------------------------------- graphs

class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(256, 1024)
        self.fc2 = nn.Linear(1024, 256)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


class Attention(nn.Module):
    """Multi-head self-attention written out: softmax(Q K^T / sqrt(d_k)) V."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads, self.head_dim = heads, dim // heads
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.out = nn.Linear(dim, dim)

    def forward(self, x):
        b, n, d = x.shape
        split = lambda t: t.reshape(b, n, self.heads, self.head_dim).transpose(1, 2)
        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        scores = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(self.head_dim)
        y = torch.matmul(scores.softmax(dim=-1), v)
        return self.out(y.transpose(1, 2).reshape(b, n, d))


class PreNormBlock(nn.Module):
    def __init__(self, dim, heads, mlp):
        super().__init__()
        self.ln1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.ln2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp), nn.GELU(), nn.Linear(mlp, dim))

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class SmallViT(nn.Module):
    def __init__(self, patch=7, dim=64, depth=4, heads=4, mlp=128, classes=10):
        super().__init__()
        self.patch = nn.Conv2d(1, dim, kernel_size=patch, stride=patch)
        n = (28 // patch) ** 2
        self.cls = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.pos = nn.Parameter(torch.randn(1, n + 1, dim) * 0.02)
        self.blocks = nn.ModuleList([PreNormBlock(dim, heads, mlp) for _ in range(depth)])
        self.ln = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, image):
        x = self.patch(image).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
        for blk in self.blocks:
            x = blk(x)
        emb = self.ln(x[:, 0])
        return self.head(emb), emb


class MultiIo(nn.Module):
    def forward(self, a, b, c, d, m):
        f = a * 2.0 + 1.0
        g = b * b
        h = c + torch.ones_like(c)
        s = torch.where(m, d, torch.zeros_like(d)).sum(dim=1)
        p = (d > 0) & m
        return f, g, h, s, p


class VarLen(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(100, 8)
        self.fc = nn.Linear(8, 8)

    def forward(self, input_ids, attention_mask):
        hidden = torch.tanh(self.fc(self.emb(input_ids)))
        m = attention_mask.to(hidden.dtype).unsqueeze(-1)
        pooled = (hidden * m).sum(dim=1) / m.sum(dim=1).clamp(min=1.0)
        return hidden, pooled


class Tower(nn.Module):
    """One side of a dual encoder, as the notes' motion and music encoders: a vector -> an MLP -> a projection."""

    def __init__(self, features, hidden, embedding):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(features, hidden), nn.GELU())
        self.projection = nn.Linear(hidden, embedding)

    def forward(self, x):
        return self.projection(self.encoder(x))


class TinyVaeEncoder(nn.Module):
    """A VAE encoder small enough for a committed model zip: 1 x 8 x 8 images -> MLP -> mean and log-variance (4-d)."""

    def __init__(self, pixels=64, hidden=16, latent=4):
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(pixels, hidden), nn.Tanh())
        self.mean = nn.Linear(hidden, latent)
        self.logvar = nn.Linear(hidden, latent)

    def forward(self, image):
        h = self.body(image)
        return self.mean(h), self.logvar(h) * 0.5


class TinyVaeDecoder(nn.Module):
    """Its decoder: z (4-d) -> MLP -> Bernoulli logits of the 1 x 8 x 8 image."""

    def __init__(self, pixels=64, hidden=16, latent=4):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(latent, hidden), nn.Tanh(), nn.Linear(hidden, pixels))

    def forward(self, z):
        return self.body(z).reshape(-1, 1, 8, 8)


# ----------------------------------------------------------------------------- helpers

DTYPES = {torch.float32: "float32", torch.float64: "float64", torch.int32: "int32",
          torch.int64: "int64", torch.bool: "bool"}


def tensor_json(t):
    t = t.detach().cpu().contiguous()
    dtype = DTYPES[t.dtype]
    flat = t.numpy().reshape(-1)
    if dtype == "float32":
        # shortest repr that round-trips the float32 value exactly
        data = [float(repr(np.float32(v)).replace("np.float32(", "").rstrip(")")) for v in flat]
    elif dtype == "float64":
        data = [float(v) for v in flat]
    elif dtype == "bool":
        data = [bool(v) for v in flat]
    else:
        data = [int(v) for v in flat]
    return {"dtype": dtype, "shape": list(t.shape), "data": data}


def dumps(obj):
    """JSON with indentation for the structure and each flat array (shape, data) on one line."""
    text = json.dumps(obj, indent=1)
    return re.sub(r"\[\s*([^\[\]{}\"]*?)\s*\]",
                  lambda mt: "[" + ", ".join(x.strip() for x in mt.group(1).split(",") if x.strip()) + "]",
                  text) + "\n"


def export(model, args, path, input_names, output_names, dynamic_axes):
    """Exports at opset 17, then types every graph output with its concrete non-dynamic sizes."""
    model.eval()
    with torch.no_grad():
        torch.onnx.export(model, args, path, input_names=input_names, output_names=output_names,
                          dynamic_axes=dynamic_axes, opset_version=OPSET, do_constant_folding=True)
        outs = model(*args)
    outs = outs if isinstance(outs, (tuple, list)) else (outs,)
    m = onnx.load(path)
    for go, t in zip(m.graph.output, outs):
        dims = go.type.tensor_type.shape.dim
        assert len(dims) == t.dim(), (go.name, len(dims), t.dim())
        for ax, dim in enumerate(dims):
            want = dynamic_axes.get(go.name, {}).get(ax)
            dim.Clear()
            if want is not None:
                dim.dim_param = want
            else:
                dim.dim_value = int(t.shape[ax])
    onnx.save(m, path)
    onnx.checker.check_model(onnx.load(path), full_check=True)
    return outs


def describe(path):
    m = onnx.load(path)

    def dims(v):
        return [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]

    def et(v):
        return onnx.TensorProto.DataType.Name(v.type.tensor_type.elem_type)

    ins = ", ".join(f"{v.name}:{et(v)}{dims(v)}" for v in m.graph.input)
    outs = ", ".join(f"{v.name}:{et(v)}{dims(v)}" for v in m.graph.output)
    return f"{os.path.basename(path)} ({os.path.getsize(path)} B) in[{ins}] out[{outs}]"


def build(name, model, args, input_names, output_names, dynamic_axes, fixtures):
    path = os.path.join(HERE, name)
    outs = export(model, args, path, input_names, output_names, dynamic_axes)
    fixtures[name] = {
        "inputs": {n: tensor_json(a) for n, a in zip(input_names, args)},
        "outputs": {n: tensor_json(o) for n, o in zip(output_names, outs)},
    }
    print(describe(path), flush=True)


LIKELIHOOD = {"kind": "bernoulli", "decoder_output": "logits", "output_is": "logits", "probabilities": "sigmoid(logits)"}


def tensor_spec(name, shape):
    return {"name": name, "dtype": "float32", "shape": shape, "dynamic_axes": {"0": "batch"}}


def build_tiny_vae(prefix="tiny_vae", seed=6):
    """vae/tiny_vae_{encoder,decoder}.onnx and their manifests (no PyTorch fixture: the C# fixtures pin their outputs).
    With prefix tiny_vae_background and seed 7: a second pair of the same shapes, the likelihood ratio's background model."""
    folder = os.path.join(HERE, "vae")
    os.makedirs(folder, exist_ok=True)
    torch.manual_seed(seed)
    encoder, decoder = TinyVaeEncoder(), TinyVaeDecoder()
    enc_path = os.path.join(folder, prefix + "_encoder.onnx")
    dec_path = os.path.join(folder, prefix + "_decoder.onnx")
    export(encoder, (torch.rand(2, 1, 8, 8),), enc_path, ["image"], ["mean", "logvar"],
           {"image": {0: "batch"}, "mean": {0: "batch"}, "logvar": {0: "batch"}})
    export(decoder, (torch.randn(2, 4),), dec_path, ["z"], ["logits"], {"z": {0: "batch"}, "logits": {0: "batch"}})
    encoder_manifest = {
        "name": prefix.replace("_", "-") + "-encoder", "family": "vae-encoder", "model_file": prefix + "_encoder.onnx",
        "decoder": prefix + "_decoder.json",
        "inputs": [tensor_spec("image", [-1, 1, 8, 8])],
        "outputs": [tensor_spec("mean", [-1, 4]), tensor_spec("logvar", [-1, 4])],
        "roles": {"image": "image", "mean": "mean", "logvar": "logvar"},
        "preprocessing": {"width": 8, "height": 8, "channels": 1, "color": "grey", "resize": "none", "crop": "none",
                          "scale": 1 / 255, "mean": [0.0], "std": [1.0], "layout": "CHW"},
        "format_version": 1, "opset": OPSET, "latent_size": 4, "likelihood": LIKELIHOOD,
    }
    decoder_manifest = {
        "name": prefix.replace("_", "-") + "-decoder", "family": "vae-decoder", "model_file": prefix + "_decoder.onnx",
        "encoder": prefix + "_encoder.json",
        "inputs": [tensor_spec("z", [-1, 4])],
        "outputs": [tensor_spec("logits", [-1, 1, 8, 8])],
        "roles": {"z": "z", "logits": "logits"},
        "format_version": 1, "opset": OPSET, "latent_size": 4, "likelihood": LIKELIHOOD,
    }
    for name, manifest in ((prefix + "_encoder.json", encoder_manifest), (prefix + "_decoder.json", decoder_manifest)):
        with open(os.path.join(folder, name), "w", encoding="utf-8", newline="\n") as f:
            f.write(json.dumps(manifest, indent=1) + "\n")
    print(describe(enc_path), flush=True)
    print(describe(dec_path), flush=True)


def build_tiny_vae_norm():
    """vae/tiny_vae_norm_{encoder,decoder}.onnx: a tiny VAE pair whose encoder takes *normalized* pixels ((x - 0.5) / 0.25),
    trained a few steps on random 8 x 8 images, and vae/tiny_vae_norm_expected.json: per image, for given eps, the
    reconstruction log-likelihood, KL and -ELBO with the Bernoulli likelihood on x = pixel / 255 in [0, 1]."""
    folder = os.path.join(HERE, "vae")
    os.makedirs(folder, exist_ok=True)
    torch.manual_seed(7)
    mean_, std_ = 0.5, 0.25
    encoder, decoder = TinyVaeEncoder(), TinyVaeDecoder()
    train = torch.randint(0, 256, (64, 1, 8, 8)).float() / 255
    optimizer = torch.optim.Adam(list(encoder.parameters()) + list(decoder.parameters()), lr=1e-2)
    for _ in range(50):
        m, lv = encoder((train - mean_) / std_)
        z = m + torch.exp(0.5 * lv) * torch.randn_like(m)
        rec = F.binary_cross_entropy_with_logits(decoder(z), train, reduction="sum")
        kl = -0.5 * torch.sum(1 + lv - m * m - lv.exp())
        optimizer.zero_grad()
        ((rec + kl) / len(train)).backward()
        optimizer.step()
    enc_path = os.path.join(folder, "tiny_vae_norm_encoder.onnx")
    dec_path = os.path.join(folder, "tiny_vae_norm_decoder.onnx")
    export(encoder, (torch.rand(2, 1, 8, 8),), enc_path, ["image"], ["mean", "logvar"],
           {"image": {0: "batch"}, "mean": {0: "batch"}, "logvar": {0: "batch"}})
    export(decoder, (torch.randn(2, 4),), dec_path, ["z"], ["logits"], {"z": {0: "batch"}, "logits": {0: "batch"}})
    likelihood = dict(LIKELIHOOD, data_range=[0, 1])
    encoder_manifest = {
        "name": "tiny-vae-norm-encoder", "family": "vae-encoder", "model_file": "tiny_vae_norm_encoder.onnx",
        "decoder": "tiny_vae_norm_decoder.json",
        "inputs": [tensor_spec("image", [-1, 1, 8, 8])],
        "outputs": [tensor_spec("mean", [-1, 4]), tensor_spec("logvar", [-1, 4])],
        "roles": {"image": "image", "mean": "mean", "logvar": "logvar"},
        "preprocessing": {"width": 8, "height": 8, "channels": 1, "color": "grey", "resize": "none", "crop": "none",
                          "scale": 1 / 255, "mean": [mean_], "std": [std_], "layout": "CHW",
                          "formula": "x = (pixel * scale - mean[c]) / std[c]"},
        "format_version": 1, "opset": OPSET, "latent_size": 4, "likelihood": likelihood,
    }
    decoder_manifest = {
        "name": "tiny-vae-norm-decoder", "family": "vae-decoder", "model_file": "tiny_vae_norm_decoder.onnx",
        "encoder": "tiny_vae_norm_encoder.json",
        "inputs": [tensor_spec("z", [-1, 4])],
        "outputs": [tensor_spec("logits", [-1, 1, 8, 8])],
        "roles": {"z": "z", "logits": "logits"},
        "format_version": 1, "opset": OPSET, "latent_size": 4, "likelihood": likelihood,
    }
    for name, manifest in (("tiny_vae_norm_encoder.json", encoder_manifest), ("tiny_vae_norm_decoder.json", decoder_manifest)):
        with open(os.path.join(folder, name), "w", encoding="utf-8", newline="\n") as f:
            f.write(json.dumps(manifest, indent=1) + "\n")

    # The fixture: 4 images of 8-bit pixels, eps per image; everything as the exported graphs compute it, sums in float64.
    pixels = torch.randint(0, 256, (4, 1, 8, 8))
    eps = torch.randn(4, 4)
    x = pixels.float() / 255
    encoder.eval(), decoder.eval()
    with torch.no_grad():
        m, lv = encoder((x - mean_) / std_)
        z = m + torch.exp(0.5 * lv) * eps
        logits = decoder(z).double()
        rec = -F.binary_cross_entropy_with_logits(logits, x.double(), reduction="none").sum(dim=(1, 2, 3))
        kl = -0.5 * torch.sum(1 + lv.double() - m.double() ** 2 - lv.double().exp(), dim=1)
    fixture = {
        "pixels": tensor_json(pixels.reshape(4, 64).to(torch.int64)),
        "eps": tensor_json(eps),
        "reconstruction_log_likelihood": tensor_json(rec),
        "kl": tensor_json(kl),
        "neg_elbo": tensor_json(-(rec - kl)),
    }
    with open(os.path.join(folder, "tiny_vae_norm_expected.json"), "w", encoding="utf-8", newline="\n") as f:
        f.write(dumps(fixture))
    print(describe(enc_path), flush=True)
    print(describe(dec_path), flush=True)
    print("neg_elbo", [round(float(v), 4) for v in -(rec - kl)], flush=True)


def main():
    if sys.argv[1:] == ["vae"]:
        build_tiny_vae()
        return
    if sys.argv[1:] == ["vae_background"]:
        build_tiny_vae("tiny_vae_background", seed=7)
        return
    if sys.argv[1:] == ["vae_norm"]:
        build_tiny_vae_norm()
        return

    fixtures = {}
    B = 3

    torch.manual_seed(1)
    build("mlp.onnx", Mlp(), (torch.randn(B, 256),), ["x"], ["y"],
          {"x": {0: "batch"}, "y": {0: "batch"}}, fixtures)

    torch.manual_seed(2)
    vit = SmallViT()
    image = torch.rand(B, 1, 28, 28)
    build("vit_small.onnx", vit, (image,), ["image"], ["logits", "embedding"],
          {"image": {0: "batch"}, "logits": {0: "batch"}, "embedding": {0: "batch"}}, fixtures)

    torch.manual_seed(3)
    a = torch.randn(B, 4)
    b = torch.randn(B, 3, dtype=torch.float64)
    c = torch.randint(-50, 50, (B, 2), dtype=torch.int32)
    d = torch.randint(-9, 10, (B, 5), dtype=torch.int64)
    m = torch.rand(B, 5) > 0.4
    names_in = ["a", "b", "c", "d", "m"]
    names_out = ["f", "g", "h", "s", "p"]
    build("multi_io.onnx", MultiIo(), (a, b, c, d, m), names_in, names_out,
          {n: {0: "batch"} for n in names_in + names_out}, fixtures)

    torch.manual_seed(4)
    lengths = [5, 2, 7]
    L = max(lengths)
    ids = torch.zeros(B, L, dtype=torch.int64)
    mask = torch.zeros(B, L, dtype=torch.int64)
    for i, n in enumerate(lengths):
        ids[i, :n] = torch.randint(1, 100, (n,))
        mask[i, :n] = 1
    bs = {0: "batch", 1: "seq"}
    build("varlen.onnx", VarLen(), (ids, mask), ["input_ids", "attention_mask"], ["hidden", "pooled"],
          {"input_ids": bs, "attention_mask": bs, "hidden": bs, "pooled": {0: "batch"}}, fixtures)

    # The notes' CLIP pairs motion with music: two towers into one 16-d space (and one of another size, for the error).
    torch.manual_seed(5)
    towers = [("tower_motion.onnx", Tower(12, 32, 16), 12), ("tower_music.onnx", Tower(20, 32, 16), 20),
              ("tower_wide.onnx", Tower(20, 32, 24), 20)]
    for name, tower, features in towers:
        build(name, tower, (torch.randn(B, features),), ["features"], ["embedding"],
              {"features": {0: "batch"}, "embedding": {0: "batch"}}, fixtures)

    with open(os.path.join(HERE, "expected.json"), "w") as f:
        f.write(dumps(fixtures))

    build_tiny_vae()
    build_tiny_vae("tiny_vae_background", seed=7)
    build_tiny_vae_norm()

    # check: multi_io outputs typed with concrete non-batch sizes, fixtures agree with the definitions
    mo = onnx.load(os.path.join(HERE, "multi_io.onnx"))
    shapes = {o.name: [d.dim_param or d.dim_value for d in o.type.tensor_type.shape.dim] for o in mo.graph.output}
    assert shapes == {"f": ["batch", 4], "g": ["batch", 3], "h": ["batch", 2], "s": ["batch"], "p": ["batch", 5]}, shapes
    fx = fixtures["multi_io.onnx"]["outputs"]
    assert fx["s"]["data"] == [int(v) for v in torch.where(m, d, 0).sum(1)]
    total = sum(os.path.getsize(os.path.join(HERE, p)) for p in os.listdir(HERE) if os.path.isfile(os.path.join(HERE, p)))
    print(f"folder size {total} B")
    assert total < 4 * 1024 * 1024


if __name__ == "__main__":
    main()
