"""Fixtures for ZooKit's tests (Tests/ZooKitTests).

    python make_fixtures.py

Writes the seed network of Tests/Fixtures/keras (same weights) as a PyTorch-style
state dict in safetensors: nn.Sequential(Linear, BatchNorm1d, ELU, Linear,
BatchNorm1d, ELU, Linear) names (`0.weight` [out, in], `1.running_mean`, …),
so `--layout pytorch` can be tested against the Keras files' values.
"""
import os
import sys

import numpy as np
import torch
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "keras"))
from make_fixtures import seed_weights  # noqa: E402

w = seed_weights()
t = lambda a: torch.from_numpy(np.ascontiguousarray(a))  # noqa: E731
state = {
    "0.weight": t(w["hidden1/kernel"].T), "0.bias": t(w["hidden1/bias"]),
    "1.weight": t(w["bn1/gamma"]), "1.bias": t(w["bn1/beta"]),
    "1.running_mean": t(w["bn1/moving_mean"]), "1.running_var": t(w["bn1/moving_variance"]),
    "1.num_batches_tracked": torch.tensor(100),
    "3.weight": t(w["hidden2/kernel"].T), "3.bias": t(w["hidden2/bias"]),
    "4.weight": t(w["bn2/gamma"]), "4.bias": t(w["bn2/beta"]),
    "4.running_mean": t(w["bn2/moving_mean"]), "4.running_var": t(w["bn2/moving_variance"]),
    "4.num_batches_tracked": torch.tensor(100),
    "6.weight": t(w["outputs/kernel"].T), "6.bias": t(w["outputs/bias"]),
}
save_file(state, os.path.join(HERE, "seed_torch.safetensors"))

# Check the equivalence in PyTorch itself: eval-mode outputs equal Keras' recorded ones.
net = torch.nn.Sequential(
    torch.nn.Linear(20, 300), torch.nn.BatchNorm1d(300, eps=1e-3), torch.nn.ELU(),
    torch.nn.Linear(300, 100), torch.nn.BatchNorm1d(100, eps=1e-3), torch.nn.ELU(),
    torch.nn.Linear(100, 10), torch.nn.Softmax(dim=1))
net.load_state_dict(state)
net.eval()
x = np.load(os.path.join(HERE, "..", "keras", "seed_input.npy"))
y = net(torch.from_numpy(x)).detach().numpy()
keras_y = np.load(os.path.join(HERE, "..", "keras", "seed_output.npy"))
print("torch vs keras max diff", float(np.abs(y - keras_y).max()))
