"""PyTorch side of the `mdn` benchmark scenario (MdnScenario.cs): same data file, architecture, loss, prior and schedule.

Usage: tools/with-torch tests/MlNotes.Benchmarks/mdn_torch.py DATA.bin EPOCHS
DATA.bin: int32 n_train, n_test, features, then float32 train features, train labels, test features, test labels.
Prints one JSON line: {"epoch_seconds": [...], "test_nll": x}.
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
K, HIDDEN, BATCH, LR, L2, MIN_SIGMA = 5, [64, 64], 256, 1e-3, 1e-2, 1e-3

raw = open(path, "rb").read()
n_train, n_test, f = np.frombuffer(raw[:12], dtype=np.int32)
values = np.frombuffer(raw[12:], dtype=np.float32)
at = 0
def take(count, shape):
    global at
    out = values[at:at + count].reshape(shape)
    at += count
    return torch.from_numpy(out.copy())
x_train = take(n_train * f, (n_train, f)); y_train = take(n_train, (n_train,))
x_test = take(n_test * f, (n_test, f)); y_test = take(n_test, (n_test,))

mean = float(y_train.double().mean()); scale = float(y_train.double().std(unbiased=False))
y_train = (y_train - mean) / scale
y_test = (y_test - mean) / scale

layers, size = [], int(f)
for h in HIDDEN:
    layers += [torch.nn.Linear(size, h), torch.nn.Tanh()]
    size = h
layers.append(torch.nn.Linear(size, 3 * K))
net = torch.nn.Sequential(*layers)
weights = [m.weight for m in net if isinstance(m, torch.nn.Linear)]
opt = torch.optim.Adam(net.parameters(), lr=LR)

def nll(x, y):
    out = net(x)
    logits, mu, s = out[:, :K], out[:, K:2 * K], out[:, 2 * K:]
    sigma = MIN_SIGMA + torch.nn.functional.softplus(s)
    z = (y[:, None] - mu) / sigma
    log_n = -0.5 * z * z - torch.log(sigma) - 0.5 * math.log(2 * math.pi)
    return -torch.logsumexp(torch.log_softmax(logits, dim=1) + log_n, dim=1)

times = []
for epoch in range(epochs):
    start = time.perf_counter()
    perm = torch.randperm(int(n_train))
    for b in range(0, int(n_train), BATCH):
        idx = perm[b:b + BATCH]
        loss = nll(x_train[idx], y_train[idx]).mean() + L2 / (2 * n_train) * sum((w * w).sum() for w in weights)
        opt.zero_grad()
        loss.backward()
        opt.step()
    times.append(time.perf_counter() - start)

with torch.no_grad():
    test_nll = float(nll(x_test, y_test).double().mean()) + math.log(scale)
print(json.dumps({"epoch_seconds": times, "test_nll": test_nll}))
