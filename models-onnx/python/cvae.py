"""The notes' CVAE with FiLM conditioning, and the generative classifier built on it; trained, exported and described
by build_cvae (registered in build.py as `cvae`).

A conditional VAE models p(x | c) for a class c: q(z | x, c) = N(mean, diag(exp(logvar))), p(z) = N(0, I),
p(x | z, c) = prod_pixels Bernoulli(sigmoid(logits)), the VAE's conventions (pixels in [0, 1], no mean/std).
Both networks see the class through FiLM layers: FiLM(h, gamma, beta) = gamma * h + beta per channel, with gamma and
beta generated from the class by a small network (an embedding of the class, a hidden layer, one linear head per FiLM
layer; gamma = 1 + head output, so an untrained head is the identity).

The generative classifier: log p(x | c) >= ELBO(x, c), and by Bayes' rule
    P(c | x) = p(x | c) P(c) / sum_k p(x | k) P(k)  ~  softmax_c(ELBO(x, c) + log P(c)),
the ELBO standing in for the log-likelihood, computed at eps = 0 (z = mean: deterministic), the priors P(c) from the
training label counts.
"""
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import common as C
import data as D
import nets as N

LATENT = 16
N_CLASSES = 10
CVAE_CONFIG = dict(latent=LATENT, embed=16, film_hidden=64)
CVAE_TRAIN = dict(n_epochs=3, peak_lr=2e-3, batch=128, seed=0)
FIXTURE_ROWS = [0, 1, 2, 3, 1999]
GENERATE_LABELS = [0, 1, 5, 7, 8, 9]


class FilmGenerator(nn.Module):
    """class [batch] (int64) -> a (gamma, beta) pair [batch, channels] per FiLM layer."""

    def __init__(self, channels, embed=16, hidden=64, n_classes=N_CLASSES):
        super().__init__()
        self.embed = nn.Embedding(n_classes, embed)
        self.hidden = nn.Sequential(nn.Linear(embed, hidden), nn.ReLU())
        self.heads = nn.ModuleList([nn.Linear(hidden, 2 * c) for c in channels])
        for h in self.heads:  # start as the identity: gamma = 1, beta = 0
            nn.init.zeros_(h.weight)
            nn.init.zeros_(h.bias)

    def forward(self, label):
        h = self.hidden(self.embed(label))
        out = []
        for head in self.heads:
            d_gamma, beta = head(h).chunk(2, dim=1)
            out.append((1 + d_gamma, beta))
        return out


def film(h, gamma_beta):
    """FiLM(h, gamma, beta) = gamma * h + beta, gamma and beta per channel (broadcast over height and width)."""
    gamma, beta = gamma_beta
    if h.dim() == 4:
        gamma, beta = gamma[:, :, None, None], beta[:, :, None, None]
    return gamma * h + beta


class CvaeEncoder(nn.Module):
    """q(z|x, c). image [batch, 1, 28, 28] in [0, 1], label [batch] int64 -> mean, logvar [batch, latent]."""

    def __init__(self, latent=LATENT, embed=16, film_hidden=64):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 4, 2, 1)    # 14x14
        self.conv2 = nn.Conv2d(32, 64, 4, 2, 1)   # 7x7
        self.fc = nn.Linear(64 * 7 * 7, 256)
        self.film = FilmGenerator([32, 64, 256], embed, film_hidden)
        self.mean = nn.Linear(256, latent)
        self.logvar = nn.Linear(256, latent)

    def forward(self, image, label):
        f = self.film(label)
        h = F.relu(film(self.conv1(image), f[0]))
        h = F.relu(film(self.conv2(h), f[1]))
        h = F.relu(film(self.fc(h.flatten(1)), f[2]))
        return self.mean(h), self.logvar(h)


class CvaeDecoder(nn.Module):
    """p(x|z, c). z [batch, latent], label [batch] int64 -> logits [batch, 1, 28, 28] (Bernoulli per pixel)."""

    def __init__(self, latent=LATENT, embed=16, film_hidden=64):
        super().__init__()
        self.fc1 = nn.Linear(latent, 256)
        self.fc2 = nn.Linear(256, 64 * 7 * 7)
        self.deconv1 = nn.ConvTranspose2d(64, 32, 4, 2, 1)  # 14x14
        self.deconv2 = nn.ConvTranspose2d(32, 1, 4, 2, 1)   # 28x28 logits
        self.film = FilmGenerator([256, 64, 32], embed, film_hidden)

    def forward(self, z, label):
        f = self.film(label)
        h = F.relu(film(self.fc1(z), f[0]))
        h = F.relu(film(self.fc2(h).reshape(-1, 64, 7, 7), f[1]))
        h = F.relu(film(self.deconv1(h), f[2]))
        return self.deconv2(h)


def neg_elbo(enc, dec, x, y, eps_gen=None, bs=1000):
    """Per (image, label) -ELBO in nats, one sample z = mean + exp(logvar/2) eps; eps = 0 when eps_gen is None."""
    out = []
    with torch.no_grad():
        for s in range(0, x.shape[0], bs):
            xb, yb = x[s:s + bs], y[s:s + bs]
            mean, logvar = enc(xb, yb)
            eps = torch.randn(mean.shape, generator=eps_gen) if eps_gen is not None else torch.zeros_like(mean)
            out.append(N.negative_elbo(xb, dec(N.reparameterize(mean, logvar, eps), yb), mean, logvar))
    return torch.cat(out)


def class_elbos(enc, dec, x, bs=50):
    """ELBO(x, c) at eps = 0 for every class c: [n, N_CLASSES]."""
    out = []
    for s in range(0, x.shape[0], bs):
        xb = x[s:s + bs]
        n = xb.shape[0]
        xs = xb.repeat_interleave(N_CLASSES, dim=0)                   # image-major: row i * 10 + c
        ys = torch.arange(N_CLASSES).repeat(n)
        out.append(-neg_elbo(enc, dec, xs, ys, bs=xs.shape[0]).reshape(n, N_CLASSES))
    return torch.cat(out)


def log_posterior(elbos, log_prior):
    """log P(c|x) = ELBO(x, c) + log P(c) - logsumexp_k(ELBO(x, k) + log P(k))."""
    joint = elbos.double() + log_prior.double()[None, :]
    return (joint - torch.logsumexp(joint, dim=1, keepdim=True)).float()


def build_cvae(fashion, metrics, quick, log):
    C.seed_everything(CVAE_TRAIN["seed"])
    cfg, tr = CVAE_CONFIG, CVAE_TRAIN
    enc = CvaeEncoder(cfg["latent"], cfg["embed"], cfg["film_hidden"])
    dec = CvaeDecoder(cfg["latent"], cfg["embed"], cfg["film_hidden"])
    params = list(enc.parameters()) + list(dec.parameters())
    log(f"[cvae] {sum(p.numel() for p in params)} parameters; FiLM in encoder (32, 64, 256) and decoder (256, 64, 32)")
    opt = torch.optim.Adam(params, lr=tr["peak_lr"])
    gen = torch.Generator().manual_seed(tr["seed"])
    x_train, y_train = fashion.train_unit, fashion.train_y.long()
    counts = torch.bincount(y_train, minlength=N_CLASSES)
    bs = tr["batch"]
    n_ep = 1 if quick else tr["n_epochs"]
    steps_per_epoch = 3 if quick else x_train.shape[0] // bs
    total, step = n_ep * steps_per_epoch, 0
    timer = C.Timer()
    for ep in range(n_ep):
        enc.train()
        dec.train()
        perm = torch.randperm(x_train.shape[0], generator=gen)
        tot = 0.0
        for b in range(steps_per_epoch):
            idx = perm[b * bs:(b + 1) * bs]
            x, y = x_train[idx], y_train[idx]
            mean, logvar = enc(x, y)
            z = N.reparameterize(mean, logvar, torch.randn(mean.shape, generator=gen))
            loss = N.negative_elbo(x, dec(z, y), mean, logvar).mean()
            C.set_lr(opt, C.cosine_lr(step, total, steps_per_epoch // 4, tr["peak_lr"]))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            tot += loss.item()
            if (b + 1) % 100 == 0:
                log(f"    step {b + 1}/{steps_per_epoch} -ELBO {loss.item():.2f} ({timer.seconds()} s, {timer.cpu_seconds()} CPU s)")
        log(f"  epoch {ep + 1}/{n_ep} train -ELBO {tot / steps_per_epoch:.2f} nats")
    train_seconds, train_cpu = timer.seconds(), timer.cpu_seconds()
    enc.eval()
    dec.eval()

    log_prior = torch.log(counts.double() / counts.sum())
    te_x, te_y = fashion.test_unit, fashion.test_y.long()
    su_x, su_y = fashion.subset_unit, fashion.subset_y.long()
    sub_idx = torch.from_numpy(D.stratified_indices(fashion.test_y.numpy(), 200, seed=2024))  # the subset's test rows
    assert torch.equal(te_y[sub_idx], su_y)
    if quick:  # a few hundred test images: the pipeline only
        te_x, te_y, sub_idx = te_x[sub_idx[::5]], te_y[sub_idx[::5]], torch.arange(0, 400)
        su_x, su_y = te_x, te_y
    t_elbo = -float(neg_elbo(enc, dec, te_x, te_y, torch.Generator().manual_seed(123)).mean())
    t_elbos = class_elbos(enc, dec, te_x)                                   # [10000, 10] at eps = 0
    t_elbo0 = float(t_elbos.gather(1, te_y[:, None]).mean())
    s_elbo0 = float(t_elbos[sub_idx].gather(1, su_y[:, None]).mean())
    t_post = log_posterior(t_elbos, log_prior)
    s_post = t_post[sub_idx]
    t_acc = float((t_post.argmax(1) == te_y).double().mean())
    s_acc = float((s_post.argmax(1) == su_y).double().mean())
    s_conf = torch.zeros(N_CLASSES, N_CLASSES, dtype=torch.long)
    for t, p in zip(su_y.tolist(), s_post.argmax(1).tolist()):
        s_conf[t, p] += 1
    log(f"[cvae] test conditional ELBO {t_elbo:.2f} (eps = 0: {t_elbo0:.2f}) nats/image; generative classifier "
        f"accuracy test {t_acc:.4f}, subset {s_acc:.4f}; {train_seconds}s ({train_cpu} CPU s)")

    rows = FIXTURE_ROWS
    x, y = fashion.subset_unit[rows], fashion.subset_y.long()[rows]
    enc_dyn = {"image": {0: "batch"}, "label": {0: "batch"}, "mean": {0: "batch"}, "logvar": {0: "batch"}}
    enc_outs, enc_sig = C.export_onnx(enc, (x, y), os.path.join(C.ROOT, "cvae-fashion-encoder.onnx"),
                                      ["image", "label"], ["mean", "logvar"], enc_dyn)
    eps = torch.randn(enc_outs[0].shape, generator=torch.Generator().manual_seed(7))
    z = N.reparameterize(enc_outs[0], enc_outs[1], eps)
    dec_dyn = {"z": {0: "batch"}, "label": {0: "batch"}, "logits": {0: "batch"}}
    dec_outs, dec_sig = C.export_onnx(dec, (z, y), os.path.join(C.ROOT, "cvae-fashion-decoder.onnx"),
                                      ["z", "label"], ["logits"], dec_dyn)
    with torch.no_grad():
        neg = N.negative_elbo(x, dec_outs[0], enc_outs[0], enc_outs[1])
        neg0 = N.negative_elbo(x, dec(enc_outs[0], y), enc_outs[0], enc_outs[1])
        fx_elbos = class_elbos(enc, dec, x)
        fx_post = log_posterior(fx_elbos, log_prior)
        # generation: z ~ N(0, I) from a fixed seed, decoded for given labels; images = sigmoid(logits)
        gen_labels = torch.tensor(GENERATE_LABELS)
        gen_z = torch.randn(len(GENERATE_LABELS), LATENT, generator=torch.Generator().manual_seed(11))
        gen_logits = dec(gen_z, gen_labels)
    likelihood = {"kind": "bernoulli", "decoder_output": "logits", "output_is": "logits",
                  "probabilities": "sigmoid(logits)", "data_range": [0.0, 1.0],
                  "nll": "sum over pixels of softplus(logits) - x * logits (binary cross-entropy with logits)"}
    common = {
        "format_version": 1, "opset": C.OPSET, "latent_size": LATENT, "likelihood": likelihood,
        "labels": D.FASHION_CLASSES, "class_counts": [int(c) for c in counts.tolist()],
        "conditioning": "input 'label' int64 [batch], the class index into labels; FiLM(h, gamma, beta) = gamma * h + "
                        "beta per channel, gamma = 1 + head(h_c), beta = head(h_c), h_c = ReLU(W embedding(label))",
        "reparameterization": "z = mean + exp(logvar / 2) * eps, eps ~ N(0, I)",
        "elbo": "ELBO(x, c) = log p(x|z, c) - KL(N(mean, exp(logvar)) || N(0, I)), (mean, logvar) = encoder(x, c); "
                "in nats per image",
        "classifier": "log P(c|x) = ELBO(x, c) + log P(c) - logsumexp_k(ELBO(x, k) + log P(k)), ELBO at eps = 0, "
                      "P(c) = class_counts / sum",
        "training": {"data": "Fashion-MNIST train (60,000), Debian dataset-fashion-mnist", "epochs": n_ep,
                     "optimizer": "Adam", "peak_lr": tr["peak_lr"], "batch": bs, "seed": tr["seed"],
                     "loss": "negative conditional ELBO, one sample per image"},
        "metrics": {"test_elbo": round(t_elbo, 2), "test_elbo_at_mean": round(t_elbo0, 2),
                    "test_classifier_accuracy": round(t_acc, 4)},
    }
    ins, outs_spec = C.tensor_specs(enc_sig, enc_dyn)
    C.write_json(os.path.join(C.ROOT, "cvae-fashion-encoder.json"), dict(
        {"name": "cvae-fashion-encoder", "family": "cvae-encoder", "model_file": "cvae-fashion-encoder.onnx",
         "decoder": "cvae-fashion-decoder.json", "inputs": ins, "outputs": outs_spec,
         "roles": {"image": "image", "label": "label", "mean": "mean", "logvar": "logvar"},
         "preprocessing": _unit_preprocessing()}, **common))
    ins, outs_spec = C.tensor_specs(dec_sig, dec_dyn)
    C.write_json(os.path.join(C.ROOT, "cvae-fashion-decoder.json"), dict(
        {"name": "cvae-fashion-decoder", "family": "cvae-decoder", "model_file": "cvae-fashion-decoder.onnx",
         "encoder": "cvae-fashion-encoder.json", "inputs": ins, "outputs": outs_spec,
         "roles": {"z": "z", "label": "label", "logits": "logits"},
         "output_image": {"width": 28, "height": 28, "channels": 1, "layout": "CHW",
                          "pixel": "sigmoid(logits) in [0, 1]; times 255 for 8-bit"}}, **common))
    files = [f"data/fashion-mnist-subset/{fashion.subset_files[i]}" for i in rows]
    C.write_json(os.path.join(C.FIXTURES, "cvae-fashion-encoder.json"), C.fixture(
        ["image", "label"], [x, y], ["mean", "logvar"], enc_outs, images=files, labels=[int(v) for v in y],
        eps=C.tensor_json(eps), z=C.tensor_json(z), neg_elbo=C.tensor_json(neg), neg_elbo_at_mean=C.tensor_json(neg0),
        class_elbos_at_mean=C.tensor_json(fx_elbos), log_posterior=C.tensor_json(fx_post),
        log_prior=C.tensor_json(log_prior.float()),
        note="image = PNG / 255 (no mean/std), label = the image's true class. z = mean + exp(logvar/2) * eps; "
             "neg_elbo = -ELBO(x, label) (nats) with that z; neg_elbo_at_mean uses eps = 0. class_elbos_at_mean "
             "[row, c] = ELBO(x, c) at eps = 0; log_posterior = log P(c|x) by Bayes' rule with log_prior"))
    C.write_json(os.path.join(C.FIXTURES, "cvae-fashion-decoder.json"), C.fixture(
        ["z", "label"], [z, y], ["logits"], dec_outs, eps=C.tensor_json(eps), images=files,
        generate_labels=C.tensor_json(gen_labels), generate_z=C.tensor_json(gen_z),
        generate_logits=C.tensor_json(gen_logits),
        note="z is the encoder fixture's mean + exp(logvar/2) * eps for the images listed, label their class; "
             "generate_*: z ~ N(0, I) (torch seed 11) decoded for generate_labels"))
    metrics["cvae"] = {"test_elbo": round(t_elbo, 2), "test_elbo_at_mean": round(t_elbo0, 2),
                       "subset_elbo_at_mean": round(s_elbo0, 2),
                       "test_classifier_accuracy": round(t_acc, 4), "subset_classifier_accuracy": round(s_acc, 4),
                       "subset_confusion": s_conf.tolist(),
                       "estimator": "conditional ELBO(x, true label) in nats per image (higher is better), one "
                                    "sample of eps per image (torch.Generator seed 123, batches of 1000); *_at_mean: "
                                    "eps = 0. Classifier: argmax_c ELBO(x, c) at eps = 0 + log P(c), P(c) from the "
                                    "training label counts; subset_confusion[true][predicted]",
                       "latent_size": LATENT, "train_seconds": train_seconds, "train_cpu_seconds": train_cpu,
                       "graphs": ["cvae-fashion-encoder.onnx", "cvae-fashion-decoder.onnx"]}


def _unit_preprocessing():
    return {"width": 28, "height": 28, "channels": 1, "color": "grey", "resize": "none", "crop": "none",
            "scale": 1.0 / 255.0, "mean": [0.0], "std": [1.0], "layout": "CHW",
            "formula": "x = (pixel * scale - mean[c]) / std[c]"}
