"""Every library notebook in nbs/ is a test: its cells run top to bottom and its `test_*` asserts hold.

Cells flagged `#| slow` or `#| gpu` (settings.ini `tst_flags`) are skipped unless TSSSL_TEST_FLAGS
names them, e.g. `TSSSL_TEST_FLAGS=slow make test`.
"""
import os
from pathlib import Path

import pytest
from nbdev.test import test_nb as run_notebook

ROOT = Path(__file__).resolve().parents[1]
# the tutorial own_data runs (with its asserts) in the docs build, tests/test_docs.py, which shows its outputs: not twice
NBS = sorted(p for p in (ROOT / "nbs").glob("*.ipynb") if not p.name.startswith("_") and p.stem != "own_data")
FLAGS = {"slow", "gpu"}
FORCE = set(os.environ.get("TSSSL_TEST_FLAGS", "").split(",")) - {""}


@pytest.mark.parametrize("nb", NBS, ids=[p.stem for p in NBS])
def test_library_notebook(nb: Path):
    ok, secs = run_notebook(nb, skip_flags=FLAGS - FORCE, force_flags=FORCE, showerr=True)
    assert ok, f"{nb.name} failed after {secs:.1f}s (traceback above, in the captured stderr)"
