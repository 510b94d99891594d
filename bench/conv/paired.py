#!/usr/bin/env python3
"""Zoo and its peers in alternation, a few seconds apart: the ratio of each pair, and
their medians. On a shared VM the speed of both engines moves from one minute to the next (the
host may put the two vCPUs on different dies for a while: see cores.c), so a peer measured
minutes after Zoo (run.sh's rounds) can land in another regime; here each pair is measured
within seconds, in alternating order, and the cores' distance is probed before each pair.

    python bench/conv/paired.py --zoo .build/release/zoo-conv-bench [--cores /tmp/cores]
        [--configs mobilenet_v2,efficientnet_lite0,train_small_cnn] [--batches 1] [--pairs 15] [--seconds 1.5]
        [--only ort,torch,compile] [--variant ZOONET_DEPTH_FIRST=0 ...]

bench/conv/run.sh runs it with PAIRS=N. Zoo runs as `zoo-conv-bench serve` (one process, the
networks built once); the peers in this process: ONNX Runtime on the torchvision /
efficientnet-lite-pytorch model exported as in peers.py (default spinning, as run.sh's rounds),
PyTorch eager (channels_last, inference_mode). `train_small_cnn` and `train_mobilenet_v2_035` are
peers.py's training steps (batch 64 and 32), against PyTorch eager (`torch`), `torch.compile`
(`compile`) and Keras 3 (`keras`, in a child process: the faster of `fit` and `train_on_batch`);
ONNX Runtime does not train. Same seeded models and BatchNorm statistics as
peers.py; ZOO_CONV_WEIGHTS (peers.py --export) gives Zoo the same weights.

--variant NAME=VALUE[,NAME=VALUE…] adds Zoo run with those environment variables as one more peer
(`zoonet[NAME=VALUE]`): an A/B of an engine switch under the same conditions.

Output: `# pair …` lines, then per configuration and peer
`PAIRED <TAB> zoonet/<peer> <TAB> <config> <TAB> <median ratio> <TAB> <pairs> <TAB> one-die <median> (<n>) <TAB>
cross-die <median> (<n>)` (peer `best`, with two peers or more: the fastest of each pair, variants aside), a pair counting as
cross-die when the round trip probed before it exceeded --cross-die-ns (default 200).
"""
import argparse
import contextlib
import os
import re
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402  (the same models, inputs and ORT export)


def probe(cores):
    """The round trip of a cache line between cores 0 and 1 (ns), or None without a probe."""
    if not cores:
        return None
    out = subprocess.run([cores], capture_output=True, text=True).stdout
    match = re.search(r"round trip core 0 -> 1 -> 0: (\d+) ns", out)
    return int(match.group(1)) if match else None


def keras_serve(threads):
    """The child side of KerasServer: one compiled model per (model, batch), kept between requests."""
    import math
    with contextlib.redirect_stdout(sys.stderr):  # TensorFlow's and Keras' chatter stays off the protocol
        tf, keras = peers.keras_setup(threads)
    print(f"READY\tkeras\tkeras {keras.__version__} on tensorflow {tf.__version__}", flush=True)
    kept = {}
    for line in sys.stdin:
        name, b, seconds = line.split()
        batch, seconds = int(b[1:]), float(seconds)
        if (name, batch) not in kept:
            with contextlib.redirect_stdout(sys.stderr):
                x = tf.constant(peers.nhwc(name, batch))
                y = tf.constant(peers.seeded_labels(batch))
                models = [peers.keras_training_model(keras, name) for _ in range(2)]
                data = tf.data.Dataset.from_tensors((x, y)).repeat()
                models[0].fit(data, steps_per_epoch=3, epochs=1, verbose=0, shuffle=False)
                for _ in range(3):
                    models[1].train_on_batch(x, y)
            kept[(name, batch)] = (models, data, x, y)
        (fit_model, step_model), data, x, y = kept[(name, batch)]
        with contextlib.redirect_stdout(sys.stderr):
            timer = peers.StepTimes(keras)
            fit_model.fit(data, steps_per_epoch=6, epochs=1, verbose=0, shuffle=False, callbacks=[timer])
            steps = 2 + max(5, math.ceil(seconds / 2 / statistics.median(timer.step_times())))
            timer = peers.StepTimes(keras)
            fit_model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False, callbacks=[timer])
            fit_rate = batch / statistics.median(timer.step_times())
            step_rate = peers.timed(lambda: step_model.train_on_batch(x, y), batch, 1, seconds / 2, 5)[0]
        print(f"RATE\t{name} b{batch}\t{max(fit_rate, step_rate):.2f}", flush=True)


class Server:
    """A child process answering `<model> b<batch> <seconds>` lines with `RATE <config> <images/s>`."""

    def __init__(self, command, name, environment=None):
        self.name = name
        self.child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
                                      env={**os.environ, **(environment or {})})
        ready = self.child.stdout.readline().rstrip("\n").split("\t")
        if ready[0] != "READY":
            raise SystemExit(f"{name} did not start: {ready}")
        self.kernels = ready[2] if len(ready) > 2 else "?"

    def rate(self, name, batch, seconds):
        self.child.stdin.write(f"{name} b{batch} {seconds}\n")
        self.child.stdin.flush()
        fields = self.child.stdout.readline().rstrip("\n").split("\t")
        if fields[0] != "RATE":
            raise SystemExit(f"{self.name}: {fields}")
        return float(fields[2])

    def close(self):
        self.child.stdin.close()
        self.child.wait()


class Zoo(Server):
    """`zoo-conv-bench serve`, with `environment` added to this process's."""

    def __init__(self, binary, environment=None):
        super().__init__([binary, "serve"], "zoo-conv-bench serve", environment)


class KerasServer(Server):
    """Keras 3 (TensorFlow) training steps in a child process (TensorFlow and torch crash when imported into
    one process): `paired.py --keras-serve` answers `<model> b<batch> <seconds>` with `RATE … <images/s>`,
    the faster of `model.fit` (steps timed by a callback) and `train_on_batch`, ≥ seconds/2 each."""

    def __init__(self, threads):
        super().__init__([sys.executable, os.path.abspath(__file__), "--keras-serve", "--threads", str(threads), "--zoo", "-"],
                         "paired.py --keras-serve")


def median_of(values):
    return f"{statistics.median(values):.3f} ({len(values)})" if values else "- (0)"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--zoo", required=True, help="the zoo-conv-bench binary")
    parser.add_argument("--cores", help="the cores.c binary (probed before each pair)")
    parser.add_argument("--configs", default="mobilenet_v2,efficientnet_lite0")
    parser.add_argument("--batches", default="1")
    parser.add_argument("--pairs", type=int, default=15)
    parser.add_argument("--seconds", type=float, default=1.5, help="minimum timed seconds per measurement")
    parser.add_argument("--only", default="ort", help="peers: ort, torch (inference and training), compile, keras (training) (comma-separated)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cross-die-ns", type=int, default=200)
    parser.add_argument("--variant", action="append", default=[], metavar="NAME=VALUE",
                        help="also Zoo with these environment variables set (NAME=VALUE[,NAME=VALUE…]; repeatable): a peer named zoonet[…]")
    parser.add_argument("--keras-serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.keras_serve:
        return keras_serve(args.threads)
    only = [p for p in args.only.split(",") if p]
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    os.environ["CONV_PEERS_SPIN"] = "1"  # the libraries' own waiting, as run.sh's rounds
    torch = peers.torch_setup(args.threads)
    import onnxruntime as ort
    zoo = Zoo(args.zoo)
    variants = {v: Zoo(args.zoo, dict(item.split("=", 1) for item in v.split(","))) for v in args.variant}
    print(f"# cpu: {peers.cpu_model()}; zoonet: {zoo.kernels}; onnxruntime {ort.__version__}, torch {torch.__version__}; "
          f"{args.threads} threads, {args.pairs} pairs of >= {args.seconds:g} s each", flush=True)
    with tempfile.TemporaryDirectory(prefix="conv-paired-") as directory:
        for name in (c for c in args.configs.split(",") if c):
            if name.startswith("train_"):
                train_pairs(args, torch, zoo, variants, name[len("train_"):], only)
                continue
            model = peers.build(name).eval()
            runs = {}  # the peers in this process: one call on a feed (NCHW array, channels_last tensor)
            if "ort" in only:
                path = os.path.join(directory, f"{name}.onnx")
                peers.export_onnx(torch, model, path, name)
                session = peers.ort_session(path, args.threads)
                runs["ort"] = lambda feed: session.run(None, {"input": feed[0]})
            if "torch" in only:
                channels_last = model.to(memory_format=torch.channels_last)

                def eager(feed, m=channels_last):
                    with torch.inference_mode():
                        m(feed[1])
                runs["torch"] = eager
            for batch in (int(b) for b in args.batches.split(",") if b):
                config = f"{name} b{batch}"
                x = peers.seeded_input(name, batch)
                feed = (x, torch.from_numpy(x).contiguous(memory_format=torch.channels_last))
                # Each engine's measurement, in images/s: Zoo and its variants through their serve processes.
                measure = {"zoonet": lambda: zoo.rate(name, batch, args.seconds)}
                measure.update({f"zoonet[{v}]": (lambda z=z: z.rate(name, batch, args.seconds)) for v, z in variants.items()})
                measure.update({peer: (lambda run=run: peers.timed(lambda: run(feed), batch, 2, args.seconds, 5)[0])
                                for peer, run in runs.items()})
                for z in [zoo, *variants.values()]:
                    z.rate(name, batch, 0.5)  # builds the network, warms up
                alternate(args, config, measure)
    for z in [zoo, *variants.values()]:
        z.close()


def alternate(args, config, measure):
    """`args.pairs` pairs of Zoo and every other engine of `measure` (name → images/s), in alternating
    order, the cores probed before each pair; prints the pairs and the PAIRED medians."""
    others = [engine for engine in measure if engine != "zoonet"]
    peer_names = [engine for engine in others if not engine.startswith("zoonet[")]
    ratios = {peer: {"all": [], "one-die": [], "cross-die": []} for peer in others + (["best"] if len(peer_names) > 1 else [])}
    for pair in range(args.pairs):
        distance = probe(args.cores)
        regime = "cross-die" if distance is not None and distance > args.cross_die_ns else "one-die"
        order = ["zoonet"] + others if pair % 2 == 0 else others + ["zoonet"]
        rates = {engine: measure[engine]() for engine in order}
        text = "  ".join(f"{e} {rates[e]:.1f}" + (f" ({rates['zoonet'] / rates[e]:.3f})" if e != "zoonet" else "")
                         for e in ["zoonet"] + others)
        where = f"round trip {distance} ns" if distance is not None else "no probe"
        print(f"# pair {pair + 1} {config} ({where}): {text}", flush=True)
        rates["best"] = max((rates[peer] for peer in peer_names), default=0)
        for peer in ratios:
            ratio = rates["zoonet"] / rates[peer]
            ratios[peer]["all"].append(ratio)
            ratios[peer][regime].append(ratio)
    for peer, r in ratios.items():
        print(f"PAIRED\tzoonet/{peer}\t{config}\t{statistics.median(r['all']):.3f}\t{len(r['all'])}\t"
              f"one-die {median_of(r['one-die'])}\tcross-die {median_of(r['cross-die'])}", flush=True)


def train_pairs(args, torch, zoo, variants, name, only):
    """Training steps of peers.py's `train <name>` config (Adam, cross-entropy, train mode, the same
    seeded batch every step): Zoo (`train_<name>` in its serve process) against PyTorch eager and
    `torch.compile` (model and optimizer step; peers.torch_train_step) and Keras 3 (KerasServer),
    images/s of the steps."""
    batch = peers.TRAIN_BATCH[name]
    config = f"train {name} b{batch}"
    measure = {"zoonet": lambda: zoo.rate(f"train_{name}", batch, args.seconds)}
    measure.update({f"zoonet[{v}]": (lambda z=z: z.rate(f"train_{name}", batch, args.seconds)) for v, z in variants.items()})
    if "keras" in only:
        server = KerasServer(args.threads)
        print(f"# keras: {server.kernels}", flush=True)
        measure["keras"] = lambda: server.rate(name, batch, args.seconds)
        server.rate(name, batch, 0.5)
    for peer in (p for p in only if p in ("torch", "compile")):
        train_step = peers.torch_train_step(torch, name, peer)[0]
        train_step()
        train_step()  # Adam's first step takes another path (state creation): compiles both
        measure[peer] = lambda run=train_step: peers.timed(run, batch, 2, args.seconds, 5)[0]
    for z in [zoo, *variants.values()]:
        z.rate(f"train_{name}", batch, 0.5)  # builds the network, warms up
    alternate(args, config, measure)
    if "keras" in only:
        server.close()


if __name__ == "__main__":
    main()
