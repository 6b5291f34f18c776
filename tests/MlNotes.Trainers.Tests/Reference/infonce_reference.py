"""PyTorch reference for the InfoNCE loss parity test (InfoNceParityTests.cs). Writes infonce_reference.json.

Two linear-plus-MLP heads (A: 12 -> [16] ReLU -> 8, B: 10 -> [16] ReLU -> 8) with random weights, a batch of 32 pairs, the logit scale
e^t (t = ln(1 / 0.07)), logits = scale * normalize(hA(a)) @ normalize(hB(b)).T, loss = (CE(logits, arange) + CE(logits.T, arange)) / 2,
in float64 and float32; also the loss with groups (negatives only within a group: other entries masked to -inf), and the gradient of
the log scale. Weights in MlNotes' layout: per layer W as (in, out) row-major, then b; head A, head B, then t.
Run from the repository root: tools/with-torch tests/MlNotes.Trainers.Tests/Reference/infonce_reference.py
"""
import json
import math
import os

import torch

torch.manual_seed(0)
N, DA, DB, H, E = 32, 12, 10, 16, 8


def head(d):
    return torch.nn.Sequential(torch.nn.Linear(d, H), torch.nn.ReLU(), torch.nn.Linear(H, E)).double()


ha, hb = head(DA), head(DB)
t = torch.tensor(math.log(1 / 0.07), dtype=torch.float64, requires_grad=True)
a = torch.randn(N, DA, dtype=torch.float64)
b = torch.randn(N, DB, dtype=torch.float64)
groups = torch.tensor([i // 5 for i in range(N)])


def loss(dtype, mask=None):
    za = torch.nn.functional.normalize(ha.to(dtype)(a.to(dtype)), dim=1)
    zb = torch.nn.functional.normalize(hb.to(dtype)(b.to(dtype)), dim=1)
    logits = t.to(dtype).exp() * za @ zb.T
    if mask is not None:
        logits = logits.masked_fill(~mask, float("-inf"))
    labels = torch.arange(N)
    return (torch.nn.functional.cross_entropy(logits, labels) + torch.nn.functional.cross_entropy(logits.T, labels)) / 2


params = []
for h in (ha, hb):
    for m in h:
        if isinstance(m, torch.nn.Linear):
            params += m.weight.detach().t().contiguous().view(-1).tolist() + m.bias.detach().view(-1).tolist()
params.append(float(t))
l64 = loss(torch.float64)
l64.backward()
grouped = float(loss(torch.float64, groups[:, None] == groups[None, :]))
l32 = float(loss(torch.float32))  # last: Module.to() converts the heads in place
fixture = {
    "rows": N, "size_a": DA, "size_b": DB, "hidden": [H], "embedding": E,
    "a": a.view(-1).tolist(), "b": b.view(-1).tolist(), "groups": groups.tolist(), "parameters": params,
    "loss_float64": float(l64), "loss_float32": l32, "loss_grouped_float64": grouped,
    "grad_log_scale": float(t.grad),
}
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "infonce_reference.json")
with open(out, "w") as f:
    json.dump(fixture, f)
print(f"wrote {out}: loss {fixture['loss_float64']:.8f} (float32 {fixture['loss_float32']:.8f}), grouped {fixture['loss_grouped_float64']:.8f}")
