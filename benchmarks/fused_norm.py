"""BatchNorm + (leaky) ReLU, forward and backward of one layer: PyTorch's kernels against tsssl's fused ones (`tsssl.fused`).

Times `nn.BatchNorm` followed by its in-place activation and `BatchNormAct1d`/`2d` at the shapes tsssl trains (the
tokenizer's channels-last activations with LeakyReLU(0.01), the FCN's channels-first ones with ReLU), in float32 and
bfloat16, as the median of `--repeats` calls after 5 warm-up calls; prints the CPU model and both times per shape.

`--steps` times whole training steps instead (`tsssl.train.train_step`, as `fit` runs them: the plain tokenizer and the
FCN on the FordA-shaped set and on GunPoint), switching between PyTorch's kernels and the fused ones at every step of one
process, so that a host whose speed drifts (a shared machine) slows both alike; it prints the median ms of each and their ratio.

    .venv/bin/python benchmarks/fused_norm.py            # `make` exports the glibc settings training runs with
    .venv/bin/python benchmarks/fused_norm.py --steps --precision fp32
"""
import argparse, os, statistics, time

import torch
import torch.nn.functional as F
from torch import nn

from tsssl.core import cpu_name, freed_memory_kept
from tsssl.fcn import FCN, fcn_loss
from tsssl.fused import BatchNormAct1d, BatchNormAct2d, fused_norm_enabled
from tsssl.ncvqvae import stage1_loss
from tsssl.ssl import PLAIN
from tsssl.vqvae import VQVAE, VQVAEConfig

SHAPES = [((128, 64, 5, 125), 0.01, "the tokenizer's first block, FordA shape"), ((128, 64, 5, 15), 0.01, "a residual unit, FordA shape"),
          ((256, 128, 500), 0.0, "an FCN block, FordA shape"), ((256, 256, 500), 0.0, "the FCN's widest block, FordA shape")]


def median_ms(fn, repeats: int) -> float:
    "Median milliseconds of `fn()` after five warm-up calls."
    times = []
    for i in range(5 + repeats):
        t0 = time.perf_counter(); fn()
        if i >= 5: times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def whole_steps(repeats: int, precisions: list[str]):
    "Median ms per training step with PyTorch's BatchNorm kernels and with the fused ones, the two alternated step by step."
    from throughput import _one_step, workload  # the same steps and data as make bench
    device = torch.device("cpu")
    print(f"{'step':<24}{'data':<10}{'prec':<6}{'PyTorch ms':>11}{'fused ms':>10}{'speed-up':>10}")
    for data in ("fordA", "GunPoint"):
        x, y = workload(data, device)
        for prec in precisions:
            torch.manual_seed(0); tokenizer = VQVAE(VQVAEConfig(length=x.shape[-1]))
            torch.manual_seed(0); fcn = FCN(x.shape[1], int(y.max()) + 1)
            reps = -(-1000 // len(x))  # as make bench: the CAS classifier's at least 1000 series, batches of 256
            for what, step in ((f"stage1-{PLAIN}", _one_step(tokenizer, stage1_loss, x, y, 128, prec, device)),
                               ("fcn", _one_step(fcn, fcn_loss, x.repeat(reps, 1, 1), y.repeat(reps), 256, prec, device))):
                times = {"0": [], "1": []}
                for i in range(3 + repeats):
                    for mode in ("0", "1"):
                        os.environ["TSSSL_FUSED_NORM"] = mode
                        t0 = time.perf_counter(); step()
                        if i >= 3: times[mode].append(time.perf_counter() - t0)
                os.environ["TSSSL_FUSED_NORM"] = "1"
                ref, ours = (1e3 * statistics.median(times[m]) for m in ("0", "1"))
                print(f"{what:<24}{data:<10}{prec:<6}{ref:>11.1f}{ours:>10.1f}{ref / ours:>9.2f}×")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    p.add_argument("--steps", action="store_true", help="time whole training steps, PyTorch's kernels and the fused ones alternated")
    p.add_argument("--precision", nargs="+", default=["fp32", "bf16"], choices=["fp32", "bf16"], help="with --steps: the precisions to time")
    a = p.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    os.environ["TSSSL_FUSED_NORM"] = "1"  # the fused kernels whatever this machine's measurement chose: they are what is timed
    fused_norm_enabled()  # where they do not build, this raises and says why
    print(f"{cpu_name()}, {torch.get_num_threads()} threads, torch {torch.__version__}")
    if a.steps:
        with freed_memory_kept(): whole_steps(a.repeats, a.precision)
        return
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
