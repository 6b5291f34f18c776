"""The notes' VQ-VAE ("VQVAE (d-vae)"): a conv encoder to a grid of latent vectors, a codebook of K vectors, a conv
decoder; trained, exported and described by build_vqvae (registered in build.py as `vqvae`).

The quantized bottleneck, step by step as in the notes:
  1. random initial centroids (the codebook, K x D, drawn from N(0, 1));
  2. each unquantized vector z_e goes to its nearest centroid e_k (squared Euclidean distance): z_q = e_k;
  3. a centroid whose usage (exponential moving average of the number of vectors it receives per batch) falls below a
     threshold is dead and is re-initialized at random: to a vector z_e of the current batch;
  4. each centroid moves to the mean of its vectors by an exponential moving average (no gradient on the codebook):
     N_k <- d N_k + (1 - d) n_k, m_k <- d m_k + (1 - d) sum_{z_e -> k} z_e, e_k = m_k / N_k (Laplace-smoothed N_k);
  5. loss = reconstruction + beta * ||z_e - sg(z_q)||^2 (the commitment loss, stop-gradient on the code); with the EMA
     update, the VQ loss ||sg(z_e) - z_q||^2 of the notes is what step 4 minimizes in closed form;
  6. the decoder sees z_e + sg(z_q - z_e): the value z_q, the gradient of z_e (straight-through).
"""
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

import common as C
import data as D

GRID = 7                 # the latent grid: 7 x 7 positions per 28 x 28 image
VQ_CONFIG = dict(code_dim=16, codebook_size=64, hidden=64)
VQ_TRAIN = dict(n_epochs=5, peak_lr=2e-3, batch=128, beta=0.25, decay=0.99, dead_threshold=0.5, seed=0)
FIXTURE_ROWS = [0, 1, 2, 3, 1999]


class VqEncoder(nn.Module):
    """image [batch, 1, 28, 28] in [0, 1] -> latents [batch, 7, 7, code_dim] (channels last: one vector per position)."""

    def __init__(self, code_dim=16, hidden=64):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, 32, 4, 2, 1), nn.ReLU(),              # 14x14
            nn.Conv2d(32, hidden, 4, 2, 1), nn.ReLU(),         # 7x7
            nn.Conv2d(hidden, hidden, 3, 1, 1), nn.ReLU(),
            nn.Conv2d(hidden, code_dim, 1))

    def forward(self, image):
        return self.conv(image).permute(0, 2, 3, 1)


class VqDecoder(nn.Module):
    """code vectors [batch, 7, 7, code_dim] -> reconstruction [batch, 1, 28, 28], pixels in [0, 1] (sigmoid)."""

    def __init__(self, code_dim=16, hidden=64):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(code_dim, hidden, 3, 1, 1), nn.ReLU(),
            nn.ConvTranspose2d(hidden, 32, 4, 2, 1), nn.ReLU(),  # 14x14
            nn.ConvTranspose2d(32, 1, 4, 2, 1), nn.Sigmoid())    # 28x28

    def forward(self, codes):
        return self.net(codes.permute(0, 3, 1, 2))


class EmaCodebook(nn.Module):
    """Steps 1 to 4 of the module docstring. Buffers only: the codebook gets no gradient."""

    def __init__(self, size, dim, decay, dead_threshold, eps=1e-5):
        super().__init__()
        self.size, self.dim, self.decay, self.dead_threshold, self.eps = size, dim, decay, dead_threshold, eps
        self.register_buffer("codebook", torch.randn(size, dim))          # 1. random initial centroids
        self.register_buffer("ema_count", torch.ones(size))
        self.register_buffer("ema_sum", self.codebook.clone())
        self.reinitialized = 0

    def nearest(self, z):
        """z [N, D] -> indices [N] of the nearest centroid (squared Euclidean; ties to the lower index)."""
        d = (z * z).sum(1, keepdim=True) - 2 * z @ self.codebook.t() + (self.codebook * self.codebook).sum(1)[None, :]
        return d.argmin(1)

    @torch.no_grad()
    def update(self, z, idx, gen):
        """One EMA step on the batch's vectors z [N, D] with their assignments idx, then dead-code re-initialization."""
        onehot = F.one_hot(idx, self.size).type(z.dtype)                    # (N, K)
        n = onehot.sum(0)
        s = onehot.t() @ z                                                   # (K, D)
        self.ema_count.mul_(self.decay).add_(n, alpha=1 - self.decay)        # 4. moving averages
        self.ema_sum.mul_(self.decay).add_(s, alpha=1 - self.decay)
        total = self.ema_count.sum()
        smoothed = (self.ema_count + self.eps) / (total + self.size * self.eps) * total
        self.codebook.copy_(self.ema_sum / smoothed[:, None])
        dead = torch.nonzero(self.ema_count < self.dead_threshold).flatten()  # 3. low usage
        if dead.numel() > 0:
            pick = torch.randint(z.shape[0], (dead.numel(),), generator=gen)
            self.codebook[dead] = z[pick]
            self.ema_sum[dead] = z[pick]
            self.ema_count[dead] = 1.0
            self.reinitialized += int(dead.numel())


def vq_forward(enc, dec, book, x):
    """-> reconstruction, latents z_e [B, 7, 7, D], indices [B, 7, 7], commitment loss (mean)."""
    z_e = enc(x)
    flat = z_e.reshape(-1, book.dim)
    idx = book.nearest(flat.detach())
    z_q = book.codebook[idx].reshape(z_e.shape)
    commitment = F.mse_loss(z_e, z_q.detach())                              # 5. stop-gradient on the code
    z_st = z_e + (z_q - z_e).detach()                                       # 6. straight-through
    return dec(z_st), z_e, idx.reshape(z_e.shape[:-1]), commitment


def evaluate(enc, dec, book, x, bs=500):
    """-> mean squared pixel error, the share of codes used, the perplexity of the code distribution, per-code counts."""
    counts = torch.zeros(book.size, dtype=torch.float64)
    sq, n = 0.0, 0
    with torch.no_grad():
        for s in range(0, x.shape[0], bs):
            xb = x[s:s + bs]
            recon, _, idx, _ = vq_forward(enc, dec, book, xb)
            sq += float(((recon - xb) ** 2).double().sum())
            n += xb.numel()
            counts += torch.bincount(idx.flatten(), minlength=book.size).double()
    p = counts / counts.sum()
    nz = p[p > 0]
    perplexity = float(torch.exp(-(nz * nz.log()).sum()))
    return sq / n, float((counts > 0).double().mean()), perplexity, counts


def build_vqvae(fashion, metrics, quick, log):
    C.seed_everything(VQ_TRAIN["seed"])
    cfg, tr = VQ_CONFIG, VQ_TRAIN
    enc, dec = VqEncoder(cfg["code_dim"], cfg["hidden"]), VqDecoder(cfg["code_dim"], cfg["hidden"])
    book = EmaCodebook(cfg["codebook_size"], cfg["code_dim"], tr["decay"], tr["dead_threshold"])
    params = list(enc.parameters()) + list(dec.parameters())
    log(f"[vqvae] {sum(p.numel() for p in params)} parameters, codebook {cfg['codebook_size']} x {cfg['code_dim']}, "
        f"grid {GRID}x{GRID}")
    opt = torch.optim.Adam(params, lr=tr["peak_lr"])
    gen = torch.Generator().manual_seed(tr["seed"])
    x_train = fashion.train_unit
    bs = tr["batch"]
    n_ep = 1 if quick else tr["n_epochs"]
    steps_per_epoch = 3 if quick else x_train.shape[0] // bs
    total, step = n_ep * steps_per_epoch, 0
    timer = C.Timer()
    for ep in range(n_ep):
        enc.train()
        dec.train()
        perm = torch.randperm(x_train.shape[0], generator=gen)
        tot_rec = tot_com = 0.0
        for b in range(steps_per_epoch):
            x = x_train[perm[b * bs:(b + 1) * bs]]
            recon, z_e, idx, commitment = vq_forward(enc, dec, book, x)
            rec = F.mse_loss(recon, x)
            loss = rec + tr["beta"] * commitment
            C.set_lr(opt, C.cosine_lr(step, total, steps_per_epoch // 4, tr["peak_lr"]))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            book.update(z_e.detach().reshape(-1, book.dim), idx.flatten(), gen)
            step += 1
            tot_rec += rec.item()
            tot_com += commitment.item()
            if (b + 1) % 100 == 0:
                log(f"    step {b + 1}/{steps_per_epoch} MSE {rec.item():.5f} ({timer.seconds()} s, {timer.cpu_seconds()} CPU s)")
        log(f"  epoch {ep + 1}/{n_ep} reconstruction MSE {tot_rec / steps_per_epoch:.5f} "
            f"commitment {tot_com / steps_per_epoch:.5f} codes re-initialized so far {book.reinitialized}")
    train_seconds, train_cpu = timer.seconds(), timer.cpu_seconds()
    enc.eval()
    dec.eval()
    t_mse, t_usage, t_ppl, t_counts = evaluate(enc, dec, book, fashion.test_unit)
    s_mse, s_usage, s_ppl, _ = evaluate(enc, dec, book, fashion.subset_unit)
    log(f"[vqvae] test reconstruction MSE {t_mse:.5f}, codebook usage {t_usage:.4f}, perplexity {t_ppl:.2f}; "
        f"subset {s_mse:.5f} / {s_usage:.4f} / {s_ppl:.2f}; {train_seconds}s")

    rows = FIXTURE_ROWS
    x = fashion.subset_unit[rows]
    enc_dyn = {"image": {0: "batch"}, "latents": {0: "batch"}}
    enc_outs, enc_sig = C.export_onnx(enc, (x,), os.path.join(C.ROOT, "vqvae-fashion-encoder.onnx"),
                                      ["image"], ["latents"], enc_dyn)
    latents = enc_outs[0]
    flat = latents.reshape(-1, book.dim)
    idx = book.nearest(flat)
    with torch.no_grad():
        d = ((flat[:, None, :] - book.codebook[None, :, :]) ** 2).sum(2)    # (N, K)
        best2 = d.topk(2, dim=1, largest=False).values
    margin = float((best2[:, 1] - best2[:, 0]).min())
    quantized = book.codebook[idx].reshape(latents.shape)
    dec_dyn = {"codes": {0: "batch"}, "reconstruction": {0: "batch"}}
    dec_outs, dec_sig = C.export_onnx(dec, (quantized,), os.path.join(C.ROOT, "vqvae-fashion-decoder.onnx"),
                                      ["codes"], ["reconstruction"], dec_dyn)
    row_mse = ((dec_outs[0] - x) ** 2).flatten(1).mean(1)
    codebook = [[C.f32(v) for v in row] for row in book.codebook.tolist()]
    common = {
        "format_version": 1, "opset": C.OPSET, "grid": [GRID, GRID], "code_dim": cfg["code_dim"],
        "codebook_size": cfg["codebook_size"], "codebook": codebook,
        "quantization": "index = argmin_k ||z - codebook[k]||^2 per grid position (ties to the lower index); "
                        "code vector = codebook[index]",
        "labels": D.FASHION_CLASSES,
        "training": {"data": "Fashion-MNIST train (60,000), Debian dataset-fashion-mnist", "epochs": n_ep,
                     "optimizer": "Adam", "peak_lr": tr["peak_lr"], "batch": bs, "seed": tr["seed"],
                     "loss": "MSE(reconstruction, x) + beta * ||z_e - sg(z_q)||^2 (commitment), straight-through "
                             "z_e + sg(z_q - z_e)", "beta": tr["beta"],
                     "codebook_update": "EMA of counts and sums, decay %g, Laplace-smoothed counts" % tr["decay"],
                     "dead_codes": "EMA count below %g: re-initialized to a random vector of the current batch"
                                   % tr["dead_threshold"],
                     "codes_reinitialized": book.reinitialized},
        "metrics": {"test_reconstruction_mse": round(t_mse, 6), "test_codebook_usage": round(t_usage, 4),
                    "test_perplexity": round(t_ppl, 3)},
    }
    ins, outs_spec = C.tensor_specs(enc_sig, enc_dyn)
    C.write_json(os.path.join(C.ROOT, "vqvae-fashion-encoder.json"), dict(
        {"name": "vqvae-fashion-encoder", "family": "vqvae-encoder", "model_file": "vqvae-fashion-encoder.onnx",
         "decoder": "vqvae-fashion-decoder.json", "inputs": ins, "outputs": outs_spec,
         "roles": {"image": "image", "latents": "latents"},
         "preprocessing": _unit_preprocessing()}, **common))
    ins, outs_spec = C.tensor_specs(dec_sig, dec_dyn)
    C.write_json(os.path.join(C.ROOT, "vqvae-fashion-decoder.json"), dict(
        {"name": "vqvae-fashion-decoder", "family": "vqvae-decoder", "model_file": "vqvae-fashion-decoder.onnx",
         "encoder": "vqvae-fashion-encoder.json", "inputs": ins, "outputs": outs_spec,
         "roles": {"codes": "codes", "reconstruction": "reconstruction"},
         "output_image": {"width": 28, "height": 28, "channels": 1, "layout": "CHW",
                          "pixel": "reconstruction in [0, 1] (sigmoid in the graph); times 255 for 8-bit"}}, **common))
    files = [f"data/fashion-mnist-subset/{fashion.subset_files[i]}" for i in rows]
    labels = [int(fashion.subset_y[i]) for i in rows]
    C.write_json(os.path.join(C.FIXTURES, "vqvae-fashion-encoder.json"), C.fixture(
        ["image"], [x], ["latents"], enc_outs, images=files, labels=labels,
        indices=C.tensor_json(idx.reshape(latents.shape[:-1])), quantized=C.tensor_json(quantized),
        min_distance_margin=margin,
        note="image = PNG / 255; indices = nearest codebook row per grid position (row-major 7x7); quantized = "
             "codebook[indices]; min_distance_margin = smallest gap between the nearest and second-nearest squared "
             "distance over all positions (how far the indices are from a tie)"))
    C.write_json(os.path.join(C.FIXTURES, "vqvae-fashion-decoder.json"), C.fixture(
        ["codes"], [quantized], ["reconstruction"], dec_outs, images=files, labels=labels,
        indices=C.tensor_json(idx.reshape(latents.shape[:-1])), reconstruction_mse=C.tensor_json(row_mse),
        note="codes = the encoder fixture's quantized; reconstruction_mse = mean over the 784 pixels of "
             "(reconstruction - PNG / 255)^2 per image"))
    # The encoder's latents of the committed subset, for the C# benchmark against KMeans (as float32 little-endian).
    sub_lat = torch.cat([enc(fashion.subset_unit[s:s + 500]) for s in range(0, fashion.subset_unit.shape[0], 500)])
    metrics["vqvae"] = {"test_reconstruction_mse": round(t_mse, 6), "test_codebook_usage": round(t_usage, 4),
                        "test_perplexity": round(t_ppl, 3), "test_codes_used": int((t_counts > 0).sum()),
                        "subset_reconstruction_mse": round(s_mse, 6), "subset_codebook_usage": round(s_usage, 4),
                        "subset_perplexity": round(s_ppl, 3), "codebook_size": cfg["codebook_size"],
                        "code_dim": cfg["code_dim"], "grid": [GRID, GRID], "codes_reinitialized": book.reinitialized,
                        "subset_latent_rms": round(float(sub_lat.detach().pow(2).mean().sqrt()), 4),
                        "estimator": "MSE: mean over pixels in [0, 1] of (reconstruction - x)^2; usage: share of the "
                                     "codebook's codes chosen at least once over the test set's grid positions; "
                                     "perplexity: exp(entropy) of the test set's code frequencies",
                        "train_seconds": train_seconds, "train_cpu_seconds": train_cpu,
                        "graphs": ["vqvae-fashion-encoder.onnx", "vqvae-fashion-decoder.onnx"]}


def _unit_preprocessing():
    return {"width": 28, "height": 28, "channels": 1, "color": "grey", "resize": "none", "crop": "none",
            "scale": 1.0 / 255.0, "mean": [0.0], "std": [1.0], "layout": "CHW",
            "formula": "x = (pixel * scale - mean[c]) / std[c]"}

