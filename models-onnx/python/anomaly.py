"""VAE anomaly detection that detects: the background VAE of the likelihood ratio, and the out-of-domain glyph set.

    build.sh --only glyphs           renders data/glyphs/ (28x28 grey letters and digits from Debian's DejaVu fonts)
    build.sh --only vae-background   trains the background VAE, exports it, and measures every score's AUROC

Likelihood ratio (Ren et al. 2019, "Likelihood Ratios for Out-of-Distribution Detection"): a background model is the
same VAE trained on the same images with a fraction MU of their pixels replaced by uniform noise, so it learns the
population's low-level statistics (how much of the image is dark, smooth strokes) but less of its semantics;
log p(x) - log p_background(x) cancels what the two share. Input complexity (Serra et al. 2020, "Input complexity and
out-of-distribution detection with likelihood-based generative models"): S(x) = -log2 p(x) - L(x), L(x) the length
in bits of x under a lossless compressor (PNG here). Both are measured below against the plain -ELBO, on the
held-out class and on the glyphs.
"""
import csv
import io
import math
import os

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

import common as C
import data as D
import nets as N

GLYPH_DIR = os.path.join(C.DATA, "glyphs")
GLYPH_COUNT = 400
GLYPH_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
FONT_DIR = "/usr/share/fonts/truetype/dejavu"   # Debian's fonts-dejavu-core (and -extra where installed)

MU = 0.15              # fraction of pixels replaced (Ren et al. found 0.1 to 0.2 best on Fashion-MNIST)
BACKGROUND_TRAIN = dict(n_epochs=2, peak_lr=2e-3, batch=128)   # the main VAE's recipe (build.py VAE_TRAIN) with 2 epochs, not 10: trained on a 2-core machine shared by 7 (load average 36), where one epoch took 15 minutes
LATENT = 16
HELD_OUT = 9


def log(*a):
    print(*a, flush=True)


# ----------------------------------------------------------------------------- glyphs

def render_glyphs(count=GLYPH_COUNT, seed=2026):
    """count 28x28 grey images, white glyph on black like Fashion-MNIST: a random character of GLYPH_CHARS in a random
    DejaVu face, its larger side scaled to 16..22 pixels, centred with a shift of up to 2 pixels."""
    fonts = sorted(os.path.join(FONT_DIR, f) for f in os.listdir(FONT_DIR) if f.endswith(".ttf"))
    assert fonts, "no DejaVu fonts: apt-get install fonts-dejavu-core"
    rng = np.random.RandomState(seed)
    os.makedirs(GLYPH_DIR, exist_ok=True)
    rows = []
    for i in range(count):
        ch = GLYPH_CHARS[rng.randint(len(GLYPH_CHARS))]
        font_path = fonts[rng.randint(len(fonts))]
        target = rng.randint(16, 23)
        font = ImageFont.truetype(font_path, 64)
        big = Image.new("L", (96, 96), 0)
        ImageDraw.Draw(big).text((16, 8), ch, fill=255, font=font)
        box = big.getbbox()
        glyph = big.crop(box)
        scale = target / max(glyph.size)
        w, h = max(1, round(glyph.size[0] * scale)), max(1, round(glyph.size[1] * scale))
        glyph = glyph.resize((w, h), Image.LANCZOS)
        canvas = Image.new("L", (28, 28), 0)
        dx, dy = rng.randint(-2, 3, size=2)
        canvas.paste(glyph, ((28 - w) // 2 + int(dx), (28 - h) // 2 + int(dy)))
        name = f"{i:05d}.png"
        canvas.save(os.path.join(GLYPH_DIR, name), optimize=False)
        rows.append((name, ch, os.path.basename(font_path)))
    with open(os.path.join(GLYPH_DIR, "labels.csv"), "w", newline="\n") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["file", "char", "font"])
        w.writerows(rows)
    log(f"[glyphs] {count} glyphs from {len(fonts)} fonts into {GLYPH_DIR}")


def read_glyphs():
    with open(os.path.join(GLYPH_DIR, "labels.csv")) as f:
        files = [r["file"] for r in csv.DictReader(f)]
    return np.stack([np.array(Image.open(os.path.join(GLYPH_DIR, n)).convert("L")) for n in files])


# ----------------------------------------------------------------------------- scores

def perturb(x, gen, mu=MU):
    """Each pixel replaced with probability mu by a uniform value in [0, 1] (Ren et al.'s perturbation)."""
    replace = torch.rand(x.shape, generator=gen) < mu
    return torch.where(replace, torch.rand(x.shape, generator=gen), x)


def png_bits(images_u8):
    """PNG length in bits of each 8-bit grey image (PIL, zlib level 9): the complexity L(x) of Serra et al."""
    out = []
    for im in images_u8:
        buf = io.BytesIO()
        Image.fromarray(im, mode="L").save(buf, format="PNG", compress_level=9)
        out.append(8 * buf.tell())
    return np.array(out, dtype=np.float64)


def neg_elbo(enc, dec, x):
    """-ELBO per image in nats at eps = 0 (the posterior mean): deterministic."""
    out = []
    with torch.no_grad():
        for s in range(0, x.shape[0], 500):
            xb = x[s:s + 500]
            mean, logvar = enc(xb)
            out.append(N.negative_elbo(xb, dec(mean), mean, logvar))
    return torch.cat(out).double().numpy()


def load_vae_from_onnx(prefix):
    """The committed VAE as PyTorch modules: the exporter kept the state_dict names as the initializers' names."""
    import onnx
    from onnx import numpy_helper
    enc, dec = N.VaeEncoder(LATENT), N.VaeDecoder(LATENT)
    for module, part in ((enc, "encoder"), (dec, "decoder")):
        m = onnx.load(os.path.join(C.ROOT, f"{prefix}-{part}.onnx"))
        state = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in m.graph.initializer}
        module.load_state_dict(state, strict=True)
        module.eval()
    return enc, dec


def roc_auc(scores, positive):
    scores = np.asarray(scores, dtype=np.float64)
    positive = np.asarray(positive, dtype=bool)
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    s = scores[order]
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    n_pos, n_neg = positive.sum(), (~positive).sum()
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


# ----------------------------------------------------------------------------- background VAE

def build_vae_background(fashion, metrics, quick=False):
    C.seed_everything(0)
    enc, dec = N.VaeEncoder(LATENT), N.VaeDecoder(LATENT)
    keep = fashion.train_y != HELD_OUT
    x_train = fashion.train_unit[keep]
    params = list(enc.parameters()) + list(dec.parameters())
    opt = torch.optim.Adam(params, lr=BACKGROUND_TRAIN["peak_lr"])
    gen = torch.Generator().manual_seed(1)
    bs = BACKGROUND_TRAIN["batch"]
    n_ep = 1 if quick else BACKGROUND_TRAIN["n_epochs"]
    steps = 3 if quick else x_train.shape[0] // bs
    total, step = n_ep * steps, 0
    log(f"[vae-background] training on {x_train.shape[0]} images with {MU:.0%} of pixels replaced by noise")
    timer = C.Timer()
    for ep in range(n_ep):
        enc.train()
        dec.train()
        perm = torch.randperm(x_train.shape[0], generator=gen)
        tot = 0.0
        for b in range(steps):
            x = perturb(x_train[perm[b * bs:(b + 1) * bs]], gen)
            mean, logvar = enc(x)
            z = N.reparameterize(mean, logvar, torch.randn(mean.shape, generator=gen))
            loss = N.negative_elbo(x, dec(z), mean, logvar).mean()
            C.set_lr(opt, C.cosine_lr(step, total, steps // 4, BACKGROUND_TRAIN["peak_lr"]))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            tot += loss.item()
        log(f"  epoch {ep + 1}/{n_ep} train -ELBO (perturbed) {tot / steps:.2f} nats")
    train_seconds, train_cpu = timer.seconds(), timer.cpu_seconds()
    enc.eval()
    dec.eval()

    rows = [0, 1, 2, 3, int(np.flatnonzero(fashion.subset_y.numpy() == HELD_OUT)[0])]
    x = fashion.subset_unit[rows]
    prefix = "vae-fashion-background"
    enc_dyn = {"image": {0: "batch"}, "mean": {0: "batch"}, "logvar": {0: "batch"}}
    enc_outs, enc_sig = C.export_onnx(enc, (x,), os.path.join(C.ROOT, prefix + "-encoder.onnx"), ["image"], ["mean", "logvar"], enc_dyn)
    dec_dyn = {"z": {0: "batch"}, "logits": {0: "batch"}}
    z = enc_outs[0]
    dec_outs, dec_sig = C.export_onnx(dec, (z,), os.path.join(C.ROOT, prefix + "-decoder.onnx"), ["z"], ["logits"], dec_dyn)
    with torch.no_grad():
        neg0 = N.negative_elbo(x, dec_outs[0], enc_outs[0], enc_outs[1])

    scores = evaluate(fashion, (enc, dec))
    likelihood = {"kind": "bernoulli", "decoder_output": "logits", "output_is": "logits",
                  "probabilities": "sigmoid(logits)", "data_range": [0.0, 1.0],
                  "nll": "sum over pixels of softplus(logits) - x * logits (binary cross-entropy with logits)"}
    common = {
        "format_version": 1, "opset": C.OPSET, "latent_size": LATENT, "likelihood": likelihood,
        "held_out_class": {"index": HELD_OUT, "name": D.FASHION_CLASSES[HELD_OUT]}, "labels": D.FASHION_CLASSES,
        "reparameterization": "z = mean + exp(logvar / 2) * eps, eps ~ N(0, I)",
        "elbo": "ELBO = log p(x|z) - KL(N(mean, exp(logvar)) || N(0, I)); in nats per image",
        "training": {"data": "Fashion-MNIST train without class %d, each pixel replaced with probability %.2f by U(0, 1) "
                             "(the background model of Ren et al. 2019's likelihood ratio)" % (HELD_OUT, MU),
                     "epochs": n_ep, "optimizer": "Adam", "peak_lr": BACKGROUND_TRAIN["peak_lr"], "batch": bs, "seed": 0,
                     "perturbation_rate": MU, "loss": "negative ELBO of the perturbed image, one sample per image"},
    }
    ins, outs_spec = C.tensor_specs(enc_sig, enc_dyn)
    preprocessing = {"width": 28, "height": 28, "channels": 1, "color": "grey", "resize": "none", "crop": "none",
                     "scale": 1.0 / 255.0, "mean": [0.0], "std": [1.0], "layout": "CHW",
                     "formula": "x = (pixel * scale - mean[c]) / std[c]"}
    C.write_json(os.path.join(C.ROOT, prefix + "-encoder.json"), dict(
        {"name": prefix + "-encoder", "family": "vae-encoder", "model_file": prefix + "-encoder.onnx",
         "decoder": prefix + "-decoder.json", "inputs": ins, "outputs": outs_spec,
         "roles": {"image": "image", "mean": "mean", "logvar": "logvar"}, "preprocessing": preprocessing}, **common))
    ins, outs_spec = C.tensor_specs(dec_sig, dec_dyn)
    C.write_json(os.path.join(C.ROOT, prefix + "-decoder.json"), dict(
        {"name": prefix + "-decoder", "family": "vae-decoder", "model_file": prefix + "-decoder.onnx",
         "encoder": prefix + "-encoder.json", "inputs": ins, "outputs": outs_spec, "roles": {"z": "z", "logits": "logits"},
         "output_image": {"width": 28, "height": 28, "channels": 1, "layout": "CHW",
                          "pixel": "sigmoid(logits) in [0, 1]; times 255 for 8-bit"}}, **common))
    files = [f"data/fashion-mnist-subset/{fashion.subset_files[i]}" for i in rows]
    labels = [int(fashion.subset_y[i]) for i in rows]
    C.write_json(os.path.join(C.FIXTURES, prefix + "-encoder.json"), C.fixture(
        ["image"], [x], ["mean", "logvar"], enc_outs, images=files, labels=labels, neg_elbo_at_mean=C.tensor_json(neg0),
        note="image = PNG / 255. neg_elbo_at_mean = -ELBO (nats) at eps = 0 (z = mean, the decoder fixture's input)."))
    C.write_json(os.path.join(C.FIXTURES, prefix + "-decoder.json"), C.fixture(
        ["z"], [z], ["logits"], dec_outs, images=files, labels=labels,
        note="z is the encoder fixture's mean (eps = 0) for the images listed"))
    metrics["vae_background"] = dict(
        {"perturbation_rate": MU, "train_seconds": train_seconds, "train_cpu_seconds": train_cpu,
         "graphs": [prefix + "-encoder.onnx", prefix + "-decoder.onnx"],
         "estimator": "AUROC of each anomaly score at eps = 0 (posterior mean), PyTorch; held-out: the subset's 200 Ankle "
                      "boots against its 1,800 other images; glyphs: data/glyphs (400) against the subset's 1,800 seen-class "
                      "images. PNG lengths by PIL at zlib level 9 (the C# detector uses SkiaSharp's encoder: other lengths)"},
        **scores)


def evaluate(fashion, background):
    enc, dec = load_vae_from_onnx("vae-fashion")
    benc, bdec = background
    glyphs_u8 = read_glyphs()
    sub_u8 = fashion.subset_u8
    held = fashion.subset_y.numpy() == HELD_OUT
    x_sub, x_gly = fashion.subset_unit, D.to_unit(glyphs_u8)
    out = {}
    per_set = {}
    for name, x, u8 in (("subset", x_sub, sub_u8), ("glyphs", x_gly, glyphs_u8)):
        nll = neg_elbo(enc, dec, x)
        per_set[name] = {"elbo": nll, "complexity": nll / math.log(2) - png_bits(u8),
                         "likelihood_ratio": nll - neg_elbo(benc, bdec, x)}
    for score in ("elbo", "complexity", "likelihood_ratio"):
        s = per_set["subset"][score]
        out[f"heldout_auroc_{score}"] = round(roc_auc(s, held), 4)
        both = np.concatenate([s[~held], per_set["glyphs"][score]])
        positive = np.concatenate([np.zeros((~held).sum(), bool), np.ones(len(per_set["glyphs"][score]), bool)])
        out[f"glyphs_auroc_{score}"] = round(roc_auc(both, positive), 4)
    log("[vae-background] " + ", ".join(f"{k} {v}" for k, v in out.items()))
    return out
