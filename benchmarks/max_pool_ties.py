"""Does it matter where the SSL head's max pool sends its gradient when several positions tie?

NC-VQVAE pools the straight-through latent z + sg(q - z) with a global average and a global max before its
projector (`tsssl.ssl.pool_latent`). Positions that share a code carry the same vector, so the maximum of a
channel is often reached at several positions at once. `torch.amax` (tsssl) splits the max's gradient evenly
among the tied positions; the reference code (`F.adaptive_max_pool2d` in `models/ssl/barlowtwins.py` and
`models/ssl/vibcreg.py` of github.com/erlendlokna/Generative-SSL-VQVAE-modelling) sends all of it to the first.
Both are subgradients of the same max. This script trains NC-VQVAE tokenizers with the reference's rule and
prints their probes beside the finished runs of a sweep trained with tsssl's (same dataset, method, budget and
seeds), so the difference is measured rather than argued.

    .venv/bin/python benchmarks/max_pool_ties.py --seeds 1 2              # FordA, Barlow Twins + slice, 50 epochs
    .venv/bin/python benchmarks/max_pool_ties.py --seeds 1 --threads 1    # one seed per process, two at a time

Runs go to runs/max_pool_ties/<dataset>-<method>-<augmentations>-s<seed> and resume when started again. The
comparison reads `figures/thesis/thesis_runs.csv` (sweep `thesis_ford_epochs` by default).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import torch
import torch.nn.functional as F

import tsssl.ssl
from tsssl.stage1 import Stage1Params, train_stage1

ROOT = Path(__file__).resolve().parents[1]
METRICS = ("svm_accuracy", "knn_accuracy", "svm_accuracy_trainmode", "knn_accuracy_trainmode", "svm_accuracy_z",
           "knn_accuracy_z", "perplexity", "recon_mse_time")


def pool_latent_first(z: torch.Tensor) -> torch.Tensor:
    "`tsssl.ssl.pool_latent` with the reference's max: a tie's whole gradient goes to its first position."
    z = z.flatten(2)
    return torch.cat([z.mean(-1), z.max(-1).values], dim=1)  # max over a dim returns the first maximal index


def check_first_rule() -> None:
    "The replacement's value equals tsssl's, and its gradient equals `F.adaptive_max_pool2d`'s on tied maxima."
    z = (torch.randn(4, 8, 3, 10) * 2).round().requires_grad_()  # few distinct values: many ties
    assert torch.equal(pool_latent_first(z), tsssl.ssl.pool_latent(z))
    g_first, = torch.autograd.grad(pool_latent_first(z)[:, 8:].sum(), z)
    g_ref, = torch.autograd.grad(F.adaptive_max_pool2d(z, 1).sum(), z)
    g_split, = torch.autograd.grad(tsssl.ssl.pool_latent(z)[:, 8:].sum(), z)
    assert torch.equal(g_first, g_ref) and not torch.equal(g_split, g_ref)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", default="FordA")
    p.add_argument("--method", default="barlowtwins")
    p.add_argument("--augmentations", default="slice")
    p.add_argument("--epochs", type=int, default=50)
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    p.add_argument("--sweep", default="thesis_ford_epochs", help="the sweep whose runs (tsssl's rule) are set beside these")
    p.add_argument("--compare-only", action="store_true", help="train nothing; compare the finished runs")
    a = p.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    check_first_rule()
    tsssl.ssl.pool_latent = pool_latent_first  # the SSL module looks the function up here at every step
    rows = []
    for seed in a.seeds:
        out = ROOT / "runs" / "max_pool_ties" / f"{a.dataset}-{a.method}-{a.augmentations}-s{seed}"
        params = Stage1Params(dataset=a.dataset, ssl_method=a.method, augmentations=a.augmentations, epochs=a.epochs,
                              seed=seed, device="cpu", precision="fp32", probe_protocol="both", out_dir=str(out),
                              progress=False, draw_figures=False)
        metrics = (train_stage1(params.to_config(), params.run_dir).metrics if not a.compare_only
                   else pd.read_json(out / "metrics.json", typ="series").to_dict())
        rows.append({"max rule": "first (reference)", "seed": seed, **{k: metrics.get(k) for k in METRICS}})
    stored = pd.read_csv(ROOT / "figures" / "thesis" / "thesis_runs.csv")
    stored = stored[(stored["sweep"] == a.sweep) & (stored["dataset"] == a.dataset) & (stored["ssl_method"] == a.method)
                    & (stored["augmentations"] == a.augmentations) & (stored["epochs"] == a.epochs) & stored["seed"].isin(a.seeds)]
    rows += [{"max rule": "split (tsssl)", "seed": int(r["seed"]), **{k: r.get(k) for k in METRICS}} for _, r in stored.iterrows()]
    table = pd.DataFrame(rows).sort_values(["max rule", "seed"])
    print(f"{a.dataset}, {a.method} + {a.augmentations}, {a.epochs} epochs; split: sweep {a.sweep}")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    summary = table.groupby("max rule")[list(METRICS)].agg(lambda s: f"{s.mean():.3f} ± {s.std():.3f} ({s.count()})")
    print(summary.T.to_string())  # mean ± std (runs) per rule


if __name__ == "__main__":
    main()
