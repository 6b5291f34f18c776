#!/usr/bin/python3
"""Writes tiny_cvae_{encoder,decoder}.onnx and their manifests: a conditional VAE on 8 x 8 images with 3 classes, FiLM
conditioning (models-onnx/python/cvae.py's FilmGenerator), small enough for the committed persistence fixtures.
No PyTorch fixture: Fixtures/Zips/v1 pins their outputs (the models-onnx CVAE has the PyTorch parity tests).

    tools/with-torch tests/MlNotes.Transforms.Tests/TestModels/cvae/make_tiny_cvae.py
"""
import json
import os
import sys

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "..", "models-onnx", "python"))
import cvae as CV  # noqa: E402

LIKELIHOOD = {"kind": "bernoulli", "decoder_output": "logits", "output_is": "logits", "data_range": [0.0, 1.0]}
PRE = {"width": 8, "height": 8, "channels": 1, "color": "grey", "resize": "none", "crop": "none", "scale": 1 / 255,
       "mean": [0.0], "std": [1.0], "layout": "CHW"}
LABELS = ["circle", "square", "cross"]


class TinyEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(64, 16)
        self.film = CV.FilmGenerator([16], embed=4, hidden=8, n_classes=3)
        self.mean, self.logvar = nn.Linear(16, 2), nn.Linear(16, 2)

    def forward(self, image, label):
        h = torch.tanh(CV.film(self.fc(image.flatten(1)), self.film(label)[0]))
        return self.mean(h), self.logvar(h)


class TinyDecoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(2, 16), nn.Linear(16, 64)
        self.film = CV.FilmGenerator([16], embed=4, hidden=8, n_classes=3)

    def forward(self, z, label):
        return self.fc2(torch.tanh(CV.film(self.fc1(z), self.film(label)[0]))).reshape(-1, 1, 8, 8)


def spec(name, shape, dtype="float32"):
    return {"name": name, "dtype": dtype, "shape": shape}


def main():
    torch.manual_seed(9)
    enc, dec = TinyEncoder(), TinyDecoder()
    for m in (enc.film, dec.film):  # not the identity: the label must change the outputs
        for h in m.heads:
            nn.init.normal_(h.weight, std=0.5)
            nn.init.normal_(h.bias, std=0.5)
    enc.eval()
    dec.eval()
    label = torch.tensor([0, 2])
    with torch.no_grad():
        torch.onnx.export(enc, (torch.rand(2, 1, 8, 8), label), os.path.join(HERE, "tiny_cvae_encoder.onnx"),
                          input_names=["image", "label"], output_names=["mean", "logvar"], opset_version=17,
                          dynamic_axes={"image": {0: "batch"}, "label": {0: "batch"}, "mean": {0: "batch"}, "logvar": {0: "batch"}})
        torch.onnx.export(dec, (torch.randn(2, 2), label), os.path.join(HERE, "tiny_cvae_decoder.onnx"),
                          input_names=["z", "label"], output_names=["logits"], opset_version=17,
                          dynamic_axes={"z": {0: "batch"}, "label": {0: "batch"}, "logits": {0: "batch"}})
    common = {"format_version": 1, "opset": 17, "latent_size": 2, "likelihood": LIKELIHOOD, "labels": LABELS,
              "class_counts": [1, 2, 3]}
    manifests = {
        "tiny_cvae_encoder.json": dict({
            "name": "tiny-cvae-encoder", "family": "cvae-encoder", "model_file": "tiny_cvae_encoder.onnx",
            "decoder": "tiny_cvae_decoder.json",
            "inputs": [spec("image", [-1, 1, 8, 8]), spec("label", [-1], "int64")],
            "outputs": [spec("mean", [-1, 2]), spec("logvar", [-1, 2])],
            "roles": {"image": "image", "label": "label", "mean": "mean", "logvar": "logvar"}, "preprocessing": PRE}, **common),
        "tiny_cvae_decoder.json": dict({
            "name": "tiny-cvae-decoder", "family": "cvae-decoder", "model_file": "tiny_cvae_decoder.onnx",
            "encoder": "tiny_cvae_encoder.json",
            "inputs": [spec("z", [-1, 2]), spec("label", [-1], "int64")], "outputs": [spec("logits", [-1, 1, 8, 8])],
            "roles": {"z": "z", "label": "label", "logits": "logits"}}, **common),
    }
    for name, manifest in manifests.items():
        with open(os.path.join(HERE, name), "w", encoding="utf-8", newline="\n") as f:
            f.write(json.dumps(manifest, indent=1) + "\n")


if __name__ == "__main__":
    main()
