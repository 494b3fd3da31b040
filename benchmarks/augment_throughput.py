"""Throughput of the augmented view: tsssl's batched augmentation against the reference's per-sample CPU path.

The default workload is a FordA-shaped batch (128 x 1 x 500, random normal) augmented with the thesis' default
"warp" set (window warp, then amplitude resize). Reported: the median time per batch over many repeats, after
warm-up, for

* tsssl on the CPU (`--threads` torch threads) and, when torch sees one, on CUDA (synchronised);
* the same after one 30 MB tensor was allocated and freed, as any training step does: that raises glibc's
  dynamic mmap threshold, so the batch's MB-sized temporaries stop being mmap'ed and page-faulted afresh each
  time (the first row shows the cost in a fresh process);
* a re-implementation of the reference's per-sample path (`Augmenter.augment` in `preprocessing/augmentations.py` of
  github.com/erlendlokna/Generative-SSL-VQVAE-modelling), looped over the series of the batch:
  NumPy window warp with `np.interp`, amplitude resize, then the always-on STFT/ISTFT round trip
  (n_fft 32, hop 8, two-sided, Hann window) zero-padded back to length l.

Usage: python benchmarks/augment_throughput.py [--batch 128] [--length 500] [--threads 2] [--repeats 300] [--each]
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import torch

from tsssl.augment import AUGMENTATIONS, AugmentConfig, Augmenter, make_generator


def reference_view(x: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig, window: torch.Tensor) -> np.ndarray:
    "The reference's augmented view of one 1-D series: window warp, amplitude resize, STFT/ISTFT round trip."
    l = len(x)
    w = max(round(cfg.window_ratio * l), 1)
    start = rng.integers(0, l - w)
    scale = rng.uniform(cfg.min_window_warp, cfg.max_window_warp)
    win = np.interp(np.linspace(0, w - 1, num=int(w * scale)), np.arange(w), x[start:start + w])
    warped = np.concatenate([x[:start], win, x[start + w:]])
    x = np.interp(np.arange(l), np.linspace(0, l - 1.0, num=warped.size), warped)
    x = x * (1 + rng.normal(0, cfg.amp_rate))
    u = torch.stft(torch.from_numpy(x).float()[None], 32, 8, window=window, onesided=False, return_complex=True)
    y = torch.istft(u, 32, 8, window=window, onesided=False, return_complex=False)[0].numpy()
    return np.pad(y, (0, l - len(y))) if len(y) < l else y[:l]


def median_time(fn, repeats: int, warmup: int, sync=None) -> tuple[float, float]:
    "Median and minimum wall-clock seconds of `fn()` over `repeats` calls after `warmup` calls."
    for _ in range(warmup): fn()
    if sync: sync()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        if sync: sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--length", type=int, default=500)
    ap.add_argument("--channels", type=int, default=1)
    ap.add_argument("--names", default="warp", help="a preset (warp, slice, gauss) or comma-separated names")
    ap.add_argument("--repeats", type=int, default=300, help="timed batches for tsssl")
    ap.add_argument("--ref-repeats", type=int, default=30, help="timed batches for the reference path")
    ap.add_argument("--warmup", type=int, default=50, help="untimed batches first (the allocator warms up too)")
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    ap.add_argument("--each", action="store_true", help="also time each of the eight augmentations alone")
    ap.add_argument("--no-cold", action="store_true", help="skip the row timed before the allocator is primed")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    names = args.names if "," not in args.names else tuple(args.names.split(","))
    cfg = AugmentConfig(names=names)
    aug = Augmenter(cfg)
    b, c, l = args.batch, args.channels, args.length
    x = torch.randn(b, c, l, generator=make_generator(0))
    rows = []  # (label, device, seconds per batch)

    g = make_generator(0)
    label = f"tsssl batched {aug!r}"
    if not args.no_cold:
        rows.append((label + " [fresh allocator]", f"cpu, {args.threads} threads",
                     median_time(lambda: aug(x, g), args.repeats, args.warmup)))
    # A training step frees tensors of tens of MB, which raises glibc's dynamic mmap threshold; in a fresh process
    # every MB-sized temporary is mmap'ed and page-faulted instead (~1500 faults per batch here). Do the same once.
    del_me = torch.ones(30 * 2**20 // 4); del del_me
    rows.append((label, f"cpu, {args.threads} threads", median_time(lambda: aug(x, g), args.repeats, args.warmup)))
    if torch.cuda.is_available():
        xc, gc = x.cuda(), make_generator(0, "cuda")
        rows.append((f"tsssl batched {aug!r}", torch.cuda.get_device_name(),
                     median_time(lambda: aug(xc, gc), args.repeats, args.warmup, torch.cuda.synchronize)))
    if args.each:
        for name, fn in AUGMENTATIONS.items():
            rows.append((f"  tsssl {name}", "cpu", median_time(lambda: fn(x, g, cfg), args.repeats, args.warmup)))

    if cfg.names == ("window_warp", "amplitude_resize") and c == 1:
        xn, rng, window = x[:, 0].numpy().astype(np.float64), np.random.default_rng(0), torch.hann_window(32)
        ref = lambda: np.stack([reference_view(s, rng, cfg, window) for s in xn])[:, None]
        rows.append(("reference per-sample (re-implemented)", "cpu",
                     median_time(ref, args.ref_repeats, max(2, args.warmup // 10))))
    else:
        print("(the reference path is re-implemented for the 'warp' set on univariate series only)")

    print(f"\naugmented view of a {b} x {c} x {l} batch, wall clock over repeats (torch {torch.__version__}, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)\n")
    print(f"{'path':<74} {'device':<24} {'median ms/batch':>15} {'us/series':>10} {'min ms/batch':>12}")
    for label, dev, (s, best) in rows:
        print(f"{label:<74} {dev:<24} {s * 1e3:>15.3f} {s * 1e6 / b:>10.2f} {best * 1e3:>12.3f}")
    ref_s = rows[-1][2][0] if rows[-1][0].startswith("reference") else None
    if ref_s:
        for label, dev, (s, _) in rows:
            if label.startswith("tsssl batched"):
                print(f"speed-up (medians) over the reference per-sample path: {ref_s / s:6.1f}x  ({label}, {dev})")


if __name__ == "__main__":
    main()
