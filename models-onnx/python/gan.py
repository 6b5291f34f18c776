"""The notes' GAN ("CAN (GAN base)"): a DCGAN-style generator and discriminator on Fashion-MNIST; trained, exported and
described by build_gan (registered in build.py as `gan`).

The recipe, and why each part is there (DCGAN, Radford et al. 2016, with two later stabilizers):
  * generator: noise z [batch, 64] ~ N(0, I) -> linear to 32 x 7 x 7 -> two stride-2 transposed convolutions to 28 x 28,
    batch norm and ReLU after every layer but the last (DCGAN: batch norm keeps G's activations scaled and stops it from
    collapsing early); the last layer is a sigmoid, so images are pixels in [0, 1]: the VAE's data range (the DCGAN tanh
    in [-1, 1] rescaled: (tanh(a) + 1) / 2 = sigmoid(2a));
  * discriminator: two stride-2 convolutions and a linear layer to one logit, leaky ReLU (slope 0.2) and spectral norm on
    every layer (Miyato et al. 2018): spectral norm bounds D's Lipschitz constant, so D cannot saturate and starve G of
    gradient, which is what makes the small CPU budget workable without tuning; no batch norm in D (spectral norm
    replaces it, and D's logit of an image then does not depend on the rest of its batch: the exported D scores one
    image at a time);
  * loss: the non-saturating GAN loss (G maximizes log D(G(z))), binary cross-entropy on logits;
  * one-sided label smoothing: D's target for real images is 0.9, for generated ones 0 (Salimans et al. 2016): it keeps
    D from growing over-confident on real images;
  * Adam, learning rate 2e-4, betas (0.5, 0.999) for both (DCGAN's), one D step per G step, batch 32, 2 epochs (3,750 steps;
    the CPU budget, see models-onnx/README.md).
At export the spectral norm is folded into the weights (torch.nn.utils.remove_spectral_norm), and G runs in eval mode (batch
norm with its running statistics), so each generated image depends on its own noise only, whatever the batch.
"""
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

import common as C
import data as D

GAN_CONFIG = dict(z=64, g_hidden=32, d_hidden=32)
GAN_TRAIN = dict(n_epochs=2, max_steps=1875, lr=2e-4, betas=(0.5, 0.999), batch=32, real_label=0.9, seed=0)
FIXTURE_NOISE_ROWS = 4          # generator fixture: this many N(0, I) noise rows (torch seed 1234)
FIXTURE_IMAGE_ROWS = [0, 1, 2, 3, 1999]  # discriminator fixture: subset images, plus the generator fixture's images
TRAIN_SUBSET_PER_CLASS = 100    # data/fashion-mnist-train-subset: 1,000 training images, the real reference of the
TRAIN_SUBSET_SEED = 2025        # Fréchet distance's real-against-real check (the test subset is data/fashion-mnist-subset)


def write_train_subset():
    """Writes data/fashion-mnist-train-subset/ (PNGs and labels.csv): 100 training images a class, stratified."""
    tr_x, tr_y = D.load_fashion("train")
    idx = D.stratified_indices(tr_y, TRAIN_SUBSET_PER_CLASS, seed=TRAIN_SUBSET_SEED)
    D.write_fashion_subset(tr_x, tr_y, idx, os.path.join(C.DATA, "fashion-mnist-train-subset"))


class Generator(nn.Module):
    """noise [batch, z] -> image [batch, 1, 28, 28], pixels in [0, 1] (sigmoid)."""

    def __init__(self, z=64, hidden=128):
        super().__init__()
        self.hidden = hidden
        self.fc = nn.Sequential(nn.Linear(z, hidden * 7 * 7, bias=False), nn.BatchNorm1d(hidden * 7 * 7), nn.ReLU())
        self.net = nn.Sequential(
            nn.ConvTranspose2d(hidden, hidden // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(hidden // 2), nn.ReLU(),  # 14x14
            nn.ConvTranspose2d(hidden // 2, 1, 4, 2, 1), nn.Sigmoid())                                          # 28x28

    def forward(self, noise):
        return self.net(self.fc(noise).reshape(-1, self.hidden, 7, 7))


class Discriminator(nn.Module):
    """image [batch, 1, 28, 28] in [0, 1] -> logit [batch] (log odds that the image is real)."""

    def __init__(self, hidden=64):
        super().__init__()
        sn = nn.utils.spectral_norm
        self.net = nn.Sequential(
            sn(nn.Conv2d(1, hidden, 4, 2, 1)), nn.LeakyReLU(0.2),               # 14x14
            sn(nn.Conv2d(hidden, hidden * 2, 4, 2, 1)), nn.LeakyReLU(0.2),      # 7x7
            nn.Flatten(), sn(nn.Linear(hidden * 2 * 7 * 7, 1)))

    def forward(self, image):
        return self.net(image).squeeze(1)

    def fold_spectral_norm(self):
        for m in self.net:
            if hasattr(m, "weight_orig"):
                nn.utils.remove_spectral_norm(m)


def discriminator_accuracy(d, real, fake, bs=500):
    """-> mean sigmoid(D) on real, on fake, and the share of both classified right at 0.5."""
    with torch.no_grad():
        pr = torch.cat([torch.sigmoid(d(real[s:s + bs])) for s in range(0, real.shape[0], bs)])
        pf = torch.cat([torch.sigmoid(d(fake[s:s + bs])) for s in range(0, fake.shape[0], bs)])
    acc = float(((pr > 0.5).float().sum() + (pf <= 0.5).float().sum()) / (pr.numel() + pf.numel()))
    return float(pr.mean()), float(pf.mean()), acc


def generate(g, n, seed, z, bs=500):
    gen = torch.Generator().manual_seed(seed)
    noise = torch.randn(n, z, generator=gen)
    with torch.no_grad():
        return torch.cat([g(noise[s:s + bs]) for s in range(0, n, bs)])


def build_gan(fashion, metrics, quick, log):
    write_train_subset()
    C.seed_everything(GAN_TRAIN["seed"])
    cfg, tr = GAN_CONFIG, GAN_TRAIN
    g, d = Generator(cfg["z"], cfg["g_hidden"]), Discriminator(cfg["d_hidden"])
    log(f"[gan] generator {sum(p.numel() for p in g.parameters())} parameters, discriminator "
        f"{sum(p.numel() for p in d.parameters())}, z {cfg['z']}")
    opt_g = torch.optim.Adam(g.parameters(), lr=tr["lr"], betas=tr["betas"])
    opt_d = torch.optim.Adam(d.parameters(), lr=tr["lr"], betas=tr["betas"])
    gen = torch.Generator().manual_seed(tr["seed"])
    x_train = fashion.train_unit
    bs = tr["batch"]
    n_ep = 1 if quick else tr["n_epochs"]
    steps_per_epoch = 3 if quick else min(x_train.shape[0] // bs, tr["max_steps"])
    timer = C.Timer()
    for ep in range(n_ep):
        g.train()
        d.train()
        perm = torch.randperm(x_train.shape[0], generator=gen)
        tot_d = tot_g = 0.0
        for b in range(steps_per_epoch):
            real = x_train[perm[b * bs:(b + 1) * bs]]
            fake = g(torch.randn(bs, cfg["z"], generator=gen))
            # D step: real -> 0.9 (one-sided smoothing), generated -> 0
            lr_, lf = d(real), d(fake.detach())
            loss_d = (F.binary_cross_entropy_with_logits(lr_, torch.full_like(lr_, tr["real_label"]))
                      + F.binary_cross_entropy_with_logits(lf, torch.zeros_like(lf)))
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            # G step: non-saturating, G wants D(G(z)) -> 1
            lg = d(fake)
            loss_g = F.binary_cross_entropy_with_logits(lg, torch.ones_like(lg))
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
            tot_d += loss_d.item()
            tot_g += loss_g.item()
            if (b + 1) % 100 == 0:
                log(f"    step {b + 1}/{steps_per_epoch} D {loss_d.item():.4f} G {loss_g.item():.4f} "
                    f"({timer.seconds()} s, {timer.cpu_seconds()} CPU s)")
        log(f"  epoch {ep + 1}/{n_ep} D loss {tot_d / steps_per_epoch:.4f} G loss {tot_g / steps_per_epoch:.4f}")
    train_seconds, train_cpu = timer.seconds(), timer.cpu_seconds()
    g.eval()
    d.eval()
    d.fold_spectral_norm()
    fake_test = generate(g, fashion.test_unit.shape[0], 2024, cfg["z"])
    p_real, p_fake, d_acc = discriminator_accuracy(d, fashion.test_unit, fake_test)
    fake_mean = float(fake_test.mean())
    log(f"[gan] D on test images {p_real:.4f}, on 10,000 generated {p_fake:.4f}, D accuracy {d_acc:.4f}; "
        f"pixel mean real {float(fashion.test_unit.mean()):.4f} generated {fake_mean:.4f}; {train_seconds}s "
        f"({train_cpu} CPU s)")

    noise = torch.randn(FIXTURE_NOISE_ROWS, cfg["z"], generator=torch.Generator().manual_seed(1234))
    g_dyn = {"noise": {0: "batch"}, "image": {0: "batch"}}
    g_outs, g_sig = C.export_onnx(g, (noise,), os.path.join(C.ROOT, "gan-fashion-generator.onnx"),
                                  ["noise"], ["image"], g_dyn)
    images = torch.cat([fashion.subset_unit[FIXTURE_IMAGE_ROWS], g_outs[0]])
    d_dyn = {"image": {0: "batch"}, "logit": {0: "batch"}}
    d_outs, d_sig = C.export_onnx(d, (images,), os.path.join(C.ROOT, "gan-fashion-discriminator.onnx"),
                                  ["image"], ["logit"], d_dyn)
    common = {
        "format_version": 1, "opset": C.OPSET,
        "labels": D.FASHION_CLASSES,
        "training": {"data": "Fashion-MNIST train (60,000), Debian dataset-fashion-mnist", "epochs": n_ep,
                     "steps": n_ep * steps_per_epoch,
                     "optimizer": "Adam", "lr": tr["lr"], "betas": list(tr["betas"]), "batch": bs, "seed": tr["seed"],
                     "loss": "non-saturating GAN loss, BCE on logits; D: real -> %g (one-sided label smoothing), "
                             "generated -> 0; G: generated -> 1; one D step per G step" % tr["real_label"],
                     "generator": "linear + batch norm + ReLU, two stride-2 transposed convolutions, batch norm, "
                                  "ReLU, sigmoid output",
                     "discriminator": "two stride-2 convolutions and a linear layer, leaky ReLU 0.2, spectral norm on "
                                      "every layer (folded into the weights at export), no batch norm"},
        "metrics": {"test_discriminator_real": round(p_real, 4), "test_discriminator_generated": round(p_fake, 4),
                    "test_discriminator_accuracy": round(d_acc, 4)},
    }
    image_spec = {"width": 28, "height": 28, "channels": 1, "layout": "CHW",
                  "pixel": "in [0, 1] (sigmoid in the graph); times 255 for 8-bit"}
    ins, outs_spec = C.tensor_specs(g_sig, g_dyn)
    C.write_json(os.path.join(C.ROOT, "gan-fashion-generator.json"), dict(
        {"name": "gan-fashion-generator", "family": "gan-generator", "model_file": "gan-fashion-generator.onnx",
         "inputs": ins, "outputs": outs_spec,
         "roles": {"noise": "noise", "image": "image"}, "output_image": image_spec, "noise_size": cfg["z"],
         "noise": "z ~ N(0, I), float32 [batch, noise_size]"}, **common))
    ins, outs_spec = C.tensor_specs(d_sig, d_dyn)
    C.write_json(os.path.join(C.ROOT, "gan-fashion-discriminator.json"), dict(
        {"name": "gan-fashion-discriminator", "family": "gan-discriminator",
         "model_file": "gan-fashion-discriminator.onnx",
         "inputs": ins, "outputs": outs_spec, "roles": {"image": "image", "logit": "logit"},
         "preprocessing": _unit_preprocessing(), "score": "logit = log odds that the image is real; "
                                                         "realism = sigmoid(logit)"}, **common))
    files = [f"data/fashion-mnist-subset/{fashion.subset_files[i]}" for i in FIXTURE_IMAGE_ROWS]
    C.write_json(os.path.join(C.FIXTURES, "gan-fashion-generator.json"), C.fixture(
        ["noise"], [noise], ["image"], g_outs,
        note="noise = torch.randn(4, 64) with torch.Generator seed 1234; image = the generator's pixels in [0, 1]"))
    C.write_json(os.path.join(C.FIXTURES, "gan-fashion-discriminator.json"), C.fixture(
        ["image"], [images], ["logit"], d_outs, images=files, realism=C.tensor_json(torch.sigmoid(d_outs[0])),
        note="image rows 0-4 = the subset PNGs named in images / 255; rows 5-8 = the generator fixture's images; "
             "realism = sigmoid(logit)"))
    metrics["gan"] = {"test_discriminator_real": round(p_real, 4), "test_discriminator_generated": round(p_fake, 4),
                      "test_discriminator_accuracy": round(d_acc, 4), "generated_pixel_mean": round(fake_mean, 4),
                      "test_pixel_mean": round(float(fashion.test_unit.mean()), 4), "noise_size": cfg["z"],
                      "estimator": "mean sigmoid(D) over the 10,000 test images and over 10,000 generated images "
                                   "(torch seed 2024); accuracy: share of both classified right at 0.5",
                      "epochs": n_ep, "steps": n_ep * steps_per_epoch, "batch": bs, "train_seconds": train_seconds, "train_cpu_seconds": train_cpu,
                      "graphs": ["gan-fashion-generator.onnx", "gan-fashion-discriminator.onnx"]}


def _unit_preprocessing():
    return {"width": 28, "height": 28, "channels": 1, "color": "grey", "resize": "none", "crop": "none",
            "scale": 1.0 / 255.0, "mean": [0.0], "std": [1.0], "layout": "CHW",
            "formula": "x = (pixel * scale - mean[c]) / std[c]"}
