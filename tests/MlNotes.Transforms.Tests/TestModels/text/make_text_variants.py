"""Two more tiny BERT-style exports for the text-encoder tests, beside bert_like (same vocab, make_bert_like.py's BertLike):

- bert_pooled.onnx: input_ids, attention_mask (int64) -> last_hidden_state [batch, seq, 16] and pooled [batch, 8], a linear
  projection of the masked mean: a pooled output whose size differs from the hidden size.
- bert_i32_f16.onnx: input_ids, attention_mask, token_type_ids as int32 -> last_hidden_state as float16 [batch, seq, 16].

Writes text_variants_fixture.json with PyTorch's outputs on a few texts. Run from the repository root:
  tools/with-torch tests/MlNotes.Transforms.Tests/TestModels/text/make_text_variants.py
"""
import json
import os
import sys

import onnx
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_bert_like as B  # noqa: E402

T = B.T
POOLED = 8


class Pooled(nn.Module):
    def __init__(self):
        super().__init__()
        self.bert = B.BertLike(len(B.VOCAB))
        self.proj = nn.Linear(B.DIM, POOLED)

    def forward(self, input_ids, attention_mask):
        hidden = self.bert(input_ids, attention_mask, torch.zeros_like(input_ids))
        m = attention_mask.unsqueeze(-1).float()
        return hidden, self.proj((hidden * m).sum(1) / m.sum(1))


class Int32Half(nn.Module):
    def __init__(self):
        super().__init__()
        self.bert = B.BertLike(len(B.VOCAB))

    def forward(self, input_ids, attention_mask, token_type_ids):
        return self.bert(input_ids.long(), attention_mask.long(), token_type_ids.long()).half()


def fix_last_dim(path, sizes):
    graph = onnx.load(path)
    for output, size in zip(graph.graph.output, sizes):
        dim = output.type.tensor_type.shape.dim[-1]
        dim.ClearField("dim_param")
        dim.dim_value = size
    onnx.checker.check_model(graph, full_check=True)
    onnx.save(graph, path)


def main():
    torch.manual_seed(11)
    tok = T.WordPieceTokenizer(B.VOCAB, lower_case=True, max_length=32)
    texts = ["Hello, world!", "The cat sat on the mat.", "", "it is fine"]
    ids, mask = tok.batch(texts)
    ids, mask = torch.tensor(ids), torch.tensor(mask)
    m = mask.unsqueeze(-1).float()

    pooled_model = Pooled().eval()
    with torch.no_grad():
        hidden, pooled = pooled_model(ids, mask)
    path = os.path.join(HERE, "bert_pooled.onnx")
    torch.onnx.export(pooled_model, (ids, mask), path, opset_version=17, input_names=["input_ids", "attention_mask"],
                      output_names=["last_hidden_state", "pooled"],
                      dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
                                    "last_hidden_state": {0: "batch", 1: "seq"}, "pooled": {0: "batch"}})
    fix_last_dim(path, [B.DIM, POOLED])

    half_model = Int32Half().eval()
    i32, m32 = ids.int(), mask.int()
    with torch.no_grad():
        half = half_model(i32, m32, torch.zeros_like(i32))
    path = os.path.join(HERE, "bert_i32_f16.onnx")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    torch.onnx.export(half_model, (i32, m32, torch.zeros_like(i32)), path, opset_version=17, input_names=names,
                      output_names=["last_hidden_state"], dynamic_axes={n: {0: "batch", 1: "seq"} for n in names + ["last_hidden_state"]})
    fix_last_dim(path, [B.DIM])
    half_mean = (half.float() * m).sum(1) / m.sum(1)

    lengths = mask.sum(1).tolist()
    fixture = {"texts": texts,
               "pooled": pooled.flatten().tolist(),
               # Each text's token states, pads left out: what TokenEmbeddingsColumnName gives.
               "pooled_graph_tokens": [hidden[i, :n].flatten().tolist() for i, n in enumerate(lengths)],
               "f16_mean": half_mean.flatten().tolist()}
    with open(os.path.join(HERE, "text_variants_fixture.json"), "w") as f:
        json.dump(fixture, f)
    print("wrote bert_pooled.onnx, bert_i32_f16.onnx, text_variants_fixture.json")


if __name__ == "__main__":
    main()
