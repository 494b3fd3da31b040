"""What a stage-2 evaluation costs on this machine, part by part, and what bf16 saves.

A stage-2 run's evaluation (`tsssl.stage2.evaluate_prior`) draws `n` unconditional series (n = the test-set size) and
a class-conditional CAS training set (at least 1000 series), scores FID and IS with the dataset's evaluation FCN
(trained once per dataset and recipe, then cached), and trains a fresh FCN, the CAS classifier, on the synthetic set.
This script times each part on a dataset's real shapes, with an untrained prior and tokenizer (the cost does not
depend on the weights):

- sampling the unconditional and the CAS series (`MaskGIT.sample`, fp32);
- FID and IS (FCN features and the Fréchet distance);
- the CAS classifier for `--epochs` epochs in each precision, and that time scaled to the thesis' 1000 epochs;
- the evaluator's one-off training on the real training split, for `--epochs` epochs and scaled the same way.

    .venv/bin/python benchmarks/stage2_eval.py --data GunPoint ECG5000 --epochs 20

Figures from two CPUs are never one ratio: compare rows printed by one run.
"""
import argparse, math, time

import torch

from tsssl.core import cpu_name, resolve_device, seed_everything
from tsssl.data import load_ucr, to_device
from tsssl.fcn import FCN, FCNConfig, train_fcn
from tsssl.gen_metrics import cas, cas_class_counts, generation_metrics
from tsssl.maskgit import MaskGIT, MaskGITConfig
from tsssl.vqvae import VQVAE, VQVAEConfig

THESIS_EPOCHS = 1000  # the thesis' evaluator and CAS classifier recipe


def timed(fn):
    "(result, seconds) of `fn()`."
    t0 = time.perf_counter(); out = fn(); return out, time.perf_counter() - t0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", nargs="+", default=["GunPoint", "ECG5000"])
    p.add_argument("--epochs", type=int, default=20, help="CAS classifier epochs actually run (scaled to 1000 in the table)")
    p.add_argument("--precision", nargs="+", default=["fp32", "bf16"])
    p.add_argument("--device", default="auto")
    a = p.parse_args()
    device = resolve_device(a.device); seed_everything(0)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_name()
    print(f"device {device}: {name}, {torch.get_num_threads()} threads, torch {torch.__version__}; CAS classifier run for {a.epochs} epochs, "
          f"scaled to {THESIS_EPOCHS}")
    print(f"\n{'data':<10}{'part':<46}{'prec':<6}{'seconds':>10}{'at 1000 epochs':>16}")
    for name in a.data:
        data = load_ucr(name); td = to_device(data, device)
        prior = MaskGIT(VQVAE(VQVAEConfig(length=data.x_train.shape[-1], in_channels=data.x_train.shape[1])).to(device),
                        data.n_classes, MaskGITConfig()).to(device).eval()
        g = torch.Generator(device=device).manual_seed(0)
        uncond, t_unc = timed(lambda: prior.sample(len(data.x_test), generator=g))
        counts = cas_class_counts(data.y_train, data.n_classes)
        y_syn = torch.repeat_interleave(torch.arange(data.n_classes, device=device), torch.as_tensor(counts, device=device))
        syn, t_syn = timed(lambda: prior.sample(len(y_syn), class_label=y_syn, generator=g))
        fcn = FCN(data.x_train.shape[1], data.n_classes).to(device).eval()
        _, t_fid = timed(lambda: generation_metrics(fcn, td.x_test, uncond.x.float(), data.n_classes))
        rows = [("sample unconditional (n = test set)", "fp32", t_unc, None), (f"sample CAS set ({len(y_syn)} series)", "fp32", t_syn, None),
                ("FID and IS", "fp32", t_fid, None)]
        cas_steps, eval_steps = (math.ceil(n / FCNConfig().batch_size) for n in (len(y_syn), len(data.x_train)))
        for prec in a.precision:
            cfg = FCNConfig(epochs=a.epochs, precision=prec, device=str(device), progress=False)
            _, t = timed(lambda: cas(syn.x.float(), y_syn, td.x_test, td.y_test, data.n_classes, cfg, device=device))
            rows.append((f"CAS classifier ({cas_steps} steps/epoch)", prec, t, t / a.epochs * THESIS_EPOCHS))
            _, t = timed(lambda: train_fcn(td.x_train, td.y_train, data.n_classes, cfg, device=device))
            rows.append((f"evaluator, once per dataset ({eval_steps} steps/epoch)", prec, t, t / a.epochs * THESIS_EPOCHS))
        for part, prec, t, t1000 in rows:
            print(f"{name:<10}{part:<46}{prec:<6}{'' if t is None else f'{t:.1f}':>10}{'' if t1000 is None else f'{t1000 / 60:.1f} min':>16}")


if __name__ == "__main__":
    main()
