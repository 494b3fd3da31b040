"Repository hygiene that CI enforces: notebooks and library in sync, notebooks clean."
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _snapshot(root: Path) -> dict:
    return {p.relative_to(root): p.read_bytes()
            for d in ("nbs", "tsssl") for p in sorted((root / d).rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts and ".ipynb_checkpoints" not in p.parts}


def _copy_sources(dst: Path, dirs=("nbs", "tsssl")) -> None:
    """Copy the files a clean clone has under `dirs`, not what tests or users leave there meanwhile.

    Other test workers run notebooks that write checkpoints under nbs/runs/ while this copies; a file
    that vanishes mid-copy failed CI once (stop 24). `git ls-files` lists tracked and new, not-ignored files.
    """
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", *dirs],
                            cwd=ROOT, capture_output=True, text=True)
    if listed.returncode == 0 and listed.stdout.strip():
        for rel in listed.stdout.splitlines():
            if (ROOT / rel).is_file():  # a tracked file deleted in the working tree is skipped
                (dst / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / rel, dst / rel)
        return
    skip = shutil.ignore_patterns("__pycache__", "_scratch", "*.egg-info", "runs", "wandb", ".ipynb_checkpoints")
    for name in dirs:  # not a git checkout (e.g. an unpacked sdist)
        shutil.copytree(ROOT / name, dst / name, ignore=skip)


def test_copy_sources_leaves_out_run_outputs(tmp_path):
    "The copy the two tests below build on has the notebooks and the package but no run directory."
    _copy_sources(tmp_path)
    assert (tmp_path / "nbs" / "index.ipynb").is_file() and (tmp_path / "tsssl" / "__init__.py").is_file()
    assert not list(tmp_path.rglob("runs")) and not list(tmp_path.rglob("__pycache__"))


def test_nbdev_export_and_clean_change_nothing(tmp_path):
    "A copy of the repo stays byte-identical under `nbdev_export` and `nbdev_clean`."
    _copy_sources(tmp_path)
    for name in ("settings.ini", "setup.py", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    before = _snapshot(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "IN_TEST"}  # nbdev_export silently does nothing when IN_TEST is set
    for cmd in ("nbdev_export", "nbdev_clean"):
        subprocess.run([str(BIN / cmd)], cwd=tmp_path, check=True, capture_output=True, env=env)
    after = _snapshot(tmp_path)
    changed = sorted(str(k) for k in set(before) | set(after) if before.get(k) != after.get(k))
    assert not changed, f"run `make sync` and commit: nbdev_export/nbdev_clean change {changed}"


def test_wheel_ships_the_experiment_notebooks(tmp_path):
    "A plain (non-editable) install finds the papermill notebooks in the package, so `tsssl figures` runs from it."
    src = tmp_path / "src"
    _copy_sources(src)
    for name in ("settings.ini", "setup.py", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", ".", "-w", str(tmp_path / "whl")],
                   cwd=src, check=True, capture_output=True)
    wheel = next((tmp_path / "whl").glob("tsssl-*.whl"))
    site = tmp_path / "site"
    shutil.unpack_archive(wheel, site, format="zip")
    for name in ("stage1", "stage2", "figures"):
        assert (site / "tsssl" / "experiments" / f"{name}.ipynb").read_bytes() == (ROOT / "nbs" / "experiments" / f"{name}.ipynb").read_bytes()
    code = ("import tsssl; from tsssl.cli import experiment_notebook, main; print(experiment_notebook('figures')); "
            "main(['figures', '--help'])")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(site)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0] == str(site / "tsssl" / "experiments" / "figures.ipynb") and "--thesis-sweeps" in out.stdout


def test_committed_sweep_files_name_only_parameters_their_notebooks_take():
    "Every run of every sweep in configs/sweeps/ passes its notebook's parameter check (a typo fails here, not hours into a sweep)."
    from tsssl.stage1 import Stage1Params
    from tsssl.stage2 import Stage2Params
    from tsssl.sweep import expand_sweep, load_sweep
    params_type = {"stage1.ipynb": Stage1Params, "stage2.ipynb": Stage2Params}
    paths = sorted((ROOT / "configs" / "sweeps").glob("*.yaml"))
    assert paths, "no sweep files found"
    for path in paths:
        runs = expand_sweep(load_sweep(path))
        assert runs, f"{path.name} expands to no run"
        for run in runs:
            given = {k: v for k, v in run.params.items() if k != "stage1_dir"}  # filled in from the parent run
            params_type[Path(run.notebook).name].from_dict(given)  # unknown or mistyped parameters raise, naming them
