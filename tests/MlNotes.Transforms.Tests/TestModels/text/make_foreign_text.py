"""Foreign tokenizers and tiny encoders for the text-encoder tests: the kinds of text models users bring that are not WordPiece.

Writes, beside this script:
- spm_unigram.model, spm_bpe.model: SentencePiece models trained with Debian's spm_train (python3-sentencepiece, sentencepiece)
  on the training fortunes (models-onnx/data/fortunes/train.tsv), 400 pieces, character coverage 0.995 so that rare
  characters ('+', '@', accents...) are unknown, as they are for a real model on text it was not trained on.
- bbpe_vocab.json, bbpe_merges.txt: a byte-level BPE (GPT-2's byte-to-unicode map and pre-tokenizer regex, RoBERTa's special
  tokens <s> <pad> </s> <unk> at 0..3) learned here on the same fortunes, 300 merges.
- spm_encoder.onnx, bbpe_encoder.onnx: make_bert_like's BertLike (random seeded weights) with the vocab size of the unigram
  model and of the byte-level BPE: input_ids, attention_mask (int64, [batch, seq]) -> last_hidden_state [batch, seq, 16].
- foreign_text_fixture.json: the texts (the first 320 test fortunes and a few hand-picked ones), the reference ids of each
  tokenizer for each text, and PyTorch's masked-mean embeddings of the encoders on a few texts.

The references: SentencePiece's own Python module (sp.encode) for the .model files; for the byte-level BPE, `ByteLevelBpe`
below, written from the algorithm of GPT-2's encoder.py (bytes -> unicode, the pre-tokenizer regex, then repeatedly merge the
adjacent pair of lowest merge rank). Run from the repository root:
  tools/with-torch tests/MlNotes.Transforms.Tests/TestModels/text/make_foreign_text.py
"""
import collections
import csv
import json
import os
import subprocess
import sys
import tempfile

import regex

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..", "..", "..")
FORTUNES = os.path.join(ROOT, "models-onnx", "data", "fortunes")
EXTRA = ["C++ is to C as Lung Cancer is to Lung.", "naïve café – “quoted” — ½ ∞", "e-mail: user@example.com #42 ~/.bashrc",
         "  leading and   inner   spaces ", "", "Tabs\tand\nnewlines", "日本語 and emoji 🙂🙂", "ALL CAPS, MiXeD cAsE"]
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]


def texts(name):
    with open(os.path.join(FORTUNES, name), encoding="utf-8", newline="") as f:
        return [row["Text"] for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)]


def bytes_to_unicode():
    """GPT-2's map: printable bytes stand for themselves, the others are shifted past 255 so that every byte is a visible character."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


class ByteLevelBpe:
    """Encodes as GPT-2 does: pre-tokenize, map each word's UTF-8 bytes to unicode, merge by lowest rank until none applies."""

    def __init__(self, vocab, merges):
        self.vocab = vocab
        self.ranks = {pair: i for i, pair in enumerate(merges)}
        self.byte_map = bytes_to_unicode()
        self.pattern = regex.compile(GPT2_PATTERN)

    def word(self, word):
        parts = list(word)
        while len(parts) > 1:
            pairs = [(self.ranks.get((a, b), 1 << 30), i) for i, (a, b) in enumerate(zip(parts, parts[1:]))]
            rank, _ = min(pairs)
            if rank == 1 << 30:
                break
            a, b = next((parts[i], parts[i + 1]) for r, i in pairs if r == rank)
            merged, i = [], 0
            while i < len(parts):
                if i + 1 < len(parts) and parts[i] == a and parts[i + 1] == b:
                    merged.append(a + b)
                    i += 2
                else:
                    merged.append(parts[i])
                    i += 1
            parts = merged
        return parts

    def encode(self, text):
        ids = []
        for token in self.pattern.findall(text):
            mapped = "".join(self.byte_map[b] for b in token.encode("utf-8"))
            ids.extend(self.vocab[p] for p in self.word(mapped))
        return ids


def learn_bpe(corpus, merges_wanted):
    pattern = regex.compile(GPT2_PATTERN)
    byte_map = bytes_to_unicode()
    words = collections.Counter()
    for text in corpus:
        for token in pattern.findall(text):
            words[tuple(byte_map[b] for b in token.encode("utf-8"))] += 1
    merges = []
    for _ in range(merges_wanted):
        pairs = collections.Counter()
        for word, count in words.items():
            for pair in zip(word, word[1:]):
                pairs[pair] += count
        if not pairs:
            break
        best = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))[0]
        merges.append(best)
        joined = collections.Counter()
        for word, count in words.items():
            out, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                    out.append(word[i] + word[i + 1])
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            joined[tuple(out)] += count
        words = joined
    vocab = {t: i for i, t in enumerate(SPECIALS)}
    for c in sorted(byte_map.values()):
        vocab[c] = len(vocab)
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    return vocab, merges


def train_spm(kind, corpus):
    import sentencepiece as spm
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "train.txt")
        with open(data, "w", encoding="utf-8") as f:
            f.write("\n".join(t.replace("\n", " ") for t in corpus) + "\n")
        prefix = os.path.join(tmp, "m")
        subprocess.run(["spm_train", f"--input={data}", f"--model_prefix={prefix}", "--vocab_size=400", f"--model_type={kind}",
                        "--character_coverage=0.995", "--seed_sentencepiece_size=20000", "--num_threads=1",
                        "--minloglevel=2"], check=True)
        with open(prefix + ".model", "rb") as f:
            model = f.read()
    with open(os.path.join(HERE, f"spm_{kind}.model"), "wb") as f:
        f.write(model)
    return spm.SentencePieceProcessor(model_proto=model)


def export(vocab_size, name, ids_per_text):
    import onnx
    import torch
    sys.path.insert(0, HERE)
    import make_bert_like as B

    torch.manual_seed(11)
    model = B.BertLike(vocab_size).eval()
    width = max(len(ids) for ids in ids_per_text)
    ids = torch.tensor([row + [1] * (width - len(row)) for row in ids_per_text])
    mask = torch.tensor([[1] * len(row) + [0] * (width - len(row)) for row in ids_per_text])

    class Wrapped(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask):
            return self.inner(input_ids, attention_mask, torch.zeros_like(input_ids))

    wrapped = Wrapped(model).eval()
    with torch.no_grad():
        hidden = wrapped(ids, mask)
    m = mask.unsqueeze(-1).float()
    mean = ((hidden * m).sum(1) / m.sum(1)).tolist()
    path = os.path.join(HERE, name)
    torch.onnx.export(wrapped, (ids, mask), path, opset_version=17, input_names=["input_ids", "attention_mask"],
                      output_names=["last_hidden_state"],
                      dynamic_axes={n: {0: "batch", 1: "seq"} for n in ["input_ids", "attention_mask", "last_hidden_state"]})
    graph = onnx.load(path)
    dims = graph.graph.output[0].type.tensor_type.shape.dim
    dims[2].ClearField("dim_param")
    dims[2].dim_value = B.DIM
    onnx.checker.check_model(graph, full_check=True)
    onnx.save(graph, path)
    return mean


def main():
    train = texts("train.tsv")
    check = texts("test.tsv")[:320] + EXTRA
    unigram = train_spm("unigram", train)
    bpe = train_spm("bpe", train)
    vocab, merges = learn_bpe(train, 300)
    with open(os.path.join(HERE, "bbpe_vocab.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump(vocab, f, ensure_ascii=False, indent=0)
    with open(os.path.join(HERE, "bbpe_merges.txt"), "w", encoding="utf-8", newline="\n") as f:
        f.write("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges))
    bbpe = ByteLevelBpe(vocab, merges)
    fixture = {
        "texts": check,
        "spm_unigram": [unigram.encode(t) for t in check],
        "spm_bpe": [bpe.encode(t) for t in check],
        "bbpe": [bbpe.encode(t) for t in check],
    }
    # The encoders' reference: sequences as the transformer builds them (<s> ids </s>, the model's bos/eos ids for the
    # SentencePiece model: unk 0, bos 1, eos 2; RoBERTa's 0 and 2 for the byte-level BPE), padded with 1.
    sample = check[:4] + EXTRA[:3]
    fixture["encoder_texts"] = sample
    fixture["spm_encoder_mean"] = export(unigram.get_piece_size(), "spm_encoder.onnx",
                                         [[1] + unigram.encode(t) + [2] for t in sample])
    fixture["bbpe_encoder_mean"] = export(len(vocab), "bbpe_encoder.onnx", [[0] + bbpe.encode(t) + [2] for t in sample])
    with open(os.path.join(HERE, "foreign_text_fixture.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump(fixture, f, ensure_ascii=False, separators=(",", ":"))


if __name__ == "__main__":
    main()
