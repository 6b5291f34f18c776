"""PyTorch reference for the MDN parity test (MdnPyTorchParityTests.cs). Writes mdn_reference.json.

Bishop's inverse problem (x = t + 0.3 sin(2 pi t) + U(-0.1, 0.1), predict t from x), an MDN 1 -> [20, 20] tanh -> K = 3 with
softplus sigmas (minimum 1e-3 label standard deviations), labels standardized with the training mean and population standard
deviation, the Gaussian prior lambda / (2N) ||W||^2 on the weights, Adam (PyTorch's), batches in the order of MlNotes' SplitMix64
Fisher-Yates shuffle. The fixture holds the data, the initial weights in MlNotes' layout (per layer W as (in, out) row-major, then b),
the schedule, and the test NLL (label units) before training, after one epoch and at the end.

Run from the repository root: tools/with-torch tests/MlNotes.Trainers.Tests/Reference/mdn_reference.py
"""
import json
import math
import os

import numpy as np
import torch

torch.set_num_threads(1)
torch.manual_seed(0)
K, HIDDEN, EPOCHS, BATCH, LR, L2, MIN_SIGMA, SHUFFLE_SEED = 3, [20, 20], 100, 50, 5e-3, 1e-2, 1e-3, 12345
MASK = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def next_int(self, n):
        return ((self.next() >> 32) * n) >> 32

    def shuffle(self, values):
        for i in range(len(values) - 1, 0, -1):
            j = self.next_int(i + 1)
            values[i], values[j] = values[j], values[i]


def inverse(n, rng):
    t = rng.uniform(0, 1, n)
    x = t + 0.3 * np.sin(2 * np.pi * t) + rng.uniform(-0.1, 0.1, n)
    return x.astype(np.float32), t.astype(np.float32)


rng = np.random.RandomState(0)
x_train, t_train = inverse(500, rng)
x_test, t_test = inverse(500, rng)
mean = float(t_train.astype(np.float64).mean())
scale = float(t_train.astype(np.float64).std())
y_train = torch.from_numpy(((t_train.astype(np.float64) - mean) / scale).astype(np.float32))
y_test = torch.from_numpy(((t_test.astype(np.float64) - mean) / scale).astype(np.float32))
xt_train = torch.from_numpy(x_train)[:, None]
xt_test = torch.from_numpy(x_test)[:, None]

layers, size = [], 1
for h in HIDDEN:
    layers += [torch.nn.Linear(size, h), torch.nn.Tanh()]
    size = h
layers.append(torch.nn.Linear(size, 3 * K))
net = torch.nn.Sequential(*layers)
linears = [m for m in net if isinstance(m, torch.nn.Linear)]
initial = []
for m in linears:
    initial += m.weight.detach().t().contiguous().view(-1).tolist() + m.bias.detach().view(-1).tolist()


def nll(x, y):
    out = net(x)
    logits, mu, s = out[:, :K], out[:, K:2 * K], out[:, 2 * K:]
    sigma = MIN_SIGMA + torch.nn.functional.softplus(s)
    z = (y[:, None] - mu) / sigma
    log_n = -0.5 * z * z - torch.log(sigma) - 0.5 * math.log(2 * math.pi)
    return -torch.logsumexp(torch.log_softmax(logits, dim=1) + log_n, dim=1)


def test_nll():
    with torch.no_grad():
        return float(nll(xt_test, y_test).double().mean()) + math.log(scale)


opt = torch.optim.Adam(net.parameters(), lr=LR)
n = len(x_train)
order = list(range(n))
shuffle = SplitMix64(SHUFFLE_SEED)
before = test_nll()
after_one = None
for epoch in range(EPOCHS):
    shuffle.shuffle(order)
    for b in range(0, n, BATCH):
        idx = torch.tensor(order[b:b + BATCH])
        loss = nll(xt_train[idx], y_train[idx]).mean() + L2 / (2 * n) * sum((m.weight * m.weight).sum() for m in linears)
        opt.zero_grad()
        loss.backward()
        opt.step()
    if epoch == 0:
        after_one = test_nll()

fixture = {
    "components": K, "hidden": HIDDEN, "epochs": EPOCHS, "batch_size": BATCH, "learning_rate": LR, "l2": L2,
    "minimum_sigma": MIN_SIGMA, "shuffle_seed": SHUFFLE_SEED,
    "x_train": [float(v) for v in x_train], "t_train": [float(v) for v in t_train],
    "x_test": [float(v) for v in x_test], "t_test": [float(v) for v in t_test],
    "initial_parameters": initial,
    "test_nll_initial": before, "test_nll_after_one_epoch": after_one, "test_nll_final": test_nll(),
    "torch_version": torch.__version__,
}
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mdn_reference.json")
with open(out, "w") as f:
    json.dump(fixture, f)
print(f"wrote {out}: test NLL initial {before:.6f}, after one epoch {after_one:.6f}, final {fixture['test_nll_final']:.6f}")
