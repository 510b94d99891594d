"""PyTorch fixtures for Tests/ZooFormatTests/PyTorch*Tests.swift.

Run from this folder with torch and numpy:
    python make_fixtures.py
It writes, next to itself:
  state_dict.pt        torch.save(model.state_dict()) of a small MLP (zip format)
  checkpoint.pth       {"model_state": state_dict, "optimizer_state": ..., "epoch": 3,
                        "loss": 0.25, "note": "seed", "best": True}
  dtypes.pt            float16, bfloat16, float64, int8/16/32/64, uint8, bool tensors
  newer_dtypes.pt      uint16, float8_e4m3fn and complex64 (_rebuild_tensor_v3, untyped storages)
  quantized.pt         a quantized tensor, which Zoo refuses by name
  views.pt             views: t[:, 1], t.T, a slice sharing storage, an offset slice
  protocol4.pt         a state dict pickled with pickle_protocol=4 (FRAME, SHORT_BINUNICODE, MEMOIZE)
  protocol5.bin        the same with pickle_protocol=5
  legacy.pt            torch.save(..., _use_new_zipfile_serialization=False): the pre-1.6 format,
                       with views that share one storage at different offsets
  whole_module.pt      torch.save(model): a pickled nn.Module, which Zoo refuses
  whole_module_legacy.pt  the same in the legacy format
  malicious.pt         a zip whose data.pkl reduces os.system("echo pwned") (built, never loaded)
  malicious_eval.pt    the same with builtins.eval, pickled with protocol 4 (STACK_GLOBAL)
and prints the values the Swift tests hard-code: a few elements and the SHA-256 of
np.ascontiguousarray(a).tobytes() for each tensor.
"""
import collections
import hashlib
import io
import os
import pickle
import zipfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(0)


def path(name):
    return os.path.join(HERE, name)


def digest(tensor):
    if tensor.dtype == torch.bfloat16:
        array = tensor.contiguous().view(torch.int16).numpy()
    else:
        array = tensor.contiguous().numpy()
    return hashlib.sha256(np.ascontiguousarray(array, array.dtype.newbyteorder("<")).tobytes()).hexdigest()


def dump(name, mapping, prefix=""):
    for key, value in mapping.items():
        full = f"{prefix}{key}"
        if isinstance(value, torch.Tensor):
            flat = value.detach().float().reshape(-1)[:3].tolist()
            print(f"  {full}: {str(value.dtype)[6:]} {list(value.shape)} stride {list(value.stride())} "
                  f"offset {value.storage_offset()} first {flat} sha256 {digest(value.detach())}")
        elif isinstance(value, dict):
            dump(name, value, full + ".")
        else:
            print(f"  {full}: {value!r}")


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden1 = torch.nn.Linear(8, 6)
        self.hidden2 = torch.nn.Linear(6, 4)
        self.out = torch.nn.Linear(4, 3)

    def forward(self, x):
        return self.out(torch.relu(self.hidden2(torch.relu(self.hidden1(x)))))


def save(obj, name, **kwargs):
    torch.save(obj, path(name), **kwargs)
    print(f"== {name} ({os.path.getsize(path(name))} bytes)")


model = Net()
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
loss = model(torch.randn(5, 8)).pow(2).sum()
loss.backward()
optimizer.step()

state = model.state_dict()
save(state, "state_dict.pt")
dump("state_dict", state)

checkpoint = {"model_state": state, "optimizer_state": optimizer.state_dict(), "epoch": 3, "loss": 0.25, "note": "seed", "best": True}
save(checkpoint, "checkpoint.pth")
dump("checkpoint", checkpoint)

base = torch.arange(12, dtype=torch.float32)
dtypes = {
    "f16": (torch.arange(6, dtype=torch.float32) / 4 - 0.5).to(torch.float16).reshape(2, 3),
    "bf16": (torch.arange(6, dtype=torch.float32) / 8 + 1).to(torch.bfloat16).reshape(3, 2),
    "f64": torch.tensor([0.5, -1.25, 3.0], dtype=torch.float64),
    "i8": torch.tensor([-128, -1, 0, 127], dtype=torch.int8),
    "i16": torch.tensor([-300, 300], dtype=torch.int16),
    "i32": torch.tensor([[1, -2], [3, -4]], dtype=torch.int32),
    "i64": torch.tensor([1 << 40, -7], dtype=torch.int64),
    "u8": torch.tensor([0, 200, 255], dtype=torch.uint8),
    "bool": torch.tensor([True, False, True]),
    "scalar": torch.tensor(2.5),
    "empty": torch.zeros(0, 3),
}
save(dtypes, "dtypes.pt")
dump("dtypes", dtypes)

# dtypes without a typed storage class: _rebuild_tensor_v3 with an untyped storage and a dtype global.
newer = {
    "u16": torch.tensor([1, 65535], dtype=torch.uint16),
    "f8": torch.tensor([0.5, -2.0, 448.0]).to(torch.float8_e4m3fn),
    "c64": torch.tensor([1 + 2j, -0.5j], dtype=torch.complex64),
}
save(newer, "newer_dtypes.pt")
print("  u16 sha256", hashlib.sha256(newer["u16"].numpy().tobytes()).hexdigest())
print("  f8 bytes", newer["f8"].view(torch.uint8).tolist(), "sha256", hashlib.sha256(newer["f8"].view(torch.uint8).numpy().tobytes()).hexdigest())
print("  c64 sha256", hashlib.sha256(newer["c64"].numpy().tobytes()).hexdigest())
save({"q": torch.quantize_per_tensor(torch.ones(2), 0.1, 0, torch.qint8)}, "quantized.pt")

grid = torch.arange(12, dtype=torch.float32).reshape(3, 4)
views = {
    "grid": grid,
    "column": grid[:, 1],           # stride (4,), offset 1
    "transposed": grid.T,           # stride (1, 4)
    "rows": grid[1:],               # offset 4, shares storage
    "every_other": grid[:, ::2],    # stride (4, 2)
}
save(views, "views.pt")
dump("views", views)

save(state, "protocol4.pt", pickle_protocol=4)
save(state, "protocol5.bin", pickle_protocol=5)

legacy = {"weight": grid, "column": grid[:, 1], "transposed": grid.T, "tail": grid[2:], "bias": torch.tensor([0.5, -0.5], dtype=torch.float64)}
save(legacy, "legacy.pt", _use_new_zipfile_serialization=False)
dump("legacy", legacy)

whole = torch.nn.Sequential(torch.nn.Linear(2, 2))
save(whole, "whole_module.pt")
save(whole, "whole_module_legacy.pt", _use_new_zipfile_serialization=False)


class Exploit:
    def __init__(self, function, argument):
        self.function = function
        self.argument = argument

    def __reduce__(self):
        return (self.function, (self.argument,))


def malicious(name, function, argument, protocol):
    """A torch-style zip whose data.pkl calls `function(argument)` when unpickled.
    Built with pickle.dumps (which only records the reference); never loaded."""
    payload = pickle.dumps({"weight": Exploit(function, argument)}, protocol=protocol)
    with zipfile.ZipFile(path(name), "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("malicious/data.pkl", payload)
        archive.writestr("malicious/byteorder", "little")
        archive.writestr("malicious/version", "3\n")
    print(f"== {name} ({os.path.getsize(path(name))} bytes)")


malicious("malicious.pt", os.system, "echo pwned", 2)
malicious("malicious_eval.pt", eval, "print('pwned')", 4)

with zipfile.ZipFile(path("state_dict.pt")) as archive:
    print("state_dict.pt members:", [(i.filename, i.compress_type, i.header_offset) for i in archive.infolist()])
print("torch", torch.__version__, "numpy", np.__version__)
