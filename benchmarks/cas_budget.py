"""How many epochs the CAS classifier needs: the CAS of finished stage-2 runs, retrained at several lengths.

CAS trains a fresh FCN on a prior's class-conditional synthetic series and scores it on the real test set. The thesis
trains that classifier for 1000 epochs over at least 1000 series, the largest part of a stage-2 evaluation on a CPU
(README, "What a stage-2 evaluation costs"). This script retrains it on a finished run's own synthetic set (kept in the
run's `cas_checkpoint.pt`) with the run's recipe, for every length E in `--epochs` (the cosine schedule spans E epochs,
as in a run with `cas_fcn_epochs=E`) and every classifier seed in `--seeds`, and prints each classifier's final test
accuracy: the CAS that run would have reported. For the longest E it also records the test accuracy every `--every`
epochs along the way, read only (it never stops training and touches no random state).

    .venv/bin/python benchmarks/cas_budget.py runs/main/stage2/vqvae runs/main/stage2/vibcreg --epochs 25 100 1000 --seeds 0 1 2

Each finished classifier is appended to `--out` (JSON lines) at once, and each one checkpoints as it trains (in a
folder named after `--out`), so a killed study resumes where it stopped;
`--long-seeds` limits which seeds get the longest E (the costliest runs).
"""
import argparse, json, time
from pathlib import Path

import torch

from tsssl.core import cpu_name, read_json, resolve_device, seed_everything
from tsssl.data import to_device
from tsssl.fcn import FCN, fcn_accuracy, fcn_loss
from tsssl.runs import RunDir, run_status
from tsssl.stage1 import Stage1Config
from tsssl.stage2 import Stage2Config
from tsssl.train import fit, load_checkpoint


def cas_setup(run_dir: Path, device: torch.device):
    "A finished stage-2 run's synthetic CAS set, the real test split on `device`, its CAS recipe and its description."
    rd = RunDir(run_dir)
    if run_status(run_dir) != "finished": raise SystemExit(f"{run_dir} is not a finished stage-2 run ({run_status(run_dir)})")
    if not rd.cas_checkpoint.is_file(): raise SystemExit(f"{run_dir} has no {rd.cas_checkpoint.name}: it was scored without CAS")
    cfg = Stage2Config.from_dict(read_json(rd.config))
    s1 = Stage1Config.from_dict(read_json(RunDir(cfg.stage1_dir).config))
    data = s1.load_data(); td = to_device(data, device)
    kept = load_checkpoint(rd.cas_checkpoint, map_location=device)["extra"]["cas_set"]
    metrics = read_json(rd.metrics)
    recipe = cfg.fcn.replace(precision=metrics.get("cas_precision", cfg.fcn.precision), device=str(device), progress=False)
    about = {"run": str(run_dir), "dataset": data.name, "ssl": s1.ssl.method,
             "run_cas": metrics.get("cas_accuracy"), "run_cas_epochs": metrics.get("cas_fcn_epochs")}
    return kept["x"].float(), kept["y"].long(), td, data.n_classes, recipe, about


def train_one(x, y, td, n_classes, recipe, epochs: int, seed: int, every: int | None, checkpoint: Path):
    "Final test accuracy of one CAS classifier of `epochs` epochs, the accuracies along the way, and its training seconds."
    cfg = recipe.replace(epochs=epochs, seed=seed, eval_every=every or 0)
    kept = {"curve": load_checkpoint(checkpoint)["extra"]["curve"] if checkpoint.is_file() else []}  # saved with each checkpoint
    curve = kept["curve"]
    def along(model):  # eval mode, no gradients, no random draws: training goes on exactly as without it
        curve.append(fcn_accuracy(model, td.x_test, td.y_test)); return {"accuracy": curve[-1]}
    seed_everything(seed)  # as train_fcn: the initial weights depend on the seed only
    model = FCN(x.shape[1], n_classes)
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    res = fit(model, fcn_loss, x, y, cfg, eval_fn=along if every else None, checkpoint_path=checkpoint, extra_state=kept)
    final = fcn_accuracy(model.eval(), td.x_test, td.y_test)
    return final, [(every * (i + 1) if i + 1 < len(curve) else epochs, a) for i, a in enumerate(curve)], res.training_time_s


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", type=Path, help="finished stage-2 run directories (scored with CAS)")
    p.add_argument("--epochs", nargs="+", type=int, default=[25, 100, 1000])
    p.add_argument("--seeds", nargs="+", type=int, default=[0])
    p.add_argument("--long-seeds", nargs="+", type=int, default=None, help="seeds for the longest E (default: --seeds)")
    p.add_argument("--every", type=int, default=25, help="epochs between the read-only test accuracies of the longest E")
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", type=Path, default=Path("runs/cas_budget.jsonl"))
    a = p.parse_args()
    device = resolve_device(a.device)
    done = {(r["run"], r["epochs"], r["seed"]) for r in map(json.loads, a.out.read_text().splitlines())} if a.out.is_file() else set()
    print(f"device {device}: {cpu_name() if device.type == 'cpu' else torch.cuda.get_device_name(device)}, {torch.get_num_threads()} threads")
    longest = max(a.epochs)
    for run in a.runs:
        x, y, td, k, recipe, about = cas_setup(run, device)
        print(f"{run}: {about['dataset']} {about['ssl']}, {len(y)} synthetic series; the run's own CAS "
              f"{about['run_cas']} after {about['run_cas_epochs']} epochs (seed {recipe.seed}, {recipe.precision})", flush=True)
        for epochs in sorted(a.epochs):
            for seed in (a.long_seeds or a.seeds) if epochs == longest else a.seeds:
                if (str(run), epochs, seed) in done: continue
                ckpt = a.out.with_suffix("") / f"{run.parent.name}_{run.name}_{epochs}ep_seed{seed}.pt"  # resumed if a study was killed
                acc, curve, secs = train_one(x, y, td, k, recipe, epochs, seed, a.every if epochs == longest else None, ckpt)
                row = about | {"epochs": epochs, "seed": seed, "cas": acc, "curve": curve, "training_time_s": secs, "cpu": cpu_name(),
                               "threads": torch.get_num_threads(), "precision": recipe.precision, "finished": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
                a.out.parent.mkdir(parents=True, exist_ok=True)
                with a.out.open("a") as f: f.write(json.dumps(row) + "\n")
                print(f"  {epochs:>5} epochs, seed {seed}: CAS {acc:.4f} ({secs / 60:.1f} min)", flush=True)


if __name__ == "__main__":
    main()
