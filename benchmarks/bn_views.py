"""Which views do an NC-VQVAE tokenizer's BatchNorm running statistics describe, and does it matter?

During NC-VQVAE training both the original batch and its augmented view pass through the same encoder and
decoder in training mode, so every BatchNorm layer moves its running statistics twice per step: once with
the original series, once with the augmented ones. tsssl's probes encode in eval mode (leak-free), where
those running statistics normalise, so they describe a mixture of both views rather than the data being
encoded. The reference code (github.com/erlendlokna/Generative-SSL-VQVAE-modelling, `experiments/exp_stage1.py`
with its `models/stage1/` models) trains the same way; its probes ran in training mode with batch statistics,
so the thesis never used them.

For each finished stage-1 run given, this script re-estimates every BatchNorm's running statistics at the
final weights (cumulative average over the training split, no other state moves) in two ways, from the
original series only and from original plus augmented views (as training fed them), and prints for the
stored and both re-estimated statistics: the share of test tokens that differ from the stored statistics'
tokens, the leak-free SVM and KNN probes on pooled z_q, and the test reconstruction MSE.

    .venv/bin/python benchmarks/bn_views.py runs/sweeps/thesis_electricdevices/stage1/*barlowtwins*
"""
from __future__ import annotations

import argparse
import copy
from pathlib import Path

import pandas as pd
import torch
from torch import nn

from tsssl.augment import Augmenter, make_generator
from tsssl.data import to_device
from tsssl.stage1 import load_stage1
from tsssl.stage1_eval import encode_split, evaluate_stage1


def reestimated(tok: nn.Module, batches) -> nn.Module:
    "A copy of `tok` whose BatchNorm running statistics are the plain average over `batches`; nothing else moves."
    tok = copy.deepcopy(tok).eval()
    bns = [m for m in tok.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for m in bns: m.reset_running_stats(); m.momentum = None; m.train()  # momentum None: cumulative average
    with torch.no_grad():
        for xb in batches: tok(xb)  # the quantizer stays in eval mode: no EMA codebook update
    for m in bns: m.eval()
    return tok


def views(x: torch.Tensor, batch_size: int, augment=None, seed: int = 0):
    "Training-split batches, each followed by its augmented view when `augment` is given (the order training used)."
    g = make_generator(seed)
    for xb in x.split(batch_size):
        yield xb
        if augment is not None: yield augment(xb, g)


def measure(run_dir: Path) -> list[dict]:
    tok, cfg = load_stage1(run_dir)
    if not cfg.ssl.enabled: raise SystemExit(f"{run_dir} is a plain VQ-VAE run: only NC-VQVAE runs see two views")
    data = cfg.load_data(); td = to_device(data, "cpu")
    bs = cfg.train.batch_size
    stored_tokens = encode_split(tok, td.x_test).tokens
    rows = []
    for label, t in [("stored (both views, EMA over training)", tok),
                     ("re-estimated, original series only", reestimated(tok, views(td.x_train, bs))),
                     ("re-estimated, original + augmented", reestimated(tok, views(td.x_train, bs, Augmenter(cfg.augment))))]:
        ev = evaluate_stage1(t, td.x_train, td.y_train, td.x_test, td.y_test, svm=cfg.svm)
        changed = float((ev.test.tokens != stored_tokens).float().mean())
        rows.append({"run": run_dir.name, "statistics": label, "test tokens changed": changed,
                     **{k: ev.metrics[k] for k in ("svm_accuracy", "knn_accuracy", "recon_mse_time")}})
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("runs", nargs="+", type=Path, help="finished NC-VQVAE stage-1 run directories")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    a = p.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    table = pd.DataFrame([row for r in a.runs for row in measure(r)])
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
