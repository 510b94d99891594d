#!/usr/bin/env python3
"""TensorBoard event-file fixtures, made and read by TensorBoard itself (pip install tensorboard;
tensorboard 2.21, protobuf 7; no TensorFlow needed).

    python Tests/Fixtures/tensorboard/make_fixtures.py                 # peer/ and peer_read.txt
    python Tests/Fixtures/tensorboard/make_fixtures.py zoo .build/debug/zoo   # zoo_run/ and zoo_run_read.txt

1. peer/events.out.tfevents.peer: events written by TensorBoard's own writer code
   (event_pb2 / summary_pb2 protos, RecordWriter's TFRecord framing with masked CRC-32C) with
   fixed wall times; the histograms' buckets come from TensorBoard's histogram_pb (the numpy
   twin of the TF2 summary op Keras' callback uses: equal-width buckets from min to max).
   Tests/ZooFormatTests/TensorBoardTests.swift encodes the same events and must produce these
   bytes exactly.

2. zoo_run/: a `zoo fine-tune --tensorboard --histograms --checkpoint` run of the seed network
   on synthetic data, killed with SIGKILL after its second checkpoint and continued with
   --resume, read back with TensorBoard's EventAccumulator (the legacy one, which applies
   TensorBoard's restart purge, and the plugin one the dashboards use). The script checks that
   every tag has every epoch exactly once, in both readers, and writes what the legacy reader
   saw to zoo_run_read.txt; the Swift tests read the committed files and must see the same.
   The event files are renamed events.out.tfevents.1.zoo, .2.zoo, … in their original order.
"""
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np
from tensorboard.backend.event_processing import event_accumulator as legacy
from tensorboard.backend.event_processing import event_file_loader
from tensorboard.backend.event_processing import plugin_event_accumulator as plugin
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.plugins.histogram import summary_v2 as histogram_summary
from tensorboard.summary.writer.record_writer import RecordWriter
from tensorboard.util import tensor_util

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.dirname(HERE)


def histogram_proto(data, buckets):
    """HistogramProto of `data` (float32) with TensorBoard's buckets ([k, 3]: left, right, count)."""
    data = np.asarray(data, dtype=np.float32).astype(np.float64)
    summary = histogram_summary.histogram_pb("h", data, buckets=buckets)
    table = tensor_util.make_ndarray(summary.value[0].tensor)
    proto = summary_pb2.HistogramProto()
    if data.size:
        proto.min = float(data.min())
        proto.max = float(data.max())
    proto.num = float(data.size)
    # Σx and Σx² in order (the data is dyadic: every partial sum is exact in any order).
    proto.sum = float(sum(data))
    proto.sum_squares = float(sum(x * x for x in data))
    proto.bucket_limit.extend(float(x) for x in table[:, 1])
    proto.bucket.extend(float(x) for x in table[:, 2])
    return proto


def dyadic(count):
    """Values k/8 (exact in float32 and in every sum), spread over [-6.25, 6.25]."""
    return [((i * 37) % 101 - 50) / 8 for i in range(count)]


def peer_events():
    scalar = lambda tag, value: summary_pb2.Summary.Value(tag=tag, simple_value=value)
    histo = lambda tag, data, k: summary_pb2.Summary.Value(tag=tag, histo=histogram_proto(data, k))
    return [
        event_pb2.Event(wall_time=1700000000.0, file_version="brain.Event:2"),
        event_pb2.Event(wall_time=1700000001.25, step=0, summary=summary_pb2.Summary(value=[
            scalar("epoch_loss", 0.6931472), scalar("epoch_accuracy", 0.5),
            scalar("epoch_learning_rate", 0.001), scalar("epoch_phase", 1.0),
            histo("dense/kernel/histogram", [-1.5, -0.25, 0.0, 0.25, 2.0, 0.75], 4),
        ])),
        event_pb2.Event(wall_time=1700000002.5, step=1, summary=summary_pb2.Summary(value=[
            scalar("epoch_loss", 0.25), scalar("epoch_accuracy", 0.0),
            histo("wide/histogram", dyadic(50), 30),
        ])),
        event_pb2.Event(wall_time=1700000003.0, step=2, session_log=event_pb2.SessionLog(status=event_pb2.SessionLog.START)),
        event_pb2.Event(wall_time=1700000004.0, step=300, summary=summary_pb2.Summary(value=[
            histo("constant/histogram", [0.5, 0.5, 0.5], 4), histo("empty/histogram", [], 3),
        ])),
    ]


def make_peer():
    os.makedirs(os.path.join(HERE, "peer"), exist_ok=True)
    path = os.path.join(HERE, "peer", "events.out.tfevents.peer")
    with open(path, "wb") as handle:
        writer = RecordWriter(handle)
        for event in peer_events():
            writer.write(event.SerializeToString())
    accumulator = legacy.EventAccumulator(os.path.dirname(path), size_guidance={legacy.SCALARS: 0, legacy.HISTOGRAMS: 0})
    accumulator.Reload()
    lines = [f"# what TensorBoard {__import__('tensorboard').__version__}'s EventAccumulator read from peer/"]
    for tag in sorted(accumulator.Tags()["scalars"]):
        lines.append(f"scalar {tag} " + " ".join(f"{e.step}:{e.value!r}" for e in accumulator.Scalars(tag)))
    for tag in sorted(accumulator.Tags()["histograms"]):
        for e in accumulator.Histograms(tag):
            h = e.histogram_value
            lines.append(f"histogram {tag} step {e.step} min {h.min!r} max {h.max!r} num {h.num!r} "
                         f"limits {list(h.bucket_limit)!r} counts {list(h.bucket)!r}")
    with open(os.path.join(HERE, "peer_read.txt"), "w") as handle:
        handle.write("\n".join(lines) + "\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes) and peer_read.txt")


def checkpoint_epoch(path):
    """zoo_epoch of a safetensors checkpoint, or None while there is none."""
    try:
        with open(path, "rb") as handle:
            (length,) = struct.unpack("<Q", handle.read(8))
            return int(json.loads(handle.read(length))["__metadata__"]["zoo_epoch"])
    except (OSError, KeyError, ValueError, struct.error):
        return None


def run_zoo(zoo, workdir, epochs=8):
    rng = np.random.default_rng(7)
    centers = rng.normal(size=(3, 20)) * 0.6
    data = os.path.join(workdir, "data.csv")
    with open(data, "w") as handle:
        for i in range(1500):
            label = i % 3
            row = centers[label] + rng.normal(size=20)
            handle.write(",".join([str(label)] + [f"{x:.5f}" for x in row]) + "\n")
    checkpoint = os.path.join(workdir, "run.safetensors")
    command = [zoo, "fine-tune", os.path.join(FIXTURES, "keras", "seed_k2_model.h5"), "--data", data,
               "--val-split", "0.2", "--new-head", "3", "--freeze", "hidden1", "--epochs", str(epochs),
               "--unfreeze-after", "4", "--batch-size", "4", "--no-cache", "--checkpoint", checkpoint,
               "--tensorboard", os.path.join(workdir, "logs"), "--histograms", "--quiet",
               "--registry", os.path.join(workdir, "registry")]
    process = subprocess.Popen(command)
    deadline = time.time() + 300
    while (checkpoint_epoch(checkpoint) or -1) < 1 and process.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    killed = process.poll() is None
    if killed:
        process.send_signal(signal.SIGKILL)
    process.wait()
    interrupted_at = checkpoint_epoch(checkpoint)
    logged = logged_steps(os.path.join(workdir, "logs"))
    print(f"first run {'killed' if killed else 'finished'} after the checkpoint of epoch {interrupted_at}, "
          f"with epochs {sorted(logged)} logged")
    subprocess.run(command + ["--resume"], check=True)
    runs = os.listdir(os.path.join(workdir, "logs"))
    assert len(runs) == 1, runs
    return os.path.join(workdir, "logs", runs[0]), killed, interrupted_at, sorted(logged)


def logged_steps(logs):
    """The steps with summaries in the event files under `logs`, read record by record (no purging)."""
    steps = set()
    for root, _, names in os.walk(logs):
        for name in names:
            if "tfevents" in name:
                for event in event_file_loader.EventFileLoader(os.path.join(root, name)).Load():
                    if event.HasField("summary"):
                        steps.add(event.step)
    return steps


def read_run(run, epochs):
    lines = []
    for split in ("train", "validation"):
        folder = os.path.join(run, split)
        old = legacy.EventAccumulator(folder, size_guidance={legacy.SCALARS: 0, legacy.HISTOGRAMS: 0})
        old.Reload()
        new = plugin.EventAccumulator(folder, size_guidance={plugin.TENSORS: 0})
        new.Reload()
        scalars, histograms = sorted(old.Tags()["scalars"]), sorted(old.Tags()["histograms"])
        for tag in scalars:
            steps = [e.step for e in old.Scalars(tag)]
            assert steps == list(range(epochs)), (split, tag, steps)
            assert [e.step for e in new.Tensors(tag)] == steps, (split, tag, "plugin reader")
            lines.append(f"{split} scalar {tag} " + " ".join(f"{e.step}:{e.value!r}" for e in old.Scalars(tag)))
        for tag in histograms:
            events = old.Histograms(tag)
            assert [e.step for e in events] == list(range(epochs)), (split, tag)
            assert [e.step for e in new.Tensors(tag)] == list(range(epochs)), (split, tag, "plugin reader")
            last = events[-1].histogram_value
            lines.append(f"{split} histogram {tag} steps {len(events)} last num {last.num!r} min {last.min!r} max {last.max!r}")
        print(f"{split}: {len(scalars)} scalar tags and {len(histograms)} histogram tags, each at steps 0…{epochs - 1} once")
    return lines


def make_zoo(zoo):
    epochs = 8
    with tempfile.TemporaryDirectory() as workdir:
        run, killed, interrupted_at, logged = run_zoo(os.path.abspath(zoo), workdir, epochs)
        assert killed, "the first run finished before it could be killed: use more data"
        lines = [f"# what TensorBoard {__import__('tensorboard').__version__}'s EventAccumulator read from zoo_run/ "
                 f"(killed after the checkpoint of epoch {interrupted_at} with epochs {logged} logged, then resumed)"]
        lines += read_run(run, epochs)
        target = os.path.join(HERE, "zoo_run")
        shutil.rmtree(target, ignore_errors=True)
        for split in ("train", "validation"):
            os.makedirs(os.path.join(target, split))
            names = sorted(n for n in os.listdir(os.path.join(run, split)) if "tfevents" in n)
            for index, name in enumerate(names, 1):
                shutil.copy(os.path.join(run, split, name), os.path.join(target, split, f"events.out.tfevents.{index}.zoo"))
        # The renamed copies read the same.
        assert read_run(target, epochs) == lines[1:]
    with open(os.path.join(HERE, "zoo_run_read.txt"), "w") as handle:
        handle.write("\n".join(lines) + "\n")
    print("wrote zoo_run/ and zoo_run_read.txt")


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "zoo":
        make_zoo(sys.argv[2] if len(sys.argv) > 2 else ".build/debug/zoo")
    else:
        make_peer()
