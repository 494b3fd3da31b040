"""CAS of finished stage-2 runs with the classifier trained in each precision, on the very synthetic set each run's own
classifier saw (`tsssl.stage2.rescore` with `cas_fcn`). It separates the CAS classifier's precision from the precision
the tokenizer and the prior were trained in: a bf16 run scored with an fp32 classifier, and an fp32 run with a bf16 one.

    python benchmarks/cas_precision.py runs/sweeps/bf16_validation_zen4/stage2/ECG5000-*vibcreg* --out cas.csv

Prints one line per run and classifier precision (the run's own precision first: its stored CAS must come back), then
the mean and spread over seeds of each (run precision, classifier precision) pair.
"""
import argparse, csv, sys, time
from pathlib import Path

import numpy as np

from tsssl.core import read_json
from tsssl.runs import RunDir
from tsssl.stage2 import rescore, stage2_config


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", help="finished stage-2 run directories (labelled data)")
    ap.add_argument("--precisions", nargs="+", default=["fp32", "bf16"], choices=["fp32", "bf16"])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--out", help="also write the rows to this CSV file")
    a = ap.parse_args(argv)
    rows = []
    for run in map(Path, a.runs):
        cfg, stored = stage2_config(run), read_json(RunDir(run).metrics)
        own = cfg.cas_fcn().precision
        for p in sorted(a.precisions, key=lambda p: p != own):
            t0 = time.perf_counter()
            got = rescore(run, cas_fcn=cfg.cas_fcn().replace(precision=p), device=a.device)["cas_accuracy"]
            row = {"run": run.name, "run_precision": cfg.train.precision, "seed": cfg.train.seed, "cas_precision": p,
                   "cas_accuracy": got, "stored_cas_accuracy": stored.get("cas_accuracy"), "seconds": round(time.perf_counter() - t0, 1)}
            rows.append(row); print(", ".join(f"{k} {v}" for k, v in row.items()), flush=True)
            if p == own and stored.get("cas_accuracy") is not None and abs(got - stored["cas_accuracy"]) > 1e-9:
                print(f"  warning: {run.name} gave {got} with its own classifier recipe, not its stored {stored['cas_accuracy']}", flush=True)
    if a.out:
        with open(a.out, "w", newline="") as f: w = csv.DictWriter(f, fieldnames=list(rows[0])); w.writeheader(); w.writerows(rows)
    print("\nrun precision, classifier precision: mean ± std (n) of CAS over runs")
    for rp in sorted({r["run_precision"] for r in rows}):
        for cp in a.precisions:
            v = np.array([r["cas_accuracy"] for r in rows if r["run_precision"] == rp and r["cas_precision"] == cp])
            if len(v): print(f"{rp}, {cp}: {v.mean():.4f} ± {v.std(ddof=1) if len(v) > 1 else float('nan'):.4f} ({len(v)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
