#!/usr/bin/env python3
"""Turns the RESULT lines of zoo-bench and peers.py into one table.

    python bench/report.py bench/data/results.tsv

Per format and reader: the median of all timed repetitions over all rounds,
GB/s (10^9 bytes of tensor payload per second), peak RSS (VmHWM, MiB), the peak
over the RSS the process had before its first read (MiB: the data the reader
kept resident, without interpreter and library code), and `vs peer`: the
fastest peer's median time over this reader's (> 1 is faster than every peer
on that format, 1.00 for the fastest peer itself).
"""
import statistics
import sys
from collections import OrderedDict

ORDER = ["baseline", "npy", "npz-stored", "npz-deflated", "safetensors", "pt", "h5-contiguous", "h5-chunked", "h5-gzip"]


def main():
    rows = OrderedDict()
    checksums = {}
    with open(sys.argv[1]) as f:
        for line in f:
            if not line.startswith("RESULT\t"):
                continue
            _, fmt, reader, nbytes, times, peak, before, checksum = line.rstrip("\n").split("\t")
            row = rows.setdefault((fmt, reader), {"bytes": int(nbytes), "times": [], "peak": 0, "delta": 0})
            row["times"] += [float(t) for t in times.split(",")]
            row["peak"] = max(row["peak"], int(peak))
            row["delta"] = max(row["delta"], int(peak) - int(before))
            if fmt != "baseline" and "populate" not in reader:  # those touch the whole file, headers too
                names = checksums.setdefault(checksum, [])
                if f"{fmt}/{reader}" not in names:
                    names.append(f"{fmt}/{reader}")

    def peer(fmt, reader):
        return fmt != "baseline" and not reader.startswith("zoo ")

    def rank(reader):
        # Zoo as shipped, then the peers, then the diagnostic experiments.
        if reader.startswith(("zoo x-", "zoo floats-into")):
            return 2
        return 0 if reader.startswith("zoo ") else 1

    fastest = {}
    for (fmt, reader), row in rows.items():
        row["median"] = statistics.median(row["times"])
        if peer(fmt, reader):
            fastest[fmt] = min(fastest.get(fmt, float("inf")), row["median"])

    header = f"{'format':<13} {'reader':<24} {'median s':>9} {'GB/s':>7} {'peak RSS MiB':>12} {'peak-start MiB':>14} {'vs peer':>8}"
    print(header)
    print("-" * len(header))
    formats = sorted({fmt for fmt, _ in rows}, key=lambda f: ORDER.index(f) if f in ORDER else len(ORDER))
    for fmt in formats:
        readers = sorted((r for f, r in rows if f == fmt), key=rank)
        for reader in readers:
            row = rows[(fmt, reader)]
            ratio = f"{fastest[fmt] / row['median']:.2f}x" if fmt in fastest and fmt != "baseline" else ""
            print(f"{fmt:<13} {reader:<24} {row['median']:>9.4f} {row['bytes'] / row['median'] / 1e9:>7.2f} "
                  f"{row['peak'] / 1024:>12.0f} {row['delta'] / 1024:>14.0f} {ratio:>8}")
    n = sum(len(r["times"]) for r in rows.values()) // max(len(rows), 1)
    if any(rank(r) == 2 for _, r in rows):
        print("\nzoo x-… and zoo floats-into are diagnostic experiments (EXPERIMENTS=1), not Zoo's API as shipped.")
    else:
        print()
    print(f"{n} timed repetitions per reader (median shown); payload {max(r['bytes'] for r in rows.values()) / 2**20:.1f} MiB.")
    if len(checksums) == 1:
        print(f"checksum {next(iter(checksums))}: every reader touched the same bytes.")
    else:
        print("WARNING: readers disagree on the checksum:")
        for value, readers in checksums.items():
            print(f"  {value}: {', '.join(readers)}")


if __name__ == "__main__":
    main()
