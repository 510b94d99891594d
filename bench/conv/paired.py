#!/usr/bin/env python3
"""Zoo and its inference peers in alternation, a few seconds apart: the ratio of each pair, and
their medians. On a shared VM the speed of both engines moves from one minute to the next (the
host may put the two vCPUs on different dies for a while: see cores.c), so a peer measured
minutes after Zoo (run.sh's rounds) can land in another regime; here each pair is measured
within seconds, in alternating order, and the cores' distance is probed before each pair.

    python bench/conv/paired.py --zoo .build/release/zoo-conv-bench [--cores /tmp/cores]
        [--configs mobilenet_v2,efficientnet_lite0] [--batches 1] [--pairs 15] [--seconds 1.5]
        [--only ort,torch] [--variant ZOONET_DEPTH_FIRST=0 ...]

bench/conv/run.sh runs it with PAIRS=N. Zoo runs as `zoo-conv-bench serve` (one process, the
networks built once); the peers in this process: ONNX Runtime on the torchvision /
efficientnet-lite-pytorch model exported as in peers.py (default spinning, as run.sh's rounds),
PyTorch eager (channels_last, inference_mode). Same seeded models and BatchNorm statistics as
peers.py; ZOO_CONV_WEIGHTS (peers.py --export) gives Zoo the same weights.

--variant NAME=VALUE[,NAME=VALUE…] adds Zoo run with those environment variables as one more peer
(`zoonet[NAME=VALUE]`): an A/B of an engine switch under the same conditions.

Output: `# pair …` lines, then per configuration and peer
`PAIRED <TAB> zoonet/<peer> <TAB> <config> <TAB> <median ratio> <TAB> <pairs> <TAB> one-die <median> (<n>) <TAB>
cross-die <median> (<n>)`, a pair counting as cross-die when the round trip probed before it
exceeded --cross-die-ns (default 200).
"""
import argparse
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


class Zoo:
    def __init__(self, binary, environment=None):
        self.child = subprocess.Popen([binary, "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                      bufsize=1, env={**os.environ, **(environment or {})})
        ready = self.child.stdout.readline().rstrip("\n").split("\t")
        if ready[0] != "READY":
            raise SystemExit(f"zoo-conv-bench serve did not start: {ready}")
        self.kernels = ready[2] if len(ready) > 2 else "?"

    def rate(self, name, batch, seconds):
        self.child.stdin.write(f"{name} b{batch} {seconds}\n")
        self.child.stdin.flush()
        fields = self.child.stdout.readline().rstrip("\n").split("\t")
        if fields[0] != "RATE":
            raise SystemExit(f"zoo-conv-bench serve: {fields}")
        return float(fields[2])

    def close(self):
        self.child.stdin.close()
        self.child.wait()


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
    parser.add_argument("--only", default="ort", help="peers: ort, torch (comma-separated)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cross-die-ns", type=int, default=200)
    parser.add_argument("--variant", action="append", default=[], metavar="NAME=VALUE",
                        help="also Zoo with these environment variables set (NAME=VALUE[,NAME=VALUE…]; repeatable): a peer named zoonet[…]")
    args = parser.parse_args()
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
                others = [engine for engine in measure if engine != "zoonet"]
                ratios = {peer: {"all": [], "one-die": [], "cross-die": []} for peer in others}
                for z in [zoo, *variants.values()]:
                    z.rate(name, batch, 0.5)  # builds the network, warms up
                for pair in range(args.pairs):
                    distance = probe(args.cores)
                    regime = "cross-die" if distance is not None and distance > args.cross_die_ns else "one-die"
                    order = ["zoonet"] + others if pair % 2 == 0 else others + ["zoonet"]
                    rates = {engine: measure[engine]() for engine in order}
                    text = "  ".join(f"{e} {rates[e]:.1f}" + (f" ({rates['zoonet'] / rates[e]:.3f})" if e != "zoonet" else "")
                                     for e in ["zoonet"] + others)
                    where = f"round trip {distance} ns" if distance is not None else "no probe"
                    print(f"# pair {pair + 1} {config} ({where}): {text}", flush=True)
                    for peer in others:
                        ratio = rates["zoonet"] / rates[peer]
                        ratios[peer]["all"].append(ratio)
                        ratios[peer][regime].append(ratio)
                for peer, r in ratios.items():
                    print(f"PAIRED\tzoonet/{peer}\t{config}\t{statistics.median(r['all']):.3f}\t{len(r['all'])}\t"
                          f"one-die {median_of(r['one-die'])}\tcross-die {median_of(r['cross-die'])}", flush=True)
    for z in [zoo, *variants.values()]:
        z.close()


if __name__ == "__main__":
    main()
