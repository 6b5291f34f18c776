"""The notes' models in PyTorch, written to be read next to the notes.

Attention is written out (Linear Q/K/V, matmul, softmax): nn.TransformerEncoder's fused fast path does
not export to ONNX on PyTorch 1.13. Every module's forward takes and returns exactly the tensors of its
ONNX graph, so export is torch.onnx.export(module, ...).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

NEG_INF = -1e9  # added to attention scores of masked keys; exp() of it is exactly 0 in float32


class MultiHeadAttention(nn.Module):
    """MultiHead(Q, K, V) = Concat(head_1..head_h) W^O, head_i = softmax(Q_i K_i^T / sqrt(d_k) + M) V_i.

    `bias` is an additive mask broadcastable to [batch, heads, L_q, L_k]: 0 where attending is allowed,
    NEG_INF where not (padding keys, or future positions for causal attention)."""

    def __init__(self, dim, heads, dropout=0.0):
        super().__init__()
        assert dim % heads == 0
        self.heads, self.d_k = heads, dim // heads
        self.w_q = nn.Linear(dim, dim)
        self.w_k = nn.Linear(dim, dim)
        self.w_v = nn.Linear(dim, dim)
        self.w_o = nn.Linear(dim, dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, bias=None):
        b, n, d = x.shape

        def heads(t):  # [b, n, d] -> [b, h, n, d_k]
            return t.reshape(b, n, self.heads, self.d_k).transpose(1, 2)

        q, k, v = heads(self.w_q(x)), heads(self.w_k(x)), heads(self.w_v(x))
        scores = head_matmul(q, k.transpose(-2, -1)) / math.sqrt(self.d_k)
        if bias is not None:
            scores = scores + bias
        attn = self.dropout(torch.softmax(scores, dim=-1))
        out = head_matmul(attn, v).transpose(1, 2).reshape(b, n, d)
        return self.w_o(out)


# Set by a build that trains on the CPU (g2p_build): head_matmul then multiplies by broadcasting while gradients are on.
BROADCAST_TRAINING_MATMUL = False


def head_matmul(a, b):
    """a @ b over the last two axes ([batch, heads, n, m] @ [batch, heads, m, p]). torch 1.13's CPU matmul of many small
    matrices runs one matrix at a time (three tensor selects and a BLAS call per head and row of the batch); at G2P's sizes
    (256 matrices of 10 x 32) the broadcast product and sum is 1.7x faster forward and backward. Graphs are exported and
    references decoded without gradients, through matmul, so the ONNX graphs keep their MatMul nodes."""
    if BROADCAST_TRAINING_MATMUL and torch.is_grad_enabled():
        return (a.unsqueeze(-1) * b.unsqueeze(-3)).sum(-2)
    return torch.matmul(a, b)


def padding_bias(attention_mask, dtype):
    """[batch, L] (1 = token, 0 = pad) -> additive key mask [batch, 1, 1, L]."""
    return ((1.0 - attention_mask.to(dtype)) * NEG_INF)[:, None, None, :]


def sinusoidal_encoding(max_len, dim):
    """PE(pos, 2i) = sin(pos / 10000^(2i/d_model)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d_model))."""
    pos = torch.arange(max_len, dtype=torch.float64)[:, None]
    i2 = torch.arange(0, dim, 2, dtype=torch.float64)[None, :]
    angle = pos / torch.pow(10000.0, i2 / dim)
    pe = torch.zeros(max_len, dim, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(angle)
    pe[:, 1::2] = torch.cos(angle)
    return pe.float()


# ----------------------------------------------------------------------------- Transformer text encoder

class PostNormEncoderLayer(nn.Module):
    """The original Transformer's encoder layer: each sub-layer is LayerNorm(x + Sublayer(x)).
    FFN(x) = max(0, x W1 + b1) W2 + b2."""

    def __init__(self, dim, heads, ff, dropout):
        super().__init__()
        self.attn = MultiHeadAttention(dim, heads, dropout)
        self.norm1 = nn.LayerNorm(dim)
        self.ff = nn.Sequential(nn.Linear(dim, ff), nn.ReLU(), nn.Dropout(dropout), nn.Linear(ff, dim))
        self.norm2 = nn.LayerNorm(dim)
        self.drop = nn.Dropout(dropout)

    def forward(self, x, bias):
        x = self.norm1(x + self.drop(self.attn(x, bias)))
        return self.norm2(x + self.drop(self.ff(x)))


class TransformerTextEncoder(nn.Module):
    """input_ids, attention_mask [batch, L] int64 -> last_hidden_state [batch, L, dim], pooled [batch, dim]
    (mean of the non-pad positions), logits [batch, classes]."""

    def __init__(self, vocab_size, num_classes, dim=96, heads=4, layers=2, ff=192, max_len=128, dropout=0.1):
        super().__init__()
        self.dim = dim
        self.embed = nn.Embedding(vocab_size, dim)
        self.register_buffer("pe", sinusoidal_encoding(max_len, dim), persistent=False)
        self.drop = nn.Dropout(dropout)
        self.layers = nn.ModuleList([PostNormEncoderLayer(dim, heads, ff, dropout) for _ in range(layers)])
        self.classifier = nn.Linear(dim, num_classes)
        nn.init.normal_(self.embed.weight, std=dim ** -0.5)

    def forward(self, input_ids, attention_mask):
        L = input_ids.shape[1]
        x = self.embed(input_ids) * math.sqrt(self.dim) + self.pe[:L]
        x = self.drop(x)
        bias = padding_bias(attention_mask, x.dtype)
        for layer in self.layers:
            x = layer(x, bias)
        m = attention_mask.to(x.dtype).unsqueeze(-1)
        pooled = (x * m).sum(dim=1) / m.sum(dim=1).clamp(min=1.0)
        return x, pooled, self.classifier(pooled)


# ----------------------------------------------------------------------------- ViT

class PreNormBlock(nn.Module):
    """z' = MSA(LN(z)) + z ; z = MLP(LN(z')) + z'  (the ViT / CLIP block). `bias` as in MultiHeadAttention."""

    def __init__(self, dim, heads, mlp, dropout=0.0):
        super().__init__()
        self.ln1 = nn.LayerNorm(dim)
        self.attn = MultiHeadAttention(dim, heads)
        self.ln2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp), nn.GELU(), nn.Dropout(dropout), nn.Linear(mlp, dim))
        self.drop = nn.Dropout(dropout)

    def forward(self, z, bias=None):
        z = z + self.drop(self.attn(self.ln1(z), bias))
        return z + self.drop(self.mlp(self.ln2(z)))


class ViT(nn.Module):
    """image [batch, C, H, W] -> logits [batch, classes], embedding [batch, dim].

    z_0 = [x_class; x_p^1 E; ...; x_p^N E] + E_pos (patch embedding E as a conv with stride = patch),
    L pre-norm blocks, y = LN(z_L^0) (the class token) = `embedding`, logits = y W_head.
    stem > 0 gives the paper's hybrid variant: the patches are taken from a feature map of `stem` channels
    made by one 3x3 convolution + GELU instead of from the raw pixels."""

    def __init__(self, image=28, channels=1, patch=7, dim=64, depth=4, heads=4, mlp=128, classes=10, dropout=0.0,
                 stem=0):
        super().__init__()
        if stem:
            self.patch_embed = nn.Sequential(nn.Conv2d(channels, stem, 3, 1, 1), nn.GELU(),
                                             nn.Conv2d(stem, dim, kernel_size=patch, stride=patch))
        else:
            self.patch_embed = nn.Conv2d(channels, dim, kernel_size=patch, stride=patch)
        n = (image // patch) ** 2
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.randn(1, n + 1, dim) * 0.02)
        self.blocks = nn.ModuleList([PreNormBlock(dim, heads, mlp, dropout) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)
        nn.init.trunc_normal_(self.cls_token, std=0.02)

    def features(self, image):
        x = self.patch_embed(image).flatten(2).transpose(1, 2)  # [b, N, dim]
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x[:, 0])

    def forward(self, image):
        y = self.features(image)
        return self.head(y), y


# ----------------------------------------------------------------------------- ResNet

class BasicBlock(nn.Module):
    """y = relu(F(x) + shortcut(x)), F = conv-BN-relu-conv-BN; shortcut = identity, or a 1x1 conv
    with BN when the shape changes."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        f = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(f + self.shortcut(x))


class ResNet(nn.Module):
    """image [batch, 1, 28, 28] -> logits [batch, classes], embedding [batch, widths[-1]] (global average pool)."""

    def __init__(self, channels=1, widths=(16, 32, 64), blocks=(1, 1, 1), classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(channels, widths[0], 3, 1, 1, bias=False),
                                  nn.BatchNorm2d(widths[0]), nn.ReLU())
        layers, cin = [], widths[0]
        for stage, (w, n) in enumerate(zip(widths, blocks)):
            for j in range(n):
                layers.append(BasicBlock(cin, w, 2 if (stage > 0 and j == 0) else 1))
                cin = w
        self.layers = nn.Sequential(*layers)
        self.head = nn.Linear(cin, classes)

    def forward(self, image):
        y = self.layers(self.stem(image)).mean(dim=(2, 3))
        return self.head(y), y


# ----------------------------------------------------------------------------- VAE

class VaeEncoder(nn.Module):
    """q(z|x) = N(mean, diag(exp(logvar))). image [batch, 1, 28, 28] in [0, 1] -> mean, logvar [batch, latent]."""

    def __init__(self, latent=16):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, 32, 4, 2, 1), nn.ReLU(),   # 14x14
            nn.Conv2d(32, 64, 4, 2, 1), nn.ReLU(),  # 7x7
            nn.Flatten(), nn.Linear(64 * 7 * 7, 256), nn.ReLU())
        self.mean = nn.Linear(256, latent)
        self.logvar = nn.Linear(256, latent)

    def forward(self, image):
        h = self.conv(image)
        return self.mean(h), self.logvar(h)


class VaeDecoder(nn.Module):
    """p(x|z) = prod_pixels Bernoulli(sigmoid(logits)). z [batch, latent] -> logits [batch, 1, 28, 28]."""

    def __init__(self, latent=16):
        super().__init__()
        self.fc = nn.Sequential(nn.Linear(latent, 256), nn.ReLU(), nn.Linear(256, 64 * 7 * 7), nn.ReLU())
        self.deconv = nn.Sequential(
            nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.ReLU(),  # 14x14
            nn.ConvTranspose2d(32, 1, 4, 2, 1))              # 28x28 logits

    def forward(self, z):
        return self.deconv(self.fc(z).reshape(-1, 64, 7, 7))


def reparameterize(mean, logvar, eps):
    """z = mean + exp(logvar / 2) * eps, eps ~ N(0, I)."""
    return mean + torch.exp(0.5 * logvar) * eps


def negative_elbo(x, logits, mean, logvar):
    """Per image: -ELBO = -log p(x|z) + KL(q(z|x) || N(0, I)), in nats.
    -log p(x|z) = sum_pixels BCE(logits, x) (Bernoulli); KL = -1/2 sum(1 + logvar - mean^2 - exp(logvar))."""
    nll = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(dim=1)
    kl = -0.5 * (1 + logvar - mean.pow(2) - logvar.exp()).sum(dim=1)
    return nll + kl


# ----------------------------------------------------------------------------- CLIP

class ClipImageTower(nn.Module):
    """image [batch, 1, 28, 28] (normalized) -> image_embeds [batch, embed], L2-normalized.
    A small CNN (three conv-BN-ReLU stages, max pooling, global average pooling), then a linear projection."""

    def __init__(self, embed=64, width=16):
        super().__init__()
        w = width
        self.encoder = nn.Sequential(
            nn.Conv2d(1, w, 3, 1, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(), nn.MaxPool2d(2),              # 14
            nn.Conv2d(w, 2 * w, 3, 1, 1, bias=False), nn.BatchNorm2d(2 * w), nn.ReLU(), nn.MaxPool2d(2),      # 7
            nn.Conv2d(2 * w, 4 * w, 3, 1, 1, bias=False), nn.BatchNorm2d(4 * w), nn.ReLU(),
            nn.Conv2d(4 * w, 4 * w, 3, 1, 1, bias=False), nn.BatchNorm2d(4 * w), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.projection = nn.Linear(4 * w, embed, bias=False)

    def forward(self, image):
        return F.normalize(self.projection(self.encoder(image)), dim=-1)


class ClipTextTower(nn.Module):
    """input_ids, attention_mask [batch, L] -> text_embeds [batch, embed], L2-normalized.
    Token + learned position embeddings, pre-norm blocks with causal attention (and padding mask), final
    LayerNorm; the feature is taken at the end-of-text token ([SEP], the last non-pad position), then projected."""

    def __init__(self, vocab_size, embed=64, dim=64, heads=4, layers=2, mlp=128, max_len=32):
        super().__init__()
        self.token_embed = nn.Embedding(vocab_size, dim)
        self.pos_embed = nn.Parameter(torch.randn(max_len, dim) * 0.01)
        self.blocks = nn.ModuleList([PreNormBlock(dim, heads, mlp) for _ in range(layers)])
        self.norm = nn.LayerNorm(dim)
        self.projection = nn.Linear(dim, embed, bias=False)
        nn.init.normal_(self.token_embed.weight, std=0.02)

    def forward(self, input_ids, attention_mask):
        L = input_ids.shape[1]
        x = self.token_embed(input_ids) + self.pos_embed[:L]
        pos = torch.arange(L, device=input_ids.device)
        causal = (pos[None, :] > pos[:, None]).to(x.dtype) * NEG_INF  # [L, L]: key after query -> masked
        bias = causal[None, None, :, :] + padding_bias(attention_mask, x.dtype)
        for blk in self.blocks:
            x = blk(x, bias)
        x = self.norm(x)
        eot = attention_mask.sum(dim=1) - 1                              # index of [SEP]
        idx = eot.clamp(min=0)[:, None, None].expand(-1, 1, x.shape[-1])
        feature = torch.gather(x, 1, idx).squeeze(1)
        return F.normalize(self.projection(feature), dim=-1)


LOGIT_SCALE_INIT = math.log(1 / 0.07)
LOGIT_SCALE_MAX = math.log(100.0)


def clip_loss(image_embeds, text_embeds, log_logit_scale):
    """logits = exp(s) * I T^T over the in-batch pairs; loss = (CE(logits, diag) + CE(logits^T, diag)) / 2."""
    scale = log_logit_scale.clamp(max=LOGIT_SCALE_MAX).exp()
    logits = scale * image_embeds @ text_embeds.t()
    target = torch.arange(logits.shape[0])
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target)) / 2
