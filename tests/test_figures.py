"The figures notebook turns a results store into tables, figures and captions, without training."
import json
import numpy as np
import pandas as pd
import papermill as pm
import pytest
from pathlib import Path

from tsssl.report import FiguresParams

from tsssl.runs import execute_notebook, finish_run, start_run
from tsssl.sweep import _record_spec, as_sweep, sweep_run_ids

ROOT = Path(__file__).resolve().parents[1]
WARP, SLICE = ["window_warp", "amplitude_resize"], ["slice_and_shuffle"]


def _run(root: Path, sweep: str, stage: str, name: str, metrics: dict, config: dict | None = None):
    d = root / sweep / stage / name
    start_run(d, {"name": name, **(config or {})})
    (d / "sweep.json").write_text(json.dumps({"sweep": sweep, "description": f"fake {sweep}"}))
    finish_run(d, metrics)


def test_figures_notebook_on_a_fake_store(tmp_path):
    root = tmp_path / "sweeps"
    for seed in (1, 2):
        for ssl, aug in (("", WARP), ("barlowtwins", WARP), ("vibcreg", SLICE)):
            common = {"dataset": "GunPoint", "ssl_method": ssl, "augmentations": aug, "seed": seed}
            _run(root, "main", "stage1", f"{ssl or 'vqvae'}-{seed}",
                 {**common, "svm_accuracy": 0.7 + 0.1 * bool(ssl), "knn_accuracy": 0.6, "recon_mse_time": 0.02, "perplexity": 12.0,
                  "aug_recon_weight": 0.1, "training_time_s": 10.0, "n_params": 1000})
            _run(root, "main", "stage2", f"{ssl or 'vqvae'}-{seed}",
                 {**common, "fid": 5.0 - bool(ssl), "is_mean": 1.5, "cas_accuracy": 0.8, "cas_fcn_epochs": 25, "real_fcn_accuracy": 0.95,
                  "prior_val_loss": 1.0, "training_time_s": 5.0},
                 {"cas_fcn_epochs": None, "fcn": {"epochs": 25}})  # the config leaves the CAS epochs to fcn.epochs; metrics say what ran
            for w in (0.0, 0.5):
                if ssl: _run(root, "abl", "stage1", f"{ssl}-{w}-{seed}", {**common, "aug_recon_weight": w, "svm_accuracy": 0.7,
                                                                         "knn_accuracy": 0.6 + w / 10, "recon_mse_time": 0.02})
    out = tmp_path / "figs"
    execute_notebook(ROOT / "nbs/experiments/figures.ipynb", tmp_path / "figures.ipynb",
                     {"sweeps_root": str(root), "main_sweeps": ["main", "main"], "aug_recon_sweep": "abl", "robustness_sweep": "main",
                      "out_dir": str(out), "label": "test"}, cwd=tmp_path)
    made = {p.name for p in out.iterdir()}
    shown = [o for c in json.loads((tmp_path / "figures.ipynb").read_text())["cells"] for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(shown) == sum(n.endswith(".png") for n in made), (len(shown), made)  # each figure written is also shown in the notebook
    assert {"main_table_stage1.csv", "main_table_stage2.md", "probe_svm.png", "fid.png", "aug_recon_weight.png",
            "aug_robustness_svm_accuracy.png", "aug_robustness_fid.png", "aug_robustness.csv", "CAPTIONS.md", "cas_25ep.png",
            "aug_robustness_cas_accuracy_25ep.png"} <= made, made
    assert "cas.png" not in made and "cas_accuracy_25ep" in (out / "main_table_stage2.md").read_text()  # a 25-epoch CAS is never called CAS
    captions = (out / "CAPTIONS.md").read_text()
    assert "fake main" in captions and "fake abl" in captions
    assert "0.800 ± 0.000" in (out / "main_table_stage1.md").read_text()
    assert set(pd.read_csv(out / "main_table_stage1.csv")["n"]) == {2}  # a sweep named twice still counts each run once


def test_runs_of_an_earlier_version_of_a_sweep_are_left_out(tmp_path):
    "A sweep file changed between two sittings (epochs 2, then 3, same seeds): the tables hold the runs it has now; a warning names the others."
    root = tmp_path / "sweeps"
    spec = lambda epochs: as_sweep({"name": "main", "root": str(root / "main"), "base_dir": str(tmp_path), "stages": [
        {"name": "stage1", "notebook": "stage1.ipynb", "params": {"dataset": "GunPoint", "epochs": epochs}, "axes": {"seed": [1, 2]}}]})
    for epochs, acc in ((2, 0.5), (3, 0.9)):
        _record_spec(root / "main", spec(epochs))  # what tsssl sweep records when it runs the file
        for seed, rid in zip((1, 2), sweep_run_ids(spec(epochs))["stage1"]):
            _run(root, "main", "stage1", rid, {"dataset": "GunPoint", "ssl_method": "vqvae", "augmentations": WARP, "seed": seed,
                                               "epochs": epochs, "svm_accuracy": acc, "knn_accuracy": acc})
    out = tmp_path / "figs"
    executed = execute_notebook(ROOT / "nbs/experiments/figures.ipynb", tmp_path / "figures.ipynb",
                                {"sweeps_root": str(root), "main_sweeps": "main", "out_dir": str(out)}, cwd=tmp_path)
    table = pd.read_csv(out / "main_table_stage1.csv")
    assert table["n"].tolist() == [2] and table["svm_accuracy"].tolist() == ["0.900 ± 0.000"], table
    stderr = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", []) if o.get("name") == "stderr")
    assert "2 run(s) of an earlier version of sweep(s) main are left out" in stderr, stderr


def test_parameter_cell_matches_figures_params():
    "The notebook's parameters cell and FiguresParams agree on names and defaults (`tsssl figures` reads its defaults there)."
    found = {k: eval(v["default"]) for k, v in pm.inspect_notebook(str(ROOT / "nbs/experiments/figures.ipynb")).items()}
    assert FiguresParams.from_dict(found) == FiguresParams() and set(found) == set(FiguresParams().to_dict())


def test_nothing_to_draw_changes_nothing_and_a_partial_sitting_keeps_captions(tmp_path):
    "No finished run anywhere: an error naming the sweeps, the old CAPTIONS.md as it was; a sitting with one sweep keeps the others' captions."
    out, root = tmp_path / "figs", tmp_path / "sweeps"
    out.mkdir(); (root / "main" / "stage1").mkdir(parents=True)
    (out / "old.png").write_bytes(b"png")
    (out / "CAPTIONS.md").write_text("# Captions\n\n## Sweeps\n\n- **earlier**: an earlier sweep\n\n## Files\n\n"
                                     "- `old.png`: drawn earlier. Sweep: earlier.\n")
    before = (out / "CAPTIONS.md").read_text()
    nb, params = ROOT / "nbs/experiments/figures.ipynb", {"sweeps_root": str(root), "main_sweeps": "main", "out_dir": str(out)}
    with pytest.raises(pm.PapermillExecutionError, match=r"nothing to draw: .*main \(no finished run\)"):
        execute_notebook(nb, tmp_path / "f1.ipynb", params, cwd=tmp_path)
    assert (out / "CAPTIONS.md").read_text() == before
    from tsssl.cli import main
    with pytest.raises(SystemExit) as e:  # the command: one line before the notebook runs, so out_dir/figures.ipynb is not written
        main(["figures", "--sweeps-root", str(root), "--main-sweeps", "main", "--out-dir", str(out)])
    assert e.value.code == 2 and not (out / "figures.ipynb").exists()
    with pytest.raises(pm.PapermillExecutionError, match=r"unknown key\(s\) \['main_sweep'\]"):
        execute_notebook(nb, tmp_path / "f2.ipynb", {**params, "main_sweep": "main"}, cwd=tmp_path)
    _run(root, "main", "stage1", "vqvae-1", {"dataset": "GunPoint", "ssl_method": "vqvae", "augmentations": WARP, "seed": 1,
                                             "svm_accuracy": 0.7, "knn_accuracy": 0.6})
    execute_notebook(nb, tmp_path / "f3.ipynb", {**params, "precision_sweep": None}, cwd=tmp_path)  # -p precision_sweep None: skipped
    captions = (out / "CAPTIONS.md").read_text()
    assert "- `old.png`: drawn earlier. Sweep: earlier." in captions and "- **earlier**: an earlier sweep" in captions, captions
    assert "- `probe_svm.png`:" in captions and "fake main" in captions, captions


def test_figures_of_runs_on_a_file_of_ones_own(tmp_path, monkeypatch):
    "Stage-1 runs on a labelled CSV, started from another folder with a relative path: the codebook figure reads each run's data as it did."
    from tsssl.stage1 import Stage1Params, train_stage1
    rng = np.random.default_rng(0)
    data_home = tmp_path / "mydata"; data_home.mkdir()
    y = np.repeat([1, 2], 20)
    x = np.sin(np.linspace(0, 6, 64))[None] * y[:, None] + 0.1 * rng.standard_normal((40, 64))
    pd.DataFrame(np.column_stack([y, x])).to_csv(data_home / "mine.csv", header=False, index=False)
    monkeypatch.chdir(data_home)  # the runs record "mine.csv", relative to where they started
    for ssl in ("vqvae", "vibcreg"):
        p = Stage1Params(dataset="mine.csv", label_column=0, ssl_method=ssl, epochs=1, batch_size=16, device="cpu", progress=False,
                         codebook_size=8, draw_figures=False)
        d = tmp_path / "sweeps" / "mine" / "stage1" / ssl
        train_stage1(p.to_config(), d)
        (d / "sweep.json").write_text(json.dumps({"description": "my own series"}))
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "figs"
    execute_notebook(ROOT / "nbs/experiments/figures.ipynb", tmp_path / "figures.ipynb",
                     {"sweeps_root": "sweeps", "main_sweeps": "mine", "out_dir": str(out)}, cwd=tmp_path)
    assert (out / "codebooks_mine.png").is_file() and "`codebooks_mine.png`: mine.csv, seed 0" in (out / "CAPTIONS.md").read_text()


def test_thesis_comparison_from_sweeps_then_from_records_alone(tmp_path, capsys):
    root, out = tmp_path / "sweeps", tmp_path / "figs"
    for seed in (1, 2):
        for ssl, aug in (("vqvae", WARP), ("barlowtwins", SLICE)):  # the first test stores "", the plain VQ-VAE of older runs
            _run(root, "thesis_ecg5000", "stage1", f"{ssl}-{seed}",
                 {"dataset": "ECG5000", "ssl_method": ssl, "augmentations": aug, "seed": seed, "svm_accuracy": 0.9 + 0.01 * seed,
                  "knn_accuracy": 0.9, "svm_accuracy_trainmode": 0.85, "knn_accuracy_trainmode": 0.8, "perplexity": 15.0})
    params = {"sweeps_root": str(root), "main_sweeps": [], "aug_recon_sweep": "none", "robustness_sweep": "none",
              "thesis_sweeps": ["thesis_ecg5000"], "out_dir": str(out), "label": "test"}
    execute_notebook(ROOT / "nbs/experiments/figures.ipynb", tmp_path / "figures.ipynb", params, cwd=tmp_path)
    assert {"thesis_comparison.csv", "thesis_comparison.md", "thesis_comparison.png", "thesis_runs.csv"} <= {p.name for p in out.iterdir()}
    table = (out / "thesis_comparison.md").read_text()
    assert "0.828 ± 0.019 (4)" in table and "0.915 ± 0.007 (2)" in table, table  # the thesis' ECG5000 regular SVM beside ours
    assert "SVM, thesis protocol" in table and "fake thesis_ecg5000" in (out / "CAPTIONS.md").read_text()
    first = (out / "thesis_comparison.csv").read_text()
    # the run directories are gone (another sitting): the records alone redraw the same table
    import shutil
    shutil.rmtree(root / "thesis_ecg5000")
    execute_notebook(ROOT / "nbs/experiments/figures.ipynb", tmp_path / "figures2.ipynb", params, cwd=tmp_path)
    assert (out / "thesis_comparison.csv").read_text() == first
    # a directory that holds another run under a recorded id replaces its results, and `tsssl figures` says so on stderr
    _run(root, "thesis_ecg5000", "stage1", "vqvae-1",
         {"dataset": "ECG5000", "ssl_method": "vqvae", "augmentations": WARP, "seed": 1, "svm_accuracy": 0.5, "knn_accuracy": 0.9,
          "svm_accuracy_trainmode": 0.85, "knn_accuracy_trainmode": 0.8, "perplexity": 15.0})
    from tsssl.cli import main
    main(["figures", "--sweeps-root", str(root), "--main-sweeps", "--aug-recon-sweep", "none", "--robustness-sweep", "none",
          "--thesis-sweeps", "thesis_ecg5000", "--out-dir", str(out), "--label", "test"])
    err = capsys.readouterr().err
    assert "1 recorded run(s)" in err and "vqvae-1" in err and "svm_accuracy" in err and "knn_accuracy " not in err, err
    rows = pd.read_csv(out / "thesis_runs.csv").set_index("run_id")
    assert rows.loc["vqvae-1", "svm_accuracy"] == 0.5 and len(rows) == 4


def test_committed_tokenizers_are_the_recorded_runs(tmp_path):
    "Each tokenizer in figures/thesis/tokenizers imports into a finished run whose metrics are its row in thesis_runs.csv."
    import pandas as pd
    import pytest
    from tsssl.stage1 import import_tokenizer, load_stage1
    files = sorted((ROOT / "figures" / "thesis" / "tokenizers").glob("*/*.pt"))
    assert files, "no committed tokenizer in figures/thesis/tokenizers"
    records = pd.read_csv(ROOT / "figures" / "thesis" / "thesis_runs.csv", float_precision="round_trip")
    for f in files:
        run = import_tokenizer(f, tmp_path / f.parent.name / f.stem)  # the layout `make reproduction` imports into
        metrics = json.loads((run / "metrics.json").read_text())
        row = records[(records["sweep"] == f.parent.name) & (records["run_id"] == f.stem)]
        assert len(row) == 1, f"{f} has no row in figures/thesis/thesis_runs.csv"
        for col in ("svm_accuracy", "knn_accuracy", "svm_accuracy_trainmode", "perplexity"):
            assert row[col].iloc[0] == pytest.approx(metrics[col], rel=1e-12), (f.name, col)
        tok, cfg = load_stage1(run)
        assert cfg.dataset == row["dataset"].iloc[0] and sum(p.numel() for p in tok.parameters()) > 0
