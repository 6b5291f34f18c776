"""A tiny BERT-style export for the text-encoder tests: inputs input_ids, attention_mask, token_type_ids (int64,
[batch, seq], both axes dynamic) -> last_hidden_state [batch, seq, 16]; random seeded weights. Also its vocab.txt, a vocab
with 20 tokens more than the graph's embedding table (for the error test), and PyTorch reference outputs.

Run from the repository root:  tools/with-torch tests/MlNotes.Transforms.Tests/TestModels/text/make_bert_like.py
"""
import json
import os
import sys

import onnx
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "..", "models-onnx", "python"))
import tokenizer as T  # noqa: E402  (the project's Python twin of BertTokenizer)

torch.manual_seed(7)
WORDS = ["the", "cat", "sat", "on", "mat", "dog", "ran", "fast", "hello", "world", "is", "it", "not", "fine", "day"]
LETTERS = [chr(c) for c in range(ord("a"), ord("z") + 1)]
PUNCT = list(".,!?'-:;()")
VOCAB = T.SPECIAL_TOKENS + LETTERS + ["##" + c for c in LETTERS] + PUNCT + WORDS
DIM = 16


class BertLike(nn.Module):
    def __init__(self, vocab):
        super().__init__()
        self.word = nn.Embedding(vocab, DIM)
        self.position = nn.Embedding(64, DIM)
        self.token_type = nn.Embedding(2, DIM)
        self.norm0 = nn.LayerNorm(DIM)
        self.q, self.k, self.v, self.o = (nn.Linear(DIM, DIM) for _ in range(4))
        self.norm1 = nn.LayerNorm(DIM)
        self.ff = nn.Sequential(nn.Linear(DIM, 32), nn.GELU(), nn.Linear(32, DIM))
        self.norm2 = nn.LayerNorm(DIM)

    def forward(self, input_ids, attention_mask, token_type_ids):
        positions = torch.arange(input_ids.shape[1]).unsqueeze(0)
        x = self.norm0(self.word(input_ids) + self.position(positions) + self.token_type(token_type_ids))
        scores = self.q(x) @ self.k(x).transpose(1, 2) / DIM ** 0.5
        scores = scores + (1.0 - attention_mask[:, None, :].float()) * -1e9
        x = self.norm1(x + self.o(torch.softmax(scores, dim=-1) @ self.v(x)))
        return self.norm2(x + self.ff(x))


def tensor(t):
    return {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape), "data": t.flatten().tolist()}


def main():
    with open(os.path.join(HERE, "bert_like_vocab.txt"), "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(VOCAB) + "\n")
    with open(os.path.join(HERE, "bert_like_vocab_too_big.txt"), "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(VOCAB + [f"extra{i}" for i in range(20)]) + "\n")

    model = BertLike(len(VOCAB)).eval()
    tok = T.WordPieceTokenizer(VOCAB, lower_case=True, max_length=32)
    texts = ["Hello, world!", "The cat sat on the mat.", "It is NOT a fine day?", "", "zebra quux"]
    ids, mask = tok.batch(texts)
    ids, mask = torch.tensor(ids), torch.tensor(mask)
    types = torch.zeros_like(ids)
    with torch.no_grad():
        hidden = model(ids, mask, types)
    m = mask.unsqueeze(-1).float()
    mean = (hidden * m).sum(1) / m.sum(1)
    cls = hidden[:, 0]
    path = os.path.join(HERE, "bert_like.onnx")
    torch.onnx.export(model, (ids, mask, types), path, opset_version=17,
                      input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["last_hidden_state"],
                      dynamic_axes={n: {0: "batch", 1: "seq"} for n in ["input_ids", "attention_mask", "token_type_ids", "last_hidden_state"]})
    graph = onnx.load(path)
    dims = graph.graph.output[0].type.tensor_type.shape.dim
    dims[2].ClearField("dim_param")
    dims[2].dim_value = DIM
    onnx.checker.check_model(graph, full_check=True)
    onnx.save(graph, path)
    fixture = {"texts": texts, "token_ids": [tok.encode(t) for t in texts],
               "inputs": {"input_ids": tensor(ids), "attention_mask": tensor(mask)},
               "outputs": {"last_hidden_state": tensor(hidden), "mean": tensor(mean), "cls": tensor(cls)}}
    with open(os.path.join(HERE, "bert_like_fixture.json"), "w") as f:
        json.dump(fixture, f)
    print("wrote bert_like.onnx, vocabs, fixture; vocab", len(VOCAB), "tokens")


if __name__ == "__main__":
    main()
