"""PyTorch side of the `infonce` benchmark scenario (InfoNceScenario.cs): same data file, linear heads, loss and schedule.

Usage: tools/with-torch tests/MlNotes.Benchmarks/infonce_torch.py DATA.bin EPOCHS
DATA.bin: int32 n_train, n_valid, size_a, size_b, then float32 train A, train B, valid A, valid B.
Prints one JSON line: {"epoch_seconds": [...], "recall_at_1": x} (recall@1 averaged over both directions, all validation rows).
"""
import json
import math
import sys
import time

import numpy as np
import torch

torch.set_num_threads(2)
torch.manual_seed(0)
path, epochs = sys.argv[1], int(sys.argv[2])
E, BATCH, LR = 64, 256, 1e-3

raw = open(path, "rb").read()
n_train, n_valid, da, db = (int(v) for v in np.frombuffer(raw[:16], dtype=np.int32))
values = np.frombuffer(raw[16:], dtype=np.float32)
at = 0
def take(rows, cols):
    global at
    out = values[at:at + rows * cols].reshape(rows, cols)
    at += rows * cols
    return torch.from_numpy(out.copy())
a_train, b_train, a_valid, b_valid = take(n_train, da), take(n_train, db), take(n_valid, da), take(n_valid, db)

head_a, head_b = torch.nn.Linear(da, E), torch.nn.Linear(db, E)
log_scale = torch.nn.Parameter(torch.tensor(math.log(1 / 0.07)))
opt = torch.optim.Adam(list(head_a.parameters()) + list(head_b.parameters()) + [log_scale], lr=LR)

def embed(a, b):
    return torch.nn.functional.normalize(head_a(a), dim=1), torch.nn.functional.normalize(head_b(b), dim=1)

times = []
for epoch in range(epochs):
    start = time.perf_counter()
    perm = torch.randperm(n_train)
    for s in range(0, n_train, BATCH):
        idx = perm[s:s + BATCH]
        if len(idx) < 2:
            continue
        za, zb = embed(a_train[idx], b_train[idx])
        logits = log_scale.exp() * za @ zb.T
        labels = torch.arange(len(idx))
        loss = (torch.nn.functional.cross_entropy(logits, labels) + torch.nn.functional.cross_entropy(logits.T, labels)) / 2
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            log_scale.clamp_(0, math.log(100))
    times.append(time.perf_counter() - start)

with torch.no_grad():
    za, zb = embed(a_valid, b_valid)
    sim = za @ zb.T
    own = sim.diagonal()
    r_ab = float(((sim > own[:, None]).sum(1) == 0).double().mean())
    r_ba = float(((sim > own[None, :]).sum(0) == 0).double().mean())
print(json.dumps({"epoch_seconds": times, "recall_at_1": (r_ab + r_ba) / 2}))
