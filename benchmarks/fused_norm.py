"""BatchNorm + (leaky) ReLU, forward and backward of one layer: PyTorch's kernels against tsssl's fused ones (`tsssl.fused`).

Times `nn.BatchNorm` followed by its in-place activation and `BatchNormAct1d`/`2d` at the shapes tsssl trains (the
tokenizer's channels-last activations with LeakyReLU(0.01), the FCN's channels-first ones with ReLU), in float32 and
bfloat16, as the median of `--repeats` calls after 5 warm-up calls; prints the CPU model and both times per shape.

    .venv/bin/python benchmarks/fused_norm.py            # `make` exports the glibc settings training runs with
"""
import argparse, statistics, time

import torch
import torch.nn.functional as F
from torch import nn

from tsssl.core import cpu_name, freed_memory_kept
from tsssl.fused import BatchNormAct1d, BatchNormAct2d, fused_norm_enabled

SHAPES = [((128, 64, 5, 125), 0.01, "the tokenizer's first block, FordA shape"), ((128, 64, 5, 15), 0.01, "a residual unit, FordA shape"),
          ((256, 128, 500), 0.0, "an FCN block, FordA shape"), ((256, 256, 500), 0.0, "the FCN's widest block, FordA shape")]


def median_ms(fn, repeats: int) -> float:
    "Median milliseconds of `fn()` after five warm-up calls."
    times = []
    for i in range(5 + repeats):
        t0 = time.perf_counter(); fn()
        if i >= 5: times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    a = p.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    if not fused_norm_enabled(): raise SystemExit("the fused kernels are not available here (see the warning above); nothing to compare")
    print(f"{cpu_name()}, {torch.get_num_threads()} threads, torch {torch.__version__}")
    print(f"{'shape':<18}{'dtype':<10}{'PyTorch ms':>11}{'fused ms':>10}{'speed-up':>10}   layer")
    with freed_memory_kept():
        for shape, slope, what in SHAPES:
            for dtype in (torch.float32, torch.bfloat16):
                x = torch.randn(*shape).to(dtype)
                if x.ndim == 4: x = x.contiguous(memory_format=torch.channels_last)
                x.requires_grad_()
                c = shape[1]
                ref, ours = (nn.BatchNorm2d(c), BatchNormAct2d(c, slope)) if x.ndim == 4 else (nn.BatchNorm1d(c), BatchNormAct1d(c, slope))
                gz = torch.randn_like(x)
                pytorch = lambda: torch.autograd.grad(F.leaky_relu(ref(x), slope, inplace=True), (x, ref.weight, ref.bias), gz)
                fused = lambda: torch.autograd.grad(ours(x), (x, ours.weight, ours.bias), gz)
                t_ref, t_ours = median_ms(pytorch, a.repeats), median_ms(fused, a.repeats)
                dt = "float32" if dtype == torch.float32 else "bfloat16"
                print(f"{'×'.join(map(str, shape)):<18}{dt:<10}{t_ref:>11.2f}{t_ours:>10.2f}{t_ref / t_ours:>9.2f}×   {what}")


if __name__ == "__main__":
    main()
