"""The label-free generation metrics (tsssl.labelfree) of trained priors, beside reference points that say what the numbers mean.

For GunPoint with its labels dropped (the official split, saved as an unlabelled .npz) and BasicMotions (6 channels,
labelled): a plain VQ-VAE and an NC-VQVAE (VIbCReg + warp) tokenizer, each with a MaskGIT prior, against three reference
"generators": the real train split (real vs real), Gaussian noise, and the real test series with their time steps
shuffled. Also times each metric with the default recipe. Runs go to runs/label_free/ (resumable: finished runs are
read back). Prints a markdown table. About an hour on 2 free CPU cores with the defaults below.

    python benchmarks/label_free_reference.py [--stage1-epochs 500] [--stage2-epochs 500]
"""
import argparse, json, time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from tsssl.core import cpu_name
from tsssl.data import load_ucr
from tsssl.fcn import FCNConfig
from tsssl.labelfree import LabelFreeConfig, context_encoder_for, context_fid, discriminative_score, predictive_score
from tsssl.report import cas_column
from tsssl.runs import RunDir, run_status
from tsssl.ssl import SSLConfig
from tsssl.stage1 import Stage1Config, train_stage1
from tsssl.stage2 import Stage2Config, train_stage2
from tsssl.train import TrainConfig

ROOT = Path("runs/label_free")
METRICS = ("discriminative_score", "predictive_score", "context_fid")


def datasets() -> dict[str, str]:
    "Dataset name -> the `dataset` string of a stage-1 config (GunPoint without its labels as an .npz file)."
    ROOT.mkdir(parents=True, exist_ok=True)
    gp = load_ucr("GunPoint"); path = ROOT / "GunPoint_no_labels.npz"
    np.savez(path, x=gp.to_original_scale(gp.x_train), x_test=gp.to_original_scale(gp.x_test))  # no y: unlabelled
    return {"GunPoint (labels dropped)": str(path), "BasicMotions": "BasicMotions"}


def references(x_train: torch.Tensor, x_test: torch.Tensor, cfg: LabelFreeConfig) -> list[dict]:
    "Each metric, timed, for three reference generators against the real test split."
    g = torch.Generator().manual_seed(0)
    noise = torch.randn(x_test.shape, generator=g)
    shuffled = x_test[:, :, torch.randperm(x_test.shape[-1], generator=g)]
    t0 = time.perf_counter(); enc = context_encoder_for(x_train, cfg, cache_dir=ROOT / "cache"); t_enc = time.perf_counter() - t0
    rows = []
    for name, x_gen in (("real train split (real vs real)", x_train), ("Gaussian noise", noise), ("test series, time shuffled", shuffled)):
        row, times = {"generator": name}, {}
        for key, fn in (("discriminative_score", lambda: discriminative_score(x_test, x_gen, cfg)),
                        ("predictive_score", lambda: predictive_score(x_test, x_gen, cfg)),
                        ("context_fid", lambda: context_fid(enc, x_test, x_gen))):
            t0 = time.perf_counter(); row[key] = fn(); times[key] = time.perf_counter() - t0
        rows.append({**row, **{f"{k}_s": v for k, v in times.items()}, "encoder_training_s": t_enc})
    return rows


def run_pair(name: str, dataset: str, method: str, a: argparse.Namespace) -> dict:
    "Train (or read back) a stage-1 run and a prior on it; the stage-2 metrics."
    tag = f"{name.split()[0]}-{method or 'vqvae'}"
    s1_dir, s2_dir = ROOT / "stage1" / tag, ROOT / "stage2" / tag
    train = TrainConfig(epochs=a.stage1_epochs, batch_size=128, device="cpu", progress=False)
    if run_status(s1_dir) != "finished":
        ssl = SSLConfig(method=method) if method else SSLConfig()
        train_stage1(Stage1Config(dataset=dataset, ssl=ssl, train=train), s1_dir)
    if run_status(s2_dir) != "finished":
        cfg = Stage2Config(stage1_dir=str(s1_dir), train=TrainConfig(epochs=a.stage2_epochs, batch_size=256, device="cpu", progress=False),
                           fcn=FCNConfig(epochs=a.fcn_epochs), cas_fcn_epochs=a.cas_fcn_epochs,
                           fcn_cache_dir=str(ROOT / "cache"), label_free_cache_dir=str(ROOT / "cache"))
        train_stage2(cfg, s2_dir)
    m = json.loads(RunDir(s2_dir).metrics.read_text())
    keep = {k: m[k] for k in (*METRICS, "label_free_time_s", "fid", "is_mean", "real_fcn_accuracy") if k in m}
    if "cas_accuracy" in m: keep[cas_column(m["cas_fcn_epochs"])] = m["cas_accuracy"]  # a shortened CAS says so
    return {"generator": f"prior on {'NC-VQVAE (vibcreg, warp)' if method else 'VQ-VAE'}", **keep}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--stage1-epochs", type=int, default=500)
    p.add_argument("--stage2-epochs", type=int, default=500)
    p.add_argument("--fcn-epochs", type=int, default=1000, help="evaluator epochs for FID/IS (labelled data only)")
    p.add_argument("--cas-fcn-epochs", type=int, default=100, help="CAS classifier epochs (the thesis: 1000; reported as cas_accuracy_<E>ep)")
    a = p.parse_args()
    print(f"CPU: {cpu_name()}, torch {torch.__version__}, {torch.get_num_threads()} thread(s)")
    cfg, tables = LabelFreeConfig(), []
    for name, dataset in datasets().items():
        data = Stage1Config(dataset=dataset).load_data()
        xtr, xte = torch.as_tensor(data.x_train), torch.as_tensor(data.x_test)
        rows = references(xtr, xte, cfg) + [run_pair(name, dataset, m, a) for m in ("", "vibcreg")]
        df = pd.DataFrame(rows).assign(dataset=name)
        tables.append(df)
        print(f"\n{name}: {len(xtr)} train / {len(xte)} test series, {data.n_channels} channel(s) x {data.length} steps\n")
        print(df.drop(columns="dataset").to_markdown(index=False, floatfmt=".3f"), flush=True)
    pd.concat(tables).to_csv(ROOT / "label_free_reference.csv", index=False)
    print(f"\nStage 1 and stage 2: {a.stage1_epochs} and {a.stage2_epochs} epochs; FID/IS evaluator {a.fcn_epochs} epochs; "
          f"references and priors scored against the real test split with tsssl.labelfree's default recipe.")


if __name__ == "__main__":
    main()
