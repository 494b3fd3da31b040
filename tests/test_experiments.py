"""The papermill experiment notebooks run end to end with tiny parameters, and reject bad ones.

Their defaults are quick CPU runs; here they get even smaller epochs so the suite stays fast.
"""
import json
from pathlib import Path

import nbformat

import papermill as pm
import pytest

from tsssl.runs import execute_notebook
from tsssl.stage1 import Stage1Params
from tsssl.stage2 import Stage2Params

ROOT = Path(__file__).resolve().parents[1]
EXP = ROOT / "nbs" / "experiments"


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TSSSL_CACHE_DIR", str(tmp_path / "cache"))  # the FCN evaluator cache, per test


def _run(nb: str, tmp_path: Path, **params) -> Path:
    out = tmp_path / f"executed-{nb}"
    execute_notebook(EXP / nb, out, params, cwd=tmp_path, log_output=False)
    return out


@pytest.mark.parametrize("nb,cls", [("stage1.ipynb", Stage1Params), ("stage2.ipynb", Stage2Params)])
def test_parameter_cell_matches_typed_params(nb, cls):
    "The notebook's parameters cell and its typed config agree on names and defaults."
    found = {k: v["default"] for k, v in pm.inspect_notebook(str(EXP / nb)).items()}
    expected = cls().to_dict()
    assert set(found) == set(expected), set(found) ^ set(expected)
    for k, v in expected.items():
        assert eval(found[k]) == v, (k, found[k], v)


def test_stage1_then_stage2_notebooks(tmp_path):
    s1 = tmp_path / "runs" / "s1"
    _run("stage1.ipynb", tmp_path, epochs=2, batch_size=64, device="cpu", out_dir=str(s1), progress=False)
    m1 = json.loads((s1 / "metrics.json").read_text())
    for key in ("dataset", "ssl_method", "seed", "epochs", "recon_mse_time", "recon_mse_timefreq", "knn_accuracy",
                "svm_accuracy", "knn_accuracy_z", "svm_accuracy_z", "perplexity", "codebook_usage",
                "mean_abs_corr_off_diagonal", "mean_abs_cos_sim_off_diagonal", "training_time_s", "eval_time_s", "n_params"):
        assert key in m1, key
    assert {"reconstructions.png", "token_usage.png", "codebook_similarity.png", "latent_embedding.png"} <= {p.name for p in s1.iterdir()}
    s2 = tmp_path / "runs" / "s2"
    executed = _run("stage2.ipynb", tmp_path, stage1_dir=str(s1), epochs=2, fcn_epochs=2, device="cpu", out_dir=str(s2), progress=False)
    outputs = [o for c in nbformat.read(executed, as_version=4).cells for o in c.get("outputs", [])]
    assert sum("image/png" in o.get("data", {}) for o in outputs) == 4  # the report shows the run's four figures, not their reprs
    assert any("cas_accuracy_2ep" in o.get("data", {}).get("text/plain", "") for o in outputs)  # a 2-epoch CAS is not shown as CAS
    m2 = json.loads((s2 / "metrics.json").read_text())
    for key in ("dataset", "ssl_method", "prior", "seed", "fid", "is_mean", "is_std", "cas_accuracy", "real_fcn_accuracy",
                "prior_val_loss", "training_time_s", "n_params", "n_generated"):
        assert key in m2, key
    assert (s2 / "real_vs_generated.png").is_file()
    # a finished run is never overwritten silently
    with pytest.raises(pm.PapermillExecutionError, match="already holds a finished run"):
        _run("stage1.ipynb", tmp_path, epochs=2, device="cpu", out_dir=str(s1), progress=False)


def test_unknown_or_mistyped_parameter_fails(tmp_path):
    with pytest.raises(pm.PapermillExecutionError, match=r"unknown key\(s\) \['epoch'\]"):
        _run("stage1.ipynb", tmp_path, epoch=3)
    with pytest.raises(pm.PapermillExecutionError, match="Stage1Params.epochs: expected int"):
        _run("stage1.ipynb", tmp_path, epochs="many")


def test_unknown_dataset_names_it(tmp_path):
    with pytest.raises(pm.PapermillExecutionError, match="NoSuchSet"):
        _run("stage1.ipynb", tmp_path, dataset="NoSuchSet", data_dir=str(tmp_path), device="cpu")
