"""Training and generation throughput of tsssl's stage-1 tokenizers and stage-2 prior.

Times the same `tsssl.train.train_step` that `fit` runs (forward under optional bf16 autocast, backward,
AdamW), after warm-up, as the median over repeated steps; and the generation of `--n-generate` series.
Workloads (those the reference implementation was timed on): a FordA-shaped synthetic set (3601 series of length 500, 2 classes; batch 128 for
stage 1, 256 for stage 2) and GunPoint (50 series of length 150: one step per epoch); `--data` takes any UCR name (e.g.
ECG5000). `fcn` times the FCN that scores FID/IS and, trained on at least 1000 generated series, gives CAS: its step at
batch 256 (the series repeated up to 1000), so a CAS classifier of E epochs costs E × 4 such steps.

    .venv/bin/python benchmarks/throughput.py                       # everything on the default device
    .venv/bin/python benchmarks/throughput.py --what stage1 --device cpu --precision fp32 bf16

Prints the CPU model (or GPU name) and the device's own matmul and convolution rates in each precision
first, then one table with each step's FLOPs (convolutions, matmuls and attention, forward and backward, counted by torch's
FlopCounterMode with formulas added for the CPU attention kernel and oneDNN's matmul), the
rate it achieves, and that rate's share of the device's kernel rate in the same precision (the conv2d rate
for stage 1, the conv1d rate for the FCN, the matmul rate for the transformer prior: each against the kind of kernel it runs), that kernel rate
measured again just before and just after the step's own timing (the share is against their mean, so a shared host
whose speed drifts during the run moves both alike; the closing lines give the range the rates took). A second share,
"of train", sets the step against the same probes run forward and backward, as training runs them, each kind of FLOP at its
own kind's rate (convolutions at the conv rate, matrix products and attention at the matmul rate): where a CPU's backward
kernels lag their forward ones (oneDNN on AVX2), or a step mixes convolutions and matrix products, this is the rate its
kernels could reach at best. The training rates are read at the start, alternated with the forward ones three times (the
medians), and scaled by the host's drift during each step, read from the forward probe around it. Eager steps are timed in
`--rounds` rounds (default 3), each between two readings of its kernel rate, and a row gives the medians of the rounds'
times and shares: a shared host's speed changes within seconds, and one round's share moved by up to 0.19 between runs an hour apart.
The last lines count the steps at 0.75 or more of each share and give the lowest and highest "of train" of the rounds. `--compile` adds
a row per training step run under `torch.compile` (`TrainConfig.compile`; the warm-up steps absorb the compilation). `--profile` adds,
per workload, where one step's time goes (convolution, matmul, normalisation, elementwise, optimiser,
copies, other), from torch.profiler's self times (the profiler inflates memory-bound ops on some CPUs: read these as a
rough split), and, timed directly, the step's kernels alone: every convolution, matmul and attention call of one step
replayed on its own at the step's shapes. Their FLOPs over their time is the share of the kernel rate the step would
reach if norms, activations, copies and the optimiser took no time; the kernels that fall furthest below the rate are
named. Compare against the reference figures in `REFERENCE`
(below) only on the same CPU model: figures from two CPUs are never one ratio.
"""
import argparse, collections, contextlib, os, statistics, sys, time

import torch
import torch.nn.functional as F
import torch.utils.flop_counter as flop_counter
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_map
from torch.utils.flop_counter import FlopCounterMode

from tsssl.augment import AugmentConfig
from tsssl.core import bf16_native, cpu_name, freed_memory_kept, resolve_device, seed_everything
from tsssl.data import load_ucr
from tsssl.fcn import FCN, fcn_loss
from tsssl.fused import fused_norm_enabled
from tsssl.linear import _AVAILABLE, _OneDNNLinear, linear_kernels
from tsssl.maskgit import MaskGIT, MaskGITConfig, prior_loss
from tsssl.ncvqvae import NCVQVAE, stage1_loss
from tsssl.ssl import PLAIN, SSLConfig
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


def device_name(device) -> str:
    "The GPU's name, or the CPU's model name with the instruction sets that decide bf16 speed."
    return torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_name()


def _one_step(model, loss_fn, x, y, batch, precision, device):
    "A function that runs one training step of `model` on the first `batch` series, as `fit` does (its own optimiser and generator)."
    cfg = TrainConfig(precision=precision, device=str(device))
    opt, g = make_optimizer(model, cfg, device), torch.Generator(device=device).manual_seed(0)
    model.to(device).train()
    return lambda: train_step(model, loss_fn, opt, x[:batch], y[:batch], g, cfg, device)


RATE_KINDS = ("matmul", "matmul_onednn", "conv", "conv1d")

def kernel_rates(device, precision: str = "fp32", kinds=RATE_KINDS) -> dict[str, float]:
    """GFLOP/s of a 256×4096 @ 4096×4096 product (`matmul`: BLAS via F.linear; `matmul_onednn`: oneDNN's matmul, which tsssl's
    Linear takes where it pays, fp32 CPU only), of the tokenizer's widest conv (`conv`) and of the FCN's widest conv1d (`conv1d`),
    for the `kinds` asked for, on operands already in `precision` (under autocast each call would also cast its float32 operands,
    which made the bf16 rates read 1.4-2× low)."""
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    rates = {}
    with torch.no_grad():
        if "matmul" in kinds or "matmul_onednn" in kinds:
            a, w = torch.randn(256, 4096, device=device, dtype=dtype), torch.randn(4096, 4096, device=device, dtype=dtype)
            mm = 2 * 256 * 4096 * 4096 / 1e9
            if "matmul" in kinds: rates["matmul"] = mm / _median_s(lambda: F.linear(a, w), device)
            if "matmul_onednn" in kinds and precision == "fp32" and device.type == "cpu" and _AVAILABLE:
                rates["matmul_onednn"] = mm / _median_s(lambda: _OneDNNLinear.apply(a, w, None), device)
        if "conv" in kinds:
            x, k = torch.randn(128, 64, 7, 127, device=device, dtype=dtype), torch.randn(64, 64, 3, 4, device=device, dtype=dtype)
            x = x.contiguous(memory_format=torch.channels_last)
            rates["conv"] = 2 * 128 * 64 * 5 * 62 * 64 * 12 / 1e9 / _median_s(lambda: F.conv2d(x, k, stride=(1, 2)), device)
        if "conv1d" in kinds:
            x1, k1 = torch.randn(256, 128, 144, device=device, dtype=dtype), torch.randn(256, 128, 5, device=device, dtype=dtype)  # the FCN's widest conv
            rates["conv1d"] = 2 * 256 * 128 * 140 * 256 * 5 / 1e9 / _median_s(lambda: F.conv1d(x1, k1), device)
    return rates


def training_rates(device, precision: str = "fp32") -> dict[str, float]:
    """GFLOP/s of the probes of `kernel_rates` run as a training step runs them: forward, then the gradients of input and
    weight (3× the forward's FLOPs). On CPUs whose backward kernels lag their forward (oneDNN on AVX2) this is the rate a
    training step's kernels can reach at best, where the forward-only rate is not."""
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    cl = torch.channels_last
    probes = {  # kind: (input, weight, op, forward GFLOP), the shapes of `kernel_rates`
        "conv": (torch.randn(128, 64, 7, 127, dtype=dtype).contiguous(memory_format=cl), torch.randn(64, 64, 3, 4, dtype=dtype),
                 lambda x, k: F.conv2d(x, k, stride=(1, 2)), 2 * 128 * 64 * 5 * 62 * 64 * 12 / 1e9),
        "conv1d": (torch.randn(256, 128, 144, dtype=dtype), torch.randn(256, 128, 5, dtype=dtype), F.conv1d, 2 * 256 * 128 * 140 * 256 * 5 / 1e9),
        "matmul": (torch.randn(256, 4096, dtype=dtype), torch.randn(4096, 4096, dtype=dtype), F.linear, 2 * 256 * 4096 * 4096 / 1e9)}
    rates = {}
    for kind, (x, w, op, gflop) in probes.items():
        x, w = x.to(device).requires_grad_(), w.to(device).requires_grad_()
        gy = torch.randn_like(op(x, w).detach())
        rates[kind] = 3 * gflop / _median_s(lambda: torch.autograd.grad(op(x, w), (x, w), gy), device, repeats=7)
    return rates


def start_rates(device, precision: str = "fp32", rounds: int = 3) -> tuple[dict[str, float], dict[str, float]]:
    """The forward (`kernel_rates`) and training (`training_rates`) rates the shares are set against: each the median of
    `rounds` readings taken in turn, so that one slow moment of a shared host (or a first call's warm-up) does not set them."""
    readings = [(kernel_rates(device, precision), training_rates(device, precision)) for _ in range(rounds)]
    median = lambda rs: {k: statistics.median(r[k] for r in rs) for k in rs[0]}
    return median([f for f, _ in readings]), median([t for _, t in readings])


aten = torch.ops.aten
# torch's FlopCounterMode has no formula for the CPU flash-attention kernels (it counts the prior's attention as 0 FLOPs,
# 8 % of its FordA-shaped step's) nor for oneDNN's matmul that tsssl.linear may take: both are given here
_ATTENTION_CPU = (aten._scaled_dot_product_flash_attention_for_cpu.default, aten._scaled_dot_product_flash_attention_for_cpu_backward.default)
_ONEDNN_LINEAR = torch.ops.mkldnn._linear_pointwise.default
if _ATTENTION_CPU[0].overloadpacket not in flop_counter.flop_registry:
    @flop_counter.register_flop_formula(_ATTENTION_CPU[0].overloadpacket)
    def _attention_cpu_flop(q_shape, k_shape, v_shape, *args, **kwargs) -> int: return flop_counter.sdpa_flop_count(q_shape, k_shape, v_shape)
if _ATTENTION_CPU[1].overloadpacket not in flop_counter.flop_registry:
    @flop_counter.register_flop_formula(_ATTENTION_CPU[1].overloadpacket)
    def _attention_cpu_backward_flop(gy_shape, q_shape, k_shape, v_shape, *args, **kwargs) -> int:
        return flop_counter.sdpa_backward_flop_count(gy_shape, q_shape, k_shape, v_shape)
if _ONEDNN_LINEAR.overloadpacket not in flop_counter.flop_registry:
    @flop_counter.register_flop_formula(_ONEDNN_LINEAR.overloadpacket)
    def _onednn_linear_flop(x_shape, w_shape, *args, **kwargs) -> int: return 2 * x_shape[0] * x_shape[1] * w_shape[0]

# the ops whose FLOPs the step's rate counts: convolutions, matmuls and attention (CPU and CUDA kernels)
KERNEL_OPS = {aten.convolution.default, aten.convolution_backward.default, aten.mm.default, aten.addmm.default, aten.bmm.default,
              aten.baddbmm.default, _ONEDNN_LINEAR, *_ATTENTION_CPU,
              *(getattr(aten, n).default for n in ("_scaled_dot_product_flash_attention", "_scaled_dot_product_flash_attention_backward",
                                                   "_scaled_dot_product_efficient_attention", "_scaled_dot_product_efficient_attention_backward",
                                                   "_scaled_dot_product_cudnn_attention", "_scaled_dot_product_cudnn_attention_backward")
                if hasattr(aten, n))}


class _KernelCalls(TorchDispatchMode):
    "Records the kernel ops a step calls: how often each distinct call (op, shapes, strides, dtypes, other arguments) comes."
    def __init__(self):
        super().__init__(); self.calls, self.args = collections.Counter(), {}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in KERNEL_OPS:
            meta = tree_map(lambda a: ("tensor", tuple(a.shape), tuple(a.stride()), a.dtype) if isinstance(a, torch.Tensor) else a,
                            (args, kwargs))
            key = (func, repr(meta)); self.calls[key] += 1; self.args[key] = meta
        return func(*args, **kwargs)


def kernels_alone(model, loss_fn, x, y, batch, precision, device, rate: float, top: int = 2) -> tuple[float, float, list]:
    """The step's kernels (convolutions, matmuls, attention) replayed one by one at the step's own shapes, strides and dtypes.

    Returns (seconds, GFLOP, slowest): the time one step's kernels take by themselves, their FLOPs, and the `top` distinct
    kernels that lose most time against `rate` (GFLOP/s), as (ms lost per step, calls per step, op, input shapes, GFLOP/s).
    A step spends at least this time whatever is done about its norms, activations, copies and optimiser, so its FLOPs over
    this time are the highest share of the kernel rate an eager step of this model can reach (replayed kernels find warm
    caches, so this is an upper bound)."""
    step = _one_step(model, loss_fn, x, y, batch, precision, device)
    step()  # warm-up
    with _KernelCalls() as rec: step()
    is_meta = lambda a: isinstance(a, tuple) and len(a) == 4 and a[0] == "tensor"
    fresh = lambda a: torch.empty_strided(a[1], a[2], dtype=a[3], device=device).normal_() if is_meta(a) else a
    seconds = gflop = 0.0; lost = []
    for key, n in rec.calls.items():
        func, meta = key[0], rec.args[key]
        args, kwargs = tree_map(fresh, meta, is_leaf=is_meta)
        with FlopCounterMode(display=False) as counter: func(*args, **kwargs)
        s, f = _median_s(lambda: func(*args, **kwargs), device, repeats=5), counter.get_total_flops() / 1e9
        seconds += n * s; gflop += n * f
        shapes = [m[1] for m in meta[0] if is_meta(m)][:2]
        lost.append((n * (s - f / rate) * 1e3, n, func.__name__.split(".")[0], shapes, f / s))
    return seconds, gflop, sorted(lost, reverse=True)[:top]


@contextlib.contextmanager
def _kineto_quiet():
    "Standard error closed at the file-descriptor level: the profiler's C++ side prints two lines per use there (no setting stops it)."
    sys.stderr.flush(); saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try: os.dup2(devnull, 2); yield
    finally: sys.stderr.flush(); os.dup2(saved, 2); os.close(saved); os.close(devnull)


def op_shares(model, loss_fn, x, y, batch, precision, device, steps: int = 3) -> dict[str, float]:
    "Share of a training step's self time per kind of op (torch.profiler, after one warm-up step)."
    step = _one_step(model, loss_fn, x, y, batch, precision, device)
    step()  # warm-up
    kinds = {"conv": ("conv", "mkldnn_convolution"), "matmul": ("addmm", "mm", "bmm", "linear", "matmul", "baddbmm"),
             "normalisation": ("batch_norm", "batchnormact", "layer_norm", "group_norm", "native_norm"), "optimiser": ("adam", "_fused"),
             "copies": ("copy_", "contiguous", "clone", "to_copy", "cat", "stack", "index", "gather", "scatter", "pad"),
             "fft": ("fft", "stft")}
    acts = ("gelu", "relu", "silu", "mul", "add", "sub", "div", "exp", "sqrt", "pow", "where", "softmax", "sum", "mean", "neg", "abs")
    with _kineto_quiet(), torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        for _ in range(steps): step()
    total, out = 0.0, collections.Counter()
    for e in prof.key_averages():
        name, t = e.key.lower(), e.self_cpu_time_total
        total += t
        kind = next((k for k, pats in kinds.items() if any(p in name for p in pats)), None)
        out[kind or ("elementwise" if any(p in name for p in acts) else "other")] += t
    return {k: v / total for k, v in out.most_common()} if total else {}


_CONV_OPS = {"convolution", "convolution_backward"}


def step_gflop(model, loss_fn, x, y, batch, precision, device) -> tuple[float, dict[str, float]]:
    """GFLOP of one training step: convolutions, matmuls and attention, forward and backward (the elementwise work is not counted),
    in all and split into "conv" (convolutions) and "matmul" (matrix products and attention)."""
    step = _one_step(model, loss_fn, x, y, batch, precision, device)
    step()  # outside the count: a first call may time tsssl.linear's or tsssl.fused's kernels
    with FlopCounterMode(display=False) as counter: step()
    split = collections.Counter()
    for op, n in counter.get_flop_counts().get("Global", {}).items():
        split["conv" if op._qualified_op_name.split("::")[-1] in _CONV_OPS else "matmul"] += n / 1e9
    return counter.get_total_flops() / 1e9, dict(split)


def time_steps(model, loss_fn, x, y, batch, precision, device, steps, warmup, compiled: bool = False) -> float:
    "Median seconds per optimiser step (of `torch.compile(model)` if `compiled`: the warm-up steps include compiling)."
    cfg = TrainConfig(precision=precision, device=str(device))
    opt, g = make_optimizer(model, cfg, device), torch.Generator(device=device).manual_seed(0)
    model.to(device).train(); times = []
    if compiled: torch._dynamo.reset(); model = torch.compile(model)
    for i in range(warmup + steps):
        idx = torch.randint(0, len(x), (min(batch, len(x)),), generator=g, device=device)
        t0 = time.perf_counter()
        train_step(model, loss_fn, opt, x[idx], y[idx], g, cfg, device)
        if device.type == "cuda": torch.cuda.synchronize()
        if i >= warmup: times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    "Everything runs with freed memory kept, as `fit` trains (`tsssl.core.freed_memory_kept`)."
    with freed_memory_kept(): _main()


def _main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="auto")
    p.add_argument("--what", nargs="+", default=["stage1", "stage2", "generate", "fcn"],
                   help="stage1 (tokenizers), stage2 (prior), generate, fcn (the FID evaluator's and CAS classifier's training step)")
    p.add_argument("--data", nargs="+", default=["fordA", "GunPoint"])
    p.add_argument("--precision", nargs="+", choices=["fp32", "bf16"],
                   help="default: fp32, and bf16 where the device runs it natively (AMX or AVX512-BF16, CUDA); elsewhere bf16 is emulated, "
                        "several times slower than fp32 and never chosen by precision='auto', so it is timed only when asked for")
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--rounds", type=int, default=3, help="eager steps are timed in this many rounds, each between two readings of the "
                                                          "kernel rate; a row gives the medians (a shared host's speed changes within seconds)")
    p.add_argument("--threads", type=int, default=0, help="torch threads on the CPU (0 = torch's default)")
    p.add_argument("--n-generate", type=int, default=1000)
    p.add_argument("--profile", action="store_true", help="also print where each step's time goes, per kind of op")
    p.add_argument("--compile", action="store_true", help="also time each training step under torch.compile (TrainConfig.compile)")
    a = p.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    device = resolve_device(a.device); seed_everything(0)
    threads = "" if device.type == "cuda" else f", {torch.get_num_threads()} threads"
    print(f"device {device}: {device_name(device)}{threads}, torch {torch.__version__}")
    if a.precision is None:
        a.precision = ["fp32", "bf16"] if bf16_native(device) else ["fp32"]
        if not bf16_native(device): print("bf16: not native on this device (no AMX or AVX512-BF16), so not timed; --precision fp32 bf16 times it anyway")
    start = {prec: start_rates(device, prec) for prec in a.precision}
    rates, train_rates = {p: r[0] for p, r in start.items()}, {p: r[1] for p, r in start.items()}
    for prec, r in rates.items():
        via = (f" (oneDNN: {r['matmul_onednn']:.0f}; tsssl's Linear takes {linear_kernels()} here, as measured by tsssl.linear)"
               if "matmul_onednn" in r else "")
        print(f"{prec} GFLOP/s of this device: matmul 256x4096 @ 4096x4096 BLAS {r['matmul']:.0f}{via}; conv 64->64 (3,4) stride (1,2) on 128x64x7x127 {r['conv']:.0f}; "
              f"conv1d 128->256 k5 on 256x128x144 {r['conv1d']:.0f}")
        t = train_rates[prec]
        print(f"{prec} GFLOP/s of the same probes as training runs them (forward, then input and weight gradients): matmul {t['matmul']:.0f}, "
              f"conv {t['conv']:.0f}, conv1d {t['conv1d']:.0f}")
    malloc = {k: os.environ[k] for k in ("MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_") if k in os.environ}
    print(f"glibc malloc: {f'as the environment sets it, {malloc}' if malloc else 'freed memory kept, as fit trains (tsssl.core.freed_memory_kept)'}")
    if device.type == "cpu":
        print(f"BatchNorm + activation: {'tsssl.fused kernels' if fused_norm_enabled() else 'PyTorch kernels'} (tsssl.fused; TSSSL_FUSED_NORM=0 turns the fused ones off)")
    rows, shares, spread, seen = [], {}, {}, collections.defaultdict(list)  # seen: every kernel rate measured around a step, per (precision, kind)
    compiled = [False, True] if a.compile else [False]

    def rate_around(prec, kind, fn):
        "fn()'s result and the device's `kind` rate as it ran: the mean of that rate measured just before and just after it."
        before = kernel_rates(device, prec, (kind,))[kind]
        out = fn()
        after = kernel_rates(device, prec, (kind,))[kind]
        seen[(prec, kind)] += [before, after]
        return out, (before + after) / 2

    def measure(key, data, prec, model, loss_fn, x, y, batch, kind):
        "One row per variant (eager, compiled): ms per step, series/s, GFLOP and the share of the `kind` rate measured around the step."
        gf, split = step_gflop(model, loss_fn, x, y, batch, prec, device)
        conv_kind = "conv1d" if kind == "conv1d" else "conv"
        # the step's FLOPs at the training probes' rates, conv FLOPs at the conv rate of its kind and the rest at the matmul rate
        ideal_s = split.get("conv", 0) / train_rates[prec][conv_kind] + split.get("matmul", 0) / train_rates[prec]["matmul"]
        eager_s = None
        for c in compiled:
            rounds = [rate_around(prec, kind, lambda: time_steps(model, loss_fn, x, y, batch, prec, device, a.steps, a.warmup, compiled=c))
                      for _ in range(1 if c else max(1, a.rounds))]  # a compiled round compiles again: one round
            # per round: the share of the rate read around it, and of the training rates scaled by the host's drift it read
            of_kernel = [gf / s / r for s, r in rounds]
            of_train = [ideal_s / (r / rates[prec][kind]) / s for s, r in rounds]
            s, r = statistics.median(s for s, _ in rounds), statistics.median(r for _, r in rounds)
            if not c: eager_s, rate = s, r  # the eager step: what the profile below splits up
            name = key + (" compiled" if c else "")
            spread[(name, data, prec)] = (min(of_train), max(of_train), len(rounds))
            rows.append((name, data, prec, n_params(model), s * 1e3, min(batch, len(x)) / s, gf,
                         statistics.median(of_kernel), statistics.median(of_train), "" if c else REFERENCE.get((key, data), "")))
        if a.profile:
            sh = op_shares(model, loss_fn, x, y, batch, prec, device)
            # the replay runs later than the step's timing: its share is against the rate measured around the replay itself
            (ks, kgf, slowest), replay_rate = rate_around(prec, kind, lambda: kernels_alone(model, loss_fn, x, y, batch, prec, device, rate))
            worst = "; ".join(f"{name} ×{n} on {' and '.join('×'.join(map(str, sh_)) for sh_ in shapes)} at {r:.0f} GFLOP/s "
                              f"({ms:.1f} ms)" for ms, n, name, shapes, r in slowest if ms > 0)
            at_step = ks * replay_rate / rate  # the replay's time had the host run as fast as during the step's timing
            shares[(key, data, prec)] = (sh, f"\n    kernels alone (replayed at the step's shapes): {ks * 1e3:.1f} ms, {kgf / ks / replay_rate:.2f} "
                                             f"of the kernel rate measured around the replay; at the step's own kernel rate {at_step * 1e3:.1f} ms, "
                                             f"so the other {(eager_s - at_step) * 1e3:.0f} ms ({1 - at_step / eager_s:.0%} of the step) "
                                             f"is norms, activations, copies and the optimiser"
                                             + (f"\n    slowest kernels against the rate (time lost per step): {worst}" if worst else ""))

    for data in a.data:
        x, y = workload(data, device); length = x.shape[-1]
        for prec in a.precision:
            if "stage1" in a.what:
                for method in (PLAIN, "barlowtwins"):
                    torch.manual_seed(0)
                    tok = VQVAE(VQVAEConfig(length=length))
                    model = NCVQVAE(tok, SSLConfig(method=method), AugmentConfig()) if method != PLAIN else tok
                    measure(f"stage1-{method}", data, prec, model, stage1_loss, x, y, 128, "conv")
            if "fcn" in a.what:  # the FID/IS evaluator and the CAS classifier train this step, 256 series at a time
                torch.manual_seed(0)
                reps = -(-1000 // len(x))  # the CAS classifier trains on at least 1000 series: full batches of 256 even on GunPoint
                measure("fcn", data, prec, FCN(x.shape[1], int(y.max()) + 1), fcn_loss, x.repeat(reps, 1, 1), y.repeat(reps), 256, "conv1d")
            if "stage2" in a.what or "generate" in a.what:
                torch.manual_seed(0)
                prior = MaskGIT(VQVAE(VQVAEConfig(length=length)).to(device), 2, MaskGITConfig()).to(device)
                if "stage2" in a.what:
                    z = prior.latents(x)  # as train_stage2: the frozen encoder runs once, the steps draw targets from z
                    measure("stage2-token", data, prec, prior, prior_loss, z, y % 2, 256, "matmul")
                if "generate" in a.what and prec == a.precision[0]:
                    g = torch.Generator(device=device).manual_seed(0)
                    prior.sample(16, generator=g)  # warm-up
                    if device.type == "cuda": torch.cuda.synchronize()
                    t0 = time.perf_counter(); prior.sample(a.n_generate, generator=g)
                    if device.type == "cuda": torch.cuda.synchronize()
                    s = time.perf_counter() - t0
                    rows.append((f"generate-{a.n_generate}", data, "fp32", n_params(prior), s * 1e3, a.n_generate / s, None, None, None,
                                 REFERENCE.get((f"generate-{a.n_generate}", data), "")))
    print(f"\n{'what':<29}{'data':<10}{'prec':<6}{'params':>11}{'ms/step':>11}{'series/s':>11}{'GFLOP':>8}{'GFLOP/s':>9}{'of kernel':>10}{'of train':>10}"
          "   reference ms")
    for r in rows:
        flops = f"{r[6]:>8.1f}{r[6] / r[4] * 1e3:>9.0f}{r[7]:>10.2f}{r[8]:>10.2f}" if r[6] is not None else f"{'':>8}{'':>9}{'':>10}{'':>10}"
        print(f"{r[0]:<29}{r[1]:<10}{r[2]:<6}{r[3]:>11,}{r[4]:>11.1f}{r[5]:>11.0f}{flops}   {r[9]}")
    print("\nof kernel: the step's GFLOP/s over this device's kernel rate in the same precision (stage 1: conv; fcn: conv1d; stage 2: matmul), "
          "that rate measured just before and just after the step's own timing (their mean), as a shared host's speed drifts; "
          "each eager row is the median of its rounds")
    print("of train: the time the step's FLOPs take at the training probes' rates (its convolutions' FLOPs at the conv rate, the rest at the "
          "matmul rate, each probe run forward and backward as training runs it) over the step's time; the probes' rates are "
          "scaled by the host's drift during the step, read from the forward probe around it")
    for (prec, kind), r in seen.items():
        print(f"{prec} {kind} rate around the steps: {min(r):.0f}-{max(r):.0f} GFLOP/s (at the start {rates[prec][kind]:.0f}, the median of three readings)")
    timed = [r for r in rows if r[7] is not None]
    for col, name in ((7, "of kernel"), (8, "of train")):
        below = [f"{r[0]} {r[1]} {r[2]} ({r[col]:.2f})" for r in timed if r[col] < 0.75]
        print(f"steps at 0.75 or more {name}: {len(timed) - len(below)} of {len(timed)}" + (f"; below: {', '.join(below)}" if below else ""))
    print("of train, lowest and highest of the rounds: " + "; ".join(f"{k[0]} {k[1]} {k[2]} {lo:.2f}-{hi:.2f} ({n})" for k, (lo, hi, n) in spread.items()))
    for (key, data, prec), (sh, conv) in shares.items():
        print(f"{key} {data} {prec}: " + ", ".join(f"{k} {v:.0%}" for k, v in sh.items()) + conv)


if __name__ == "__main__":
    main()
