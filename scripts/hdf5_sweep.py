#!/usr/bin/env python3
"""Mutation sweep over peer-made HDF5 files: damaged copies (one to four bytes changed, or a
truncation) read by `zoo inspect --json --checksums`; counts exit codes, crashes (signals) and
hangs. Used to measure how often Debian's libhdf5 crashes or hangs in-process and what the
helper process turns that into.

    python3 scripts/hdf5_sweep.py --zoo .build/debug/zoo --count 16000 [--in-process] [--keep DIR]
        Tests/Fixtures/keras/*.h5 Tests/Fixtures/keras/*.weights.h5

Stdlib only. --in-process sets ZOO_HDF5_IN_PROCESS=1 (libhdf5 in the zoo process itself).
--keep writes each crashing or hanging input to DIR with the mutation in its name.
"""
import argparse, collections, os, random, signal, subprocess, sys, tempfile, time

parser = argparse.ArgumentParser()
parser.add_argument("--zoo", default=".build/debug/zoo")
parser.add_argument("--count", type=int, default=2000)
parser.add_argument("--seed", type=int, default=2026)
parser.add_argument("--timeout", type=float, default=20)
parser.add_argument("--in-process", action="store_true")
parser.add_argument("--keep")
parser.add_argument("files", nargs="+")
args = parser.parse_args()

random.seed(args.seed)
sources = [(path, open(path, "rb").read()) for path in args.files]
environment = dict(os.environ)
if args.in_process:
    environment["ZOO_HDF5_IN_PROCESS"] = "1"
outcomes = collections.Counter()
kept = []
started = time.time()
with tempfile.TemporaryDirectory() as directory:
    target = os.path.join(directory, "m.h5")
    for number in range(args.count):
        path, original = random.choice(sources)
        data = bytearray(original)
        if random.random() < 0.05:
            cut = random.randrange(len(data))
            data = data[:cut]
            mutation = [("cut", cut)]
        else:
            mutation = []
            for _ in range(random.choice([1, 1, 2, 4])):
                at = random.randrange(len(data))
                value = random.choice([0, 0xFF, data[at] ^ (1 << random.randrange(8)), random.randrange(256)])
                data[at] = value
                mutation.append((at, value))
        open(target, "wb").write(data)
        try:
            run = subprocess.run([args.zoo, "inspect", "--json", "--checksums", target], env=environment,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=args.timeout)
            status = run.returncode
            outcome = f"signal {signal.Signals(-status).name}" if status < 0 else f"exit {status}"
        except subprocess.TimeoutExpired:
            outcome = "hang"
        outcomes[outcome] += 1
        if outcome.startswith("signal") or outcome == "hang" or outcome not in ("exit 0", "exit 65"):
            kept.append((outcome, os.path.basename(path), mutation))
            if args.keep:
                os.makedirs(args.keep, exist_ok=True)
                name = f"{outcome.replace(' ', '_')}_{os.path.basename(path)}_{number}.h5"
                open(os.path.join(args.keep, name), "wb").write(data)
elapsed = time.time() - started
print(f"{args.count} damaged copies in {elapsed:.0f} s ({'in-process' if args.in_process else 'helper process'}):",
      ", ".join(f"{key}: {value}" for key, value in sorted(outcomes.items())))
for outcome, source, mutation in kept:
    print(f"  {outcome}: {source} {mutation}")
