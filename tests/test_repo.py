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


def test_nbdev_export_and_clean_change_nothing(tmp_path):
    "A copy of the repo stays byte-identical under `nbdev_export` and `nbdev_clean`."
    for name in ("nbs", "tsssl"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "_scratch"))
    for name in ("settings.ini", "setup.py", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    before = _snapshot(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "IN_TEST"}  # nbdev_export silently does nothing when IN_TEST is set
    for cmd in ("nbdev_export", "nbdev_clean"):
        subprocess.run([str(BIN / cmd)], cwd=tmp_path, check=True, capture_output=True, env=env)
    after = _snapshot(tmp_path)
    changed = sorted(str(k) for k in set(before) | set(after) if before.get(k) != after.get(k))
    assert not changed, f"run `make sync` and commit: nbdev_export/nbdev_clean change {changed}"
