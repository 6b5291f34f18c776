"""The Transformer's decoder after the notes: masked (causal) self-attention, cross-attention over the encoder's
output, the position-wise FFN, each sub-layer LayerNorm(x + Sublayer(x)) (post-norm, as in "Attention is all you
need"), sinusoidal position encodings; and the encoder-decoder (and decoder-only) models built from it.

Export contract (what the C# GenerateSequenceOnnx transform feeds and reads). Contract 2 (manifest decoder.contract 2,
what g2p_build.export writes since 2026-12-01):
  encoder graph:  input_ids [batch, src] int64, attention_mask [batch, src] int64 -> encoder_hidden_states
                  [batch, src, dim] float32, and per decoder layer i cross_key_<i>, cross_value_<i>
                  [batch, heads, src, head_dim] float32: that layer's cross-attention keys and values of the encoder
                  states (W_k memory + b_k, W_v memory + b_v, split in heads), computed once per batch.
  decoder graph:  input_ids [batch, new] int64 (the tokens of this step), position_ids [batch, new] int64,
                  attention_mask [batch, past + new] int64 (1 on the self-attention keys a row may see, past and new),
                  [encoder_attention_mask [batch, src] int64, cross_key_<i>, cross_value_<i> for each layer i:
                  encoder-decoder only], past_key_<i>, past_value_<i> [past, batch, heads, head_dim] float32 for each
                  layer i -> logits [batch, new, vocab], key_<i>, value_<i> [new, batch, heads, head_dim]: this step's
                  keys and values only. The cache is sequence-major so that a prefix of one preallocated buffer
                  [max_len, batch, heads, head_dim] is the past of every step: the caller appends key_<i> at
                  position past and never reallocates. past = 0 with all tokens as input_ids is the uncached decode.
  Query i of the step (absolute index past + i) sees key j when j <= past + i and attention_mask[:, j] is 1.
Contract 1 (no decoder.contract in the manifest; the graphs before 2026-12-01, models-onnx/g2p-cmudict-v1-*): the
encoder outputs encoder_hidden_states only and the decoder takes encoder_hidden_states, encoder_attention_mask in place
of encoder_attention_mask and the cross_* inputs, recomputing the cross-attention keys and values at every step.
The decoder-only graph (lm-fortunes) has neither encoder input.
"""
import math

import torch
import torch.nn as nn

import nets as N


def _heads(t, b, n, h, dk):  # [b, n, d] -> [b, h, n, dk]
    return t.reshape(b, n, h, dk).transpose(1, 2)


def embedding(vocab, dim):
    """A token embedding initialized N(0, 1/dim), as in the original Transformer's implementations: scaled by sqrt(dim) it
    starts at unit size, like the sinusoidal encoding added to it. (nn.Embedding's default N(0, 1) times sqrt(128) starts
    11 times larger and drowns the positions: the first G2P trainings learned several times slower with it.)"""
    e = nn.Embedding(vocab, dim)
    nn.init.normal_(e.weight, 0.0, dim ** -0.5)
    return e


class CachedSelfAttention(nn.Module):
    """Masked multi-head self-attention over past keys/values (sequence-major cache) and this step's."""

    def __init__(self, dim, heads, dropout=0.0):
        super().__init__()
        self.heads, self.d_k = heads, dim // heads
        self.w_q, self.w_k, self.w_v, self.w_o = (nn.Linear(dim, dim) for _ in range(4))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, past_k, past_v, attention_mask):
        b, n, d = x.shape
        h, dk = self.heads, self.d_k
        q = _heads(self.w_q(x), b, n, h, dk)
        new_k = self.w_k(x).reshape(b, n, h, dk).permute(1, 0, 2, 3)  # [n, b, h, dk]
        new_v = self.w_v(x).reshape(b, n, h, dk).permute(1, 0, 2, 3)
        k = torch.cat([past_k, new_k], 0).permute(1, 2, 0, 3)  # [b, h, past + n, dk]
        v = torch.cat([past_v, new_v], 0).permute(1, 2, 0, 3)
        total = k.shape[2]
        key_pos = torch.arange(total)[None, :]  # [1, T]
        query_pos = torch.arange(n)[:, None] + (total - n)  # [n, 1]
        causal = (key_pos > query_pos).to(x.dtype) * N.NEG_INF
        bias = causal[None, None] + N.padding_bias(attention_mask, x.dtype)
        scores = N.head_matmul(q, k.transpose(-2, -1)) / math.sqrt(dk) + bias
        attn = self.dropout(torch.softmax(scores, dim=-1))
        out = N.head_matmul(attn, v).transpose(1, 2).reshape(b, n, d)
        return self.w_o(out), new_k, new_v


class CrossAttention(nn.Module):
    """Queries from the decoder, keys and values from the encoder's output (padding keys masked)."""

    def __init__(self, dim, heads, dropout=0.0):
        super().__init__()
        self.heads, self.d_k = heads, dim // heads
        self.w_q, self.w_k, self.w_v, self.w_o = (nn.Linear(dim, dim) for _ in range(4))
        self.dropout = nn.Dropout(dropout)

    def project(self, memory):
        """The keys and values of the encoder states, [batch, heads, src, head_dim] each (contract 2's cross_*)."""
        b, s, _ = memory.shape
        return _heads(self.w_k(memory), b, s, self.heads, self.d_k), _heads(self.w_v(memory), b, s, self.heads, self.d_k)

    def forward(self, x, memory, memory_bias, kv=None):
        b, n, d = x.shape
        h, dk = self.heads, self.d_k
        q = _heads(self.w_q(x), b, n, h, dk)
        k, v = kv if kv is not None else self.project(memory)
        scores = N.head_matmul(q, k.transpose(-2, -1)) / math.sqrt(dk) + memory_bias
        attn = self.dropout(torch.softmax(scores, dim=-1))
        return self.w_o(N.head_matmul(attn, v).transpose(1, 2).reshape(b, n, d))


class PostNormDecoderLayer(nn.Module):
    """x = LN(x + SelfAttn(x)); [x = LN(x + CrossAttn(x, memory))]; x = LN(x + FFN(x))."""

    def __init__(self, dim, heads, ff, dropout, cross=True):
        super().__init__()
        self.self_attn = CachedSelfAttention(dim, heads, dropout)
        self.norm1 = nn.LayerNorm(dim)
        self.cross = CrossAttention(dim, heads, dropout) if cross else None
        self.norm2 = nn.LayerNorm(dim) if cross else None
        self.ff = nn.Sequential(nn.Linear(dim, ff), nn.ReLU(), nn.Dropout(dropout), nn.Linear(ff, dim))
        self.norm3 = nn.LayerNorm(dim)
        self.drop = nn.Dropout(dropout)

    def forward(self, x, past_k, past_v, attention_mask, memory=None, memory_bias=None, cross_kv=None):
        a, new_k, new_v = self.self_attn(x, past_k, past_v, attention_mask)
        x = self.norm1(x + self.drop(a))
        if self.cross is not None:
            x = self.norm2(x + self.drop(self.cross(x, memory, memory_bias, cross_kv)))
        return self.norm3(x + self.drop(self.ff(x))), new_k, new_v


class Seq2SeqEncoder(nn.Module):
    """Token embedding * sqrt(dim) + sinusoidal PE, then post-norm encoder layers (nets.PostNormEncoderLayer)."""

    def __init__(self, vocab, dim, heads, layers, ff, max_len, dropout):
        super().__init__()
        self.dim = dim
        self.embed = embedding(vocab, dim)
        self.register_buffer("pe", N.sinusoidal_encoding(max_len, dim), persistent=False)
        self.drop = nn.Dropout(dropout)
        self.layers = nn.ModuleList([N.PostNormEncoderLayer(dim, heads, ff, dropout) for _ in range(layers)])

    def forward(self, input_ids, attention_mask):
        x = self.drop(self.embed(input_ids) * math.sqrt(self.dim) + self.pe[:input_ids.shape[1]])
        bias = N.padding_bias(attention_mask, x.dtype)
        for layer in self.layers:
            x = layer(x, bias)
        return x


class Decoder(nn.Module):
    """Embedding * sqrt(dim) + PE[position_ids], decoder layers, a linear layer to the vocabulary's logits.
    Forward: (input_ids, position_ids, attention_mask, [encoder_hidden_states, encoder_attention_mask],
    past_key_0, past_value_0, ...) -> (logits, key_0, value_0, ...)."""

    def __init__(self, vocab, dim, heads, layers, ff, max_len, dropout, cross=True):
        super().__init__()
        self.dim, self.heads, self.n_layers, self.cross = dim, heads, layers, cross
        self.embed = embedding(vocab, dim)
        self.register_buffer("pe", N.sinusoidal_encoding(max_len, dim), persistent=False)
        self.drop = nn.Dropout(dropout)
        self.layers = nn.ModuleList([PostNormDecoderLayer(dim, heads, ff, dropout, cross) for _ in range(layers)])
        self.out = nn.Linear(dim, vocab)

    def forward(self, input_ids, position_ids, attention_mask, *rest):
        if self.cross:
            memory, memory_mask, past = rest[0], rest[1], rest[2:]
            memory_bias = N.padding_bias(memory_mask, memory.dtype)
        else:
            memory, memory_bias, past = None, None, rest
        return self.run(input_ids, position_ids, attention_mask, memory, memory_bias, [None] * self.n_layers, past)

    def run(self, input_ids, position_ids, attention_mask, memory, memory_bias, cross_kv, past):
        x = self.drop(self.embed(input_ids) * math.sqrt(self.dim) + self.pe[position_ids])
        present = []
        for i, layer in enumerate(self.layers):
            x, k, v = layer(x, past[2 * i], past[2 * i + 1], attention_mask, memory, memory_bias, cross_kv[i])
            present += [k, v]
        return (self.out(x), *present)

    def empty_past(self, batch):
        dk = self.dim // self.heads
        return [torch.zeros(0, batch, self.heads, dk) for _ in range(2 * self.n_layers)]


class Seq2SeqTransformer(nn.Module):
    """Encoder + decoder; training forward with teacher forcing: (src, src_mask, tgt_in) -> logits."""

    def __init__(self, src_vocab, tgt_vocab, dim, heads, enc_layers, dec_layers, ff, max_len, dropout):
        super().__init__()
        self.encoder = Seq2SeqEncoder(src_vocab, dim, heads, enc_layers, ff, max_len, dropout)
        self.decoder = Decoder(tgt_vocab, dim, heads, dec_layers, ff, max_len, dropout, cross=True)

    def forward(self, src, src_mask, tgt_in):
        memory = self.encoder(src, src_mask)
        b, n = tgt_in.shape
        pos = torch.arange(n)[None, :].expand(b, n)
        mask = torch.ones(b, n, dtype=torch.int64)
        return self.decoder(tgt_in, pos, mask, memory, src_mask, *self.decoder.empty_past(b))[0]


class CrossCachingEncoder(nn.Module):
    """Contract 2's encoder graph: (input_ids, attention_mask) -> (encoder_hidden_states, cross_key_0, cross_value_0,
    ...): the encoder and every decoder layer's cross-attention projections of its output (the model's own parameters)."""

    def __init__(self, model):
        super().__init__()
        self.encoder, self.decoder = model.encoder, model.decoder

    def forward(self, input_ids, attention_mask):
        memory = self.encoder(input_ids, attention_mask)
        kv = [t for layer in self.decoder.layers for t in layer.cross.project(memory)]
        return (memory, *kv)


class CrossCachedDecoder(nn.Module):
    """Contract 2's decoder graph: (input_ids, position_ids, attention_mask, encoder_attention_mask, cross_key_0,
    cross_value_0, ..., past_key_0, past_value_0, ...) -> (logits, key_0, value_0, ...)."""

    def __init__(self, model):
        super().__init__()
        self.decoder = model.decoder

    def forward(self, input_ids, position_ids, attention_mask, encoder_attention_mask, *rest):
        n = self.decoder.n_layers
        cross, past = rest[:2 * n], rest[2 * n:]
        bias = N.padding_bias(encoder_attention_mask, cross[0].dtype)
        kv = [(cross[2 * i], cross[2 * i + 1]) for i in range(n)]
        return self.decoder.run(input_ids, position_ids, attention_mask, None, bias, kv, past)
