"""Run both transfer peers (each under its own interpreter) and print their outputs.

    python peers/transfer_experiment.py            # both, seeds 0..4
    SEEDS=0,1 python peers/transfer_experiment.py  # fewer seeds

Keras peer: python peers/transfer_keras.py  (tf-keras 2.21)
Torch peer: python    peers/transfer_torch.py  (torch)
Interpreters can be overridden with KERAS_PYTHON / TORCH_PYTHON.  The peers run one
after the other (never concurrently) so their timings do not disturb each other.
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PEERS = [
    (os.environ.get("KERAS_PYTHON", sys.executable), "transfer_keras.py"),
    (os.environ.get("TORCH_PYTHON", sys.executable), "transfer_torch.py"),
]


def main():
    rc = 0
    for python, script in PEERS:
        print(f"## {script} ({python})\n", flush=True)
        proc = subprocess.run([python, os.path.join(HERE, script)], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
        print(proc.stdout, flush=True)
        rc |= proc.returncode
    sys.exit(rc)


if __name__ == "__main__":
    main()
