"""Training and generation throughput of tsssl's stage-1 tokenizers and stage-2 prior.

Times the same `tsssl.train.train_step` that `fit` runs (forward under optional bf16 autocast, backward,
AdamW), after warm-up, as the median over repeated steps; and the generation of `--n-generate` series.
Workloads (those the reference implementation was timed on): a FordA-shaped synthetic set (3601 series of length 500, 2 classes; batch 128 for
stage 1, 256 for stage 2) and GunPoint (50 series of length 150: one step per epoch).

    .venv/bin/python benchmarks/throughput.py                       # everything on the default device
    .venv/bin/python benchmarks/throughput.py --what stage1 --device cpu --precision fp32 bf16

Prints the device's own matmul and convolution rates first (so a step time can be read against what the
hardware does), then one table with each step's FLOPs (counted by torch's FlopCounterMode, forward and
backward) and the rate it achieves; compare against the reference figures in `REFERENCE` (below) on the same kind of device.
"""
import argparse, os, statistics, time

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from tsssl.augment import AugmentConfig
from tsssl.core import resolve_device, seed_everything
from tsssl.data import load_ucr
from tsssl.linear import fast_linear, onednn_linear_enabled
from tsssl.maskgit import MaskGIT, MaskGITConfig, prior_loss
from tsssl.ncvqvae import NCVQVAE, stage1_loss
from tsssl.ssl import SSLConfig
from tsssl.train import TrainConfig, make_optimizer, train_step
from tsssl.vqvae import VQVAE, VQVAEConfig, n_params

# The thesis' reference code (github.com/erlendlokna/Generative-SSL-VQVAE-modelling: PyTorch Lightning,
# per-sample CPU augmentation in the data loader), timed in steady-state epochs with evaluation excluded,
# in ms per step: on one NVIDIA H100 (torch 2.11, 8 loader workers) / on a shared 2-core Xeon CPU
# (torch 2.13.0+cpu, Lightning 2.6.6, 0 loader workers, its fastest setting there). Shared CPUs are noisy:
# compare ratios measured in one run.
REFERENCE = {
    ("stage1-vqvae", "fordA"): "26 (H100) / 410 (2-core Xeon)", ("stage1-barlowtwins", "fordA"): "47 (H100) / 1300 (2-core Xeon)",
    ("stage1-vqvae", "GunPoint"): "232 (H100) / 65 (2-core Xeon) per epoch", ("stage1-barlowtwins", "GunPoint"): "282 (H100) / 700 (2-core Xeon) per epoch",
    ("stage2-token", "fordA"): "48.7 (H100)", ("stage2-token", "GunPoint"): "346 (H100) per epoch",
    ("generate-1000", "fordA"): "530 (H100)"}


def workload(name: str, device):
    "(x, y) on the device for a named workload."
    if name == "fordA":
        g = torch.Generator().manual_seed(0)
        t = torch.linspace(0, 20, 500)
        y = torch.randint(0, 2, (3601,), generator=g)
        x = torch.sin(t * (1 + y[:, None])) + 0.3 * torch.randn(3601, 500, generator=g)
        return x[:, None].to(device), y.to(device)
    d = load_ucr(name)
    return torch.as_tensor(d.x_train).to(device), torch.as_tensor(d.y_train).to(device)


def _median_s(fn, device, repeats: int = 15) -> float:
    "Median seconds of `fn()` after three warm-up calls."
    times = []
    for i in range(3 + repeats):
        t0 = time.perf_counter(); fn()
        if device.type == "cuda": torch.cuda.synchronize()
        if i >= 3: times.append(time.perf_counter() - t0)
    return statistics.median(times)


def kernel_rates(device) -> str:
    "GFLOP/s of a 256×4096 @ 4096×4096 float32 product (F.linear and tsssl's Linear) and of the tokenizer's widest conv."
    a, w = torch.randn(256, 4096, device=device), torch.randn(4096, 4096, device=device)
    x, k = torch.randn(128, 64, 7, 127, device=device), torch.randn(64, 64, 3, 4, device=device)
    x = x.contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        mm = 2 * 256 * 4096 * 4096 / 1e9
        blas, ours = mm / _median_s(lambda: F.linear(a, w), device), mm / _median_s(lambda: fast_linear(a, w), device)
        conv = 2 * 128 * 64 * 5 * 62 * 64 * 12 / 1e9 / _median_s(lambda: F.conv2d(x, k, stride=(1, 2)), device)
    via = "oneDNN" if device.type == "cpu" and onednn_linear_enabled() else "F.linear"
    return (f"fp32 GFLOP/s on this device: matmul 256x4096 @ 4096x4096 {blas:.0f} (F.linear), {ours:.0f} (tsssl Linear, {via}); "
            f"conv 64->64 (3,4) stride (1,2) on 128x64x7x127 {conv:.0f}")


def step_gflop(model, loss_fn, x, y, batch, precision, device) -> float:
    "FLOPs of one training step (forward and backward; the optimiser's elementwise work is not counted), in GFLOP."
    cfg = TrainConfig(precision=precision, device=str(device))
    opt, g = make_optimizer(model, cfg, device), torch.Generator(device=device).manual_seed(0)
    model.to(device).train()
    os.environ["TSSSL_ONEDNN_LINEAR"], before = "0", os.environ.get("TSSSL_ONEDNN_LINEAR")  # the counter sees F.linear, not oneDNN
    try:
        with FlopCounterMode(display=False) as counter:
            train_step(model, loss_fn, opt, x[:batch], y[:batch], g, cfg, device)
    finally:
        if before is None: del os.environ["TSSSL_ONEDNN_LINEAR"]
        else: os.environ["TSSSL_ONEDNN_LINEAR"] = before
    return counter.get_total_flops() / 1e9


def time_steps(model, loss_fn, x, y, batch, precision, device, steps, warmup) -> float:
    "Median seconds per optimiser step."
    cfg = TrainConfig(precision=precision, device=str(device))
    opt, g = make_optimizer(model, cfg, device), torch.Generator(device=device).manual_seed(0)
    model.to(device).train(); times = []
    for i in range(warmup + steps):
        idx = torch.randint(0, len(x), (min(batch, len(x)),), generator=g, device=device)
        t0 = time.perf_counter()
        train_step(model, loss_fn, opt, x[idx], y[idx], g, cfg, device)
        if device.type == "cuda": torch.cuda.synchronize()
        if i >= warmup: times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="auto")
    p.add_argument("--what", nargs="+", default=["stage1", "stage2", "generate"])
    p.add_argument("--data", nargs="+", default=["fordA", "GunPoint"])
    p.add_argument("--precision", nargs="+", default=["fp32", "bf16"])
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--threads", type=int, default=0, help="torch threads on the CPU (0 = torch's default)")
    p.add_argument("--n-generate", type=int, default=1000)
    a = p.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    device = resolve_device(a.device); seed_everything(0)
    print(f"device {device} ({torch.cuda.get_device_name() if device.type == 'cuda' else f'{torch.get_num_threads()} threads'}), torch {torch.__version__}")
    print(kernel_rates(device))
    malloc = {k: os.environ[k] for k in ("MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_") if k in os.environ}
    print(f"glibc malloc settings: {malloc or 'defaults'} (the Makefile sets MALLOC_MMAP_MAX_=0 and a large MALLOC_TRIM_THRESHOLD_)")
    rows = []
    for data in a.data:
        x, y = workload(data, device); length = x.shape[-1]
        for prec in a.precision:
            if "stage1" in a.what:
                for method in ("", "barlowtwins"):
                    torch.manual_seed(0)
                    tok = VQVAE(VQVAEConfig(length=length))
                    model = NCVQVAE(tok, SSLConfig(method=method), AugmentConfig()) if method else tok
                    s = time_steps(model, stage1_loss, x, y, 128, prec, device, a.steps, a.warmup)
                    gf = step_gflop(model, stage1_loss, x, y, 128, prec, device)
                    key = f"stage1-{method or 'vqvae'}"
                    rows.append((key, data, prec, n_params(model), s * 1e3, min(128, len(x)) / s, gf, gf / s, REFERENCE.get((key, data), "")))
            if "stage2" in a.what or "generate" in a.what:
                torch.manual_seed(0)
                prior = MaskGIT(VQVAE(VQVAEConfig(length=length)).to(device), 2, MaskGITConfig()).to(device)
                if "stage2" in a.what:
                    z = prior.latents(x)  # as train_stage2: the frozen encoder runs once, the steps draw targets from z
                    s = time_steps(prior, prior_loss, z, y % 2, 256, prec, device, a.steps, a.warmup)
                    gf = step_gflop(prior, prior_loss, z, y % 2, 256, prec, device)
                    rows.append(("stage2-token", data, prec, n_params(prior), s * 1e3, min(256, len(x)) / s, gf, gf / s, REFERENCE.get(("stage2-token", data), "")))
                if "generate" in a.what and prec == a.precision[0]:
                    g = torch.Generator(device=device).manual_seed(0)
                    prior.sample(16, generator=g)  # warm-up
                    if device.type == "cuda": torch.cuda.synchronize()
                    t0 = time.perf_counter(); prior.sample(a.n_generate, generator=g)
                    if device.type == "cuda": torch.cuda.synchronize()
                    s = time.perf_counter() - t0
                    rows.append((f"generate-{a.n_generate}", data, "fp32", n_params(prior), s * 1e3, a.n_generate / s, None, None, REFERENCE.get((f"generate-{a.n_generate}", data), "")))
    print(f"\n{'what':<20}{'data':<10}{'prec':<6}{'params':>11}{'ms/step':>11}{'series/s':>11}{'GFLOP':>8}{'GFLOP/s':>9}   reference ms")
    for r in rows:
        flops = f"{r[6]:>8.1f}{r[7]:>9.0f}" if r[6] is not None else f"{'':>8}{'':>9}"
        print(f"{r[0]:<20}{r[1]:<10}{r[2]:<6}{r[3]:>11,}{r[4]:>11.1f}{r[5]:>11.0f}{flops}   {r[8]}")


if __name__ == "__main__":
    main()
