"""The docs site (`make docs`): built offline from the notebooks, every notebook has a page with its API
reference, no internal link is broken, and headless Chromium renders the home page, an API page and search.

The build is shared: `docs/build.py --reuse` rebuilds only when the notebooks, docs/ or the library changed
since the last good build (one build at a time under pytest-xdist). Screenshots go to runs/docs_screenshots/.
"""
import functools
import http.server
import importlib.util
import json
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_docs" / "html"
SHOTS = ROOT / "runs" / "docs_screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _load_build():
    spec = importlib.util.spec_from_file_location("tsssl_docs_build", ROOT / "docs" / "build.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # its dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


build = _load_build()


@pytest.fixture(scope="module")
def site() -> Path:
    "The built and checked site (built now unless a build from the same inputs is already there)."
    r = subprocess.run([sys.executable, str(ROOT / "docs" / "build.py"), "--reuse"], cwd=ROOT,
                       capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=1200)  # the home page's and the tutorial's cells run: minutes
    assert r.returncode == 0, f"docs build failed:\n{r.stdout[-4000:]}\n{r.stderr[-8000:]}"
    return HTML


# ------------------------------------------------------------------------------------------------ the build
def test_every_notebook_has_a_page_with_its_api(site):
    pages = build.discover()
    assert {"index", "core", "data", "experiments/stage1"} <= {pg.docname for pg in pages}
    for pg in pages:
        assert (site / f"{pg.docname}.html").is_file(), f"{pg.src.name} has no page"
    toc = (ROOT / "_docs_src" / "_toc.yml").read_text()
    for caption in ("Core", "Data", "Stage 1: tokenizers", "Stage 2: priors", "Experiments"):
        assert json.dumps(caption) in toc, caption
    for pg in pages:  # every exported symbol of a library notebook is documented on its page
        module = build.library_module(json.loads(pg.src.read_text()))
        if not module: continue
        page = (site / f"{pg.docname}.html").read_text()
        exported = importlib.import_module(f"tsssl.{module}").__all__
        missing = [n for n in exported if f'id="{build._label(module, n)}"' not in page]
        assert not missing, f"{pg.docname}.html lacks the API reference of {missing}"
    assert (site / "search.html").is_file() and (site / "searchindex.js").is_file()


def test_site_has_no_broken_link_nor_directive(site):
    assert build.check_site(build.discover(), site) == []
    data = (site / "data.html").read_text()
    assert "dataset name as in the UCR archive" in data  # a docment of load_ucr, in its parameter table
    assert "#| export" not in data and "default_exp" not in data
    assert "from fastcore.test import" not in data  # a `#| hide` cell
    home = (site / "index.html").read_text()  # its cells ran: the committed results and the quick start's outputs show
    summary = (ROOT / "figures" / "main" / "summary.md").read_text().splitlines()[2].split("|")[2].strip()  # a cell of the table's first row
    assert home.count("<img") >= 3 and summary in home and "UCRData(GunPoint" in home, summary
    tutorial = (site / "own_data.html").read_text()  # its cells ran too: its tables, printed lines and figures show
    assert tutorial.count("<img") >= 3 and "probes skipped: the data has no labels" in tutorial and "time-shuffled test" in tutorial


def test_checker_finds_broken_links_and_missing_pages(tmp_path):
    "The link checker is not a no-op: a dangling link, a missing anchor and a missing page are reported."
    (tmp_path / "index.html").write_text('<a href="a.html#there">a</a> <a href="gone.html">x</a> <p id="here"></p>'
                                         '<a href="#here">ok</a> <a href="https://example.org/">ext</a>')
    (tmp_path / "a.html").write_text('<a href="index.html#here">back</a>')
    (tmp_path / "search.html").write_text("")
    pages = [build.Page(ROOT / "nbs" / "index.ipynb", "index", "", (0,)),
             build.Page(ROOT / "nbs" / "10_data.ipynb", "data", "Data", (1,))]
    problems = build.check_site(pages, tmp_path)
    assert any("data.html" in p and "missing page" in p for p in problems), problems
    assert any("gone.html" in p for p in problems) and any("a.html#there" in p for p in problems), problems
    assert len(problems) == 3, problems


def _notebook(path: Path, *markdown: str, code: tuple = ()):
    cells = [{"cell_type": "markdown", "metadata": {}, "source": m} for m in markdown]
    cells += [{"cell_type": "code", "metadata": {}, "source": c, "outputs": [], "execution_count": None} for c in code]
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))


def test_build_fails_on_a_broken_link(tmp_path):
    "A notebook linking to a page that does not exist fails the build; fixed, the build passes (a 2-page site)."
    nbs = tmp_path / "nbs"; nbs.mkdir()
    _notebook(nbs / "index.ipynb", "# Home\n\nSee [the guide](guide.ipynb) and [this](missing.ipynb).")
    _notebook(nbs / "guide.ipynb", "# Guide\n\n## Part\n\nBack [home](index.ipynb).",
              code=("#| hide\nsecret = 1", "#| echo: false\nshown_output = 2", "visible = 3"))
    cmd = [sys.executable, str(ROOT / "docs" / "build.py"), "--nbs", str(nbs), "--out", str(tmp_path / "out"),
           "--stage", str(tmp_path / "stage")]
    r = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
    assert r.returncode != 0 and "missing.ipynb" in r.stderr, r.stderr[-3000:]
    _notebook(nbs / "index.ipynb", "# Home\n\nSee [the guide](guide.ipynb).")
    r = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    guide = (tmp_path / "out" / "html" / "guide.html").read_text()
    assert "visible" in guide and "secret" not in guide and "shown_output" not in guide and "#|" not in guide


def test_directives():
    d, code = build.split_directives("#| export\n#|hide_input\nx = 1  # not a directive")
    assert d == {"export": "", "hide_input": ""} and code == "x = 1  # not a directive"
    assert build.cell_fate(build.split_directives("#| hide\nimport os")[0]) == "drop"
    assert build.cell_fate(build.split_directives("#| default_exp data")[0]) == "drop"
    assert build.cell_fate({"echo": "false"}) == "output" and build.cell_fate({"hide_output": ""}) == "input"
    assert build.cell_fate({"export": ""}) == "show" and build.cell_fate({"include": "false"}) == "drop"


# ------------------------------------------------------------------------------------------------ the browser
class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args): pass


@pytest.fixture(scope="module")
def server(site):
    "The site on a free localhost port."
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown(); httpd.server_close()


def _chromium(*args: str) -> str:
    with tempfile.TemporaryDirectory() as profile:
        r = subprocess.run([str(CHROMIUM), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                           capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=90)
    assert r.returncode == 0, f"chromium failed ({r.returncode}):\n{r.stderr[-3000:]}"
    return r.stdout


def _not_blank(png: Path) -> float:
    "Standard deviation of the screenshot's grey levels (a blank page is ~0)."
    from PIL import Image, ImageStat
    with Image.open(png) as im:
        assert im.size == (1280, 1600), im.size
        return ImageStat.Stat(im.convert("L")).stddev[0]


@pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium: install Debian's chromium package "
                    "(apt-get install chromium) to render the docs in a real browser")
def test_site_renders_in_chromium(server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    shots = {name: SHOTS / f"{name}.png" for name in ("index", "data")}
    for png in shots.values(): png.unlink(missing_ok=True)
    size = "--window-size=1280,1600"
    calls = {"index": ["--dump-dom", f"--screenshot={shots['index']}", size, f"{server}/index.html"],
             "data": ["--dump-dom", f"--screenshot={shots['data']}", size, f"{server}/data.html"],
             "search": ["--virtual-time-budget=10000", "--dump-dom", f"{server}/search.html?q=load_ucr"]}
    with ThreadPoolExecutor(len(calls)) as ex:  # three browsers at once: ~2 s instead of ~6 s
        dom = dict(zip(calls, ex.map(lambda a: _chromium(*a), calls.values())))

    home = dom["index"]
    assert "<h1>tsssl" in home and "Quick start in Python" in home
    assert 'href="data.html"' in home and "Stage 1: tokenizers" in home  # navigation, grouped by subsystem

    api = dom["data"]  # the data module's page: its API reference, with load_ucr's docments as a table
    assert "load_ucr" in api and 'id="api-data-load-ucr"' in api
    assert "dataset name as in the UCR archive" in api and '<th class="head"><p>Parameter</p></th>' in api
    assert "#|" not in api

    results = dom["search"].split('class="search"', 1)  # search.html's results list, filled in by its script
    assert len(results) == 2 and 'href="data.html' in results[1][:3000], "search finds no data page for load_ucr"

    for png in shots.values():
        assert png.is_file() and _not_blank(png) > 10, f"{png} looks blank"
