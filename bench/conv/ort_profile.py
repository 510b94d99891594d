"""ONNX Runtime's own profile of a bench/conv model: median µs per image of each node, slowest first.

    bench/.venv-conv/bin/python bench/conv/ort_profile.py resnet50 1 [RUNS]     # model, batch, runs (default 30)

Prints `NODE <µs per image> <% of the sum> <op> <node>` and `TOTAL <µs>`: the counterpart of
`zoo-conv-bench profile MODEL bN` (ZooNet's `Network.profileInference`), to see which layers of
the same model one engine runs faster than the other. The model is `peers.py`'s (exported the
same way), the session its `ort` peer's with `--spin` (2 intra-op threads, all graph
optimizations); the profiler adds a little to each node.
"""
import collections
import json
import os
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402

name, batch = sys.argv[1], int(sys.argv[2])
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 30
torch = peers.torch_setup(2)
import onnxruntime as ort  # noqa: E402

directory = tempfile.mkdtemp()
path = os.path.join(directory, "model.onnx")
peers.export_onnx(torch, peers.build(name).eval(), path, name)
options = ort.SessionOptions()
options.enable_profiling = True
options.profile_file_prefix = os.path.join(directory, "profile")
options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
options.intra_op_num_threads = 2
options.inter_op_num_threads = 1
session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
x = peers.seeded_input(name, batch)
for _ in range(runs):
    session.run(None, {"input": x})
with open(session.end_profiling()) as f:
    events = json.load(f)
durations = collections.defaultdict(list)
for event in events:
    if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
        durations[(event["name"][: -len("_kernel_time")], event["args"].get("op_name", ""))].append(event["dur"])
rows = sorted(((statistics.median(v) / batch, k) for k, v in durations.items()), reverse=True)
total = sum(r[0] for r in rows)
for microseconds, (node, op) in rows:
    print(f"NODE\t{microseconds:.1f}\t{100 * microseconds / total:.1f}\t{op}\t{node}")
print(f"TOTAL\t{total:.1f}")
