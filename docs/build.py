"""Build the tsssl docs site from the notebooks, offline: `make docs` (or `.venv/bin/python docs/build.py`).

1. Stage: copy every notebook under nbs/ to _docs_src/ (nbs/ is never edited), honouring nbdev's `#|`
   directives (`hide`, `default_exp`, `include: false` drop a cell; `hide_input`/`echo: false` and
   `hide_output`/`output: false` drop its input or output; directive lines never show), moving the H1
   title to the top, and inserting after each `#| export` cell the API reference of the exported symbols it
   defines: the `show_doc` signature and docstring, and the docments as a parameter table. Backticked
   names of exported symbols in markdown link to their reference. A _toc.yml groups the pages by the
   numbered decades of the file names (00 core, 10 data, ...), so a new notebook gets a page by itself.
2. Build: Jupyter Book 1 (Sphinx + myst-nb), warnings are errors (nitpicky), into _docs/html (search:
   _docs/html/search.html). Notebooks are shown as stored (without outputs), except `EXECUTED`: the home
   page's cells run in the staging folder, from nbs/ as `make readme` runs them, so it shows the committed
   results in figures/ and the quick start's outputs (about a minute on a CPU), and the tutorial
   `own_data` runs there too, so its page shows its tables and figures (about 2.5 minutes). A failing cell
   (an assert of the tutorial's included) fails the build: this is where that tutorial is tested.
3. Check: every notebook has its page, every exported symbol is documented, no `#|` line leaked, and
   every internal link (href/src, fragment included) in the HTML resolves. Any failure exits non-zero.
"""
from __future__ import annotations

import argparse
import ast
import contextlib
import copy
import fcntl
import hashlib
import importlib
import inspect
import json
import re
import shutil
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
NBS = ROOT / "nbs"
STAGE = ROOT / "_docs_src"
OUT = ROOT / "_docs"
HTML_DIR = OUT / "html"
LIB = "tsssl"

# Navigation: the tens digit of a library notebook's number names its subsystem.
DECADES = {0: "Core", 1: "Data", 2: "Stage 1: tokenizers", 3: "Stage 2: priors", 4: "Training",
           5: "Evaluation", 6: "Plots", 7: "Experiment runner", 8: "Command line", 9: "More"}
FOLDERS = {"experiments": "Experiments"}  # sub-folders of nbs/ and their captions; others get a title-cased name
TUTORIALS = "Tutorials"  # un-numbered notebooks in nbs/ other than index.ipynb

DIRECTIVE = re.compile(r"^\s*#\|\s?(.*)$")
EXPORT_FLAGS = {"export", "exports", "exporti"}  # nbdev 2's exporting directives (`exporti` symbols are private)


# ----------------------------------------------------------------------------------------------- discovery
@dataclass
class Page:
    src: Path  # the notebook in nbs/
    docname: str  # path of the page in the site, without suffix ("data", "experiments/stage1")
    caption: str  # navigation group
    order: tuple  # sort key inside the site


def _ignored(paths: list[Path]) -> set[Path]:
    "The paths git ignores (runs written under nbs/, scratch folders); none when git is unavailable."
    if not paths: return set()
    try:
        r = subprocess.run(["git", "check-ignore", "--stdin"], cwd=ROOT, input="\n".join(str(p) for p in paths),
                           capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError): return set()
    return {Path(line) for line in r.stdout.splitlines() if line.strip()}


def discover(nbs: Path = NBS) -> list[Page]:
    "Every notebook under `nbs` that gets a page, in navigation order (index first)."
    found = [p for p in sorted(nbs.rglob("*.ipynb"))
             if not any(part.startswith(("_", ".")) for part in p.relative_to(nbs).parts)]
    skip = _ignored(found)
    pages, names = [], {}
    for p in found:
        if p in skip: continue
        rel = p.relative_to(nbs)
        m = re.match(r"^(\d+)_(.+)$", p.stem)
        if len(rel.parts) == 1 and p.stem == "index":
            page = Page(p, "index", "", (0,))
        elif len(rel.parts) == 1 and m:
            num = int(m.group(1))
            decade = min(num // 10, 9) if len(m.group(1)) == 2 else 9
            page = Page(p, m.group(2), DECADES[decade], (1, decade, num, p.stem))
        elif len(rel.parts) == 1:
            page = Page(p, p.stem, TUTORIALS, (2, p.stem))
        else:
            folder = rel.parts[0]
            cap = FOLDERS.get(folder, folder.replace("_", " ").title())
            rank = list(FOLDERS).index(folder) if folder in FOLDERS else len(FOLDERS)
            page = Page(p, rel.with_suffix("").as_posix(), cap, (3, rank, folder, rel.as_posix()))
        if page.docname in names:
            raise SystemExit(f"docs: {p} and {names[page.docname]} would both be the page {page.docname!r}; rename one")
        names[page.docname] = p
        pages.append(page)
    if not any(pg.docname == "index" for pg in pages):
        raise SystemExit(f"docs: {nbs / 'index.ipynb'} (the home page) is missing")
    return sorted(pages, key=lambda pg: pg.order)


def toc_yaml(pages: list[Page]) -> str:
    "A Jupyter Book `jb-book` table of contents: the home page, then one part per caption."
    lines = ["# generated by docs/build.py from the notebook file names", "format: jb-book", "root: index", "parts:"]
    caption = None
    for pg in pages:
        if pg.docname == "index": continue
        if pg.caption != caption:
            caption = pg.caption
            lines += [f"  - caption: {json.dumps(caption)}", "    chapters:"]
        lines.append(f"      - file: {pg.docname}")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------------- directives
def split_directives(source: str) -> tuple[dict[str, str], str]:
    "nbdev `#|` directives of a code cell (name -> rest of line) and the source without directive lines."
    directives, kept = {}, []
    for line in source.splitlines():
        m = DIRECTIVE.match(line)
        if m:
            body = m.group(1).strip()
            if body:
                name, _, rest = body.partition(" ")
                directives[name.rstrip(":").lower()] = rest.strip()
        else: kept.append(line)
    while kept and not kept[0].strip(): kept.pop(0)
    return directives, "\n".join(kept).rstrip()


def _falsy(v: str) -> bool: return v.strip().lower() in {"false", "no", "0"}


def cell_fate(directives: dict[str, str]) -> str:
    "What the page does with a code cell: 'drop', 'output' (input removed), 'input' (output removed) or 'show'."
    if "hide" in directives or "default_exp" in directives or _falsy(directives.get("include", "true")): return "drop"
    no_input = "hide_input" in directives or _falsy(directives.get("echo", "true"))
    no_output = "hide_output" in directives or _falsy(directives.get("output", "true"))
    if no_input and no_output: return "drop"
    return "output" if no_input else "input" if no_output else "show"


# ----------------------------------------------------------------------------------------------- show_doc
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")


def _md_escape(s: str) -> str:
    """A docment as table-cell markdown: its `code spans` kept, pipes escaped, and outside code `<...>`
    shown literally (not taken for HTML) and `$` not taken for math."""
    out, pos = [], 0
    for m in _CODE_SPAN.finditer(s):
        out.append(_plain(s[pos:m.start()])); out.append(m.group(0).replace("|", "\\|")); pos = m.end()
    out.append(_plain(s[pos:]))
    return "".join(out).replace("\n", " ")


def _plain(s: str) -> str:
    "Markdown showing `s` literally (a docment is a code comment: no emphasis, math, HTML or table breaks)."
    for ch in "\\|$*_[]":
        s = s.replace(ch, "\\" + ch)
    return s.replace("<", "&lt;").replace(">", "&gt;")


def _code_cell(s: str) -> str:
    "A value as inline code inside a table cell."
    s = s.replace("\n", " ").strip()
    if not s: return ""
    ticks = "`" * (max((len(t) for t in re.findall(r"`+", s)), default=0) + 1)
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    return f"{ticks}{pad}{s.replace('|', chr(92) + '|')}{pad}{ticks}"


def _anno_str(a) -> str:
    if a is inspect.Parameter.empty or a is inspect.Signature.empty: return ""
    if isinstance(a, str): return a.strip("'\"")
    return inspect.formatannotation(a)


def _signature(sym):
    "The signature with annotations as written in the source (unevaluated strings under `from __future__ import annotations`)."
    for eval_str in (False, True):
        try: return inspect.signature(sym, eval_str=eval_str)
        except Exception: continue
    return None


def _docments(sym) -> dict:
    try:
        from fastcore.docments import docments
        return docments(sym, full=True, returns=True) or {}
    except Exception:
        return {}


def _own_doc(sym) -> str:
    "The symbol's docstring (classes: their own, not a base class's nor a dataclass's generated one)."
    if inspect.isclass(sym):
        d = sym.__dict__.get("__doc__") or ""
        if d.startswith(sym.__name__ + "("): d = ""
    else:
        d = getattr(sym, "__doc__", None) or ""
    return inspect.cleandoc(d) if d else ""


def _default_str(p: inspect.Parameter) -> str:
    if p.default is inspect.Parameter.empty: return ""
    return f"<function {p.default.__name__}>" if inspect.isfunction(p.default) else repr(p.default)


def _param_str(p: inspect.Parameter) -> str:
    "A parameter as in the source: `*args`, `name: anno = default`, `name=default`."
    s = ("*" if p.kind is p.VAR_POSITIONAL else "**" if p.kind is p.VAR_KEYWORD else "") + p.name
    anno, default = _anno_str(p.annotation), _default_str(p)
    if anno: s += f": {anno}"
    if default: s += f" = {default}" if anno else f"={default}"
    return s


def _shown_params(sig) -> list[inspect.Parameter]:
    return [p for p in (sig.parameters.values() if sig else []) if p.name not in ("self", "cls")]


def render_signature(name: str, sym, sig, is_class: bool) -> str:
    "The signature as Python source, one parameter a line when it does not fit on one."
    shown = [_param_str(p) for p in _shown_params(sig)]
    ret = _anno_str(sig.return_annotation) if sig and not is_class else ""
    head = ("class " if is_class else "async def " if inspect.iscoroutinefunction(sym) else "def ") + name
    tail = f" -> {ret}" if ret and ret != "None" else ""
    one = f"{head}({', '.join(shown)}){tail}"
    if len(one) <= 90: return one
    return head + "(\n" + "".join(f"    {s},\n" for s in shown) + ")" + tail


def param_table(sym, sig, is_class: bool) -> str:
    """The docments of `sym` as a markdown table (parameter, type, default, details; then the return value),
    or "" when no parameter has a docment."""
    dm = _docments(sym)
    def docment(k): return ((dm.get(k) or {}).get("docment") or "") if isinstance(dm.get(k), dict) else ""
    rows = [(f"`{_param_str(p).split(':')[0].split('=')[0]}`", _code_cell(_anno_str(p.annotation)),
             _code_cell(_default_str(p)), _md_escape(docment(p.name))) for p in _shown_params(sig)]
    if not any(r[3] for r in rows): return ""
    ret_anno = _anno_str(sig.return_annotation) if sig and not is_class else ""
    if not is_class and (docment("return") or ret_anno not in ("", "None")):
        rows.append(("**Returns**", _code_cell(ret_anno), "", _md_escape(docment("return"))))
    out = ["| Parameter | Type | Default | Details |", "| --- | --- | --- | --- |"]
    return "\n".join(out + [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows])


def _assignments(code: str) -> dict[str, str]:
    "The source of each top-level assignment in a cell (without its trailing comment), by target name."
    try: tree = ast.parse(code)
    except SyntaxError: return {}
    lines, out = code.splitlines(), {}
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            seg = lines[node.lineno - 1:node.end_lineno]
            seg[-1] = seg[-1].encode()[:node.end_col_offset].decode(errors="ignore")  # offsets count UTF-8 bytes
            src = "\n".join(seg)
            for t in targets:
                for n in ast.walk(t):
                    if isinstance(n, ast.Name): out.setdefault(n.id, src)
    return out


def _source_comments(cell_src: str) -> dict[str, str]:
    "The trailing `# comment` of each top-level assignment in an export cell (constants' docments)."
    out = {}
    for line in cell_src.splitlines():
        m = re.match(r"^([A-Za-z_]\w*)\s*(?::[^=]+)?=[^#]*#\s*(.+)$", line)
        if m: out[m.group(1)] = m.group(2).strip()
    return out


def show_doc_md(name: str, sym, level: int, label: str, comment: str = "", source: str = "",
                decorator: str = "") -> str:
    """Markdown API reference for one symbol, built on nbdev's `show_doc` (its name, docstring and
    signature), with the source link dropped (the site has no source pages) and docments as a table."""
    h = "#" * level
    is_class = inspect.isclass(sym)
    unwrapped = getattr(sym, "__wrapped__", sym) if not is_class else sym
    callable_doc = is_class or inspect.isroutine(unwrapped) or callable(unwrapped) and hasattr(unwrapped, "__code__")
    parts = [f"({label})=", f"{h} {name}", ""]
    if callable_doc:
        try:
            from nbdev.showdoc import show_doc
            r = show_doc(unwrapped, name=name, title_level=level)
            doc = (getattr(r, "docs", "") or "").strip() if r is not None else ""
        except Exception:
            doc = ""
        own = _own_doc(unwrapped)
        doc = (doc or own) if own else ""  # never an inherited docstring (show_doc falls back to the type's)
        sig = _signature(unwrapped)
        if is_class and getattr(unwrapped, "_is_protocol", False):  # a typing.Protocol: its methods say it all
            parts += ["```python", f"class {name}(Protocol)", "```", ""]; sig = None
        else: parts += ["```python", decorator + render_signature(name, unwrapped, sig, is_class), "```", ""]
        if doc: parts += [f"*{doc.splitlines()[0]}*"] + doc.splitlines()[1:] + [""]
        tbl = param_table(unwrapped, sig, is_class)
        if tbl: parts += [tbl, ""]
    else:  # a constant or alias: its assignment as written in the notebook, else its repr
        val = source.strip() or f"{name} = {repr(sym)}"
        if len(val.splitlines()) > 15: val = "\n".join(val.splitlines()[:15]) + "\n..."
        if len(val) > 1500: val = val[:1497] + "..."
        parts += ["```python", val, "```", ""]
        if comment: parts += [f"*{_plain(comment)}*", ""]
    return "\n".join(parts).rstrip() + "\n"


def class_methods(cls) -> list[tuple[str, object, str]]:
    """Public methods and properties a class defines itself (patched ones included), in definition order,
    as (name, function, decorator line); those without a docstring only for protocols."""
    out = []
    for k, v in cls.__dict__.items():
        if k.startswith("_"): continue  # private and dunder methods are not API
        deco = next((f"@{t.__name__}\n" for t in (classmethod, staticmethod, property) if isinstance(v, t)), "")
        f = v.__func__ if isinstance(v, (classmethod, staticmethod)) else v.fget if isinstance(v, property) else v
        if inspect.isfunction(f) and ((f.__doc__ or "").strip() or getattr(cls, "_is_protocol", False)):
            out.append((k, f, deco))
    return out


# ----------------------------------------------------------------------------------------------- notebooks
def _src(cell) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def _md_cell(text: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": text}


def _defined_names(code: str) -> list[tuple[str, str | None]]:
    "Top-level names a cell defines, in order, as (name, class it patches or None)."
    try: tree = ast.parse(code)
    except SyntaxError: return []
    out = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            patched = None
            if any((isinstance(d, ast.Name) and d.id == "patch") or (isinstance(d, ast.Call) and getattr(d.func, "id", "") == "patch")
                   for d in node.decorator_list) and node.args.args and node.args.args[0].annotation is not None:
                patched = ast.unparse(node.args.args[0].annotation).strip("'\"")
            out.append((node.name, patched))
        elif isinstance(node, ast.ClassDef): out.append((node.name, None))
        elif isinstance(node, ast.Assign):
            for t in node.targets:
                for n in ast.walk(t):
                    if isinstance(n, ast.Name): out.append((n.id, None))
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and isinstance(node.target, ast.Name):
            out.append((node.target.id, None))
    return out


@dataclass
class Symbols:
    "Every documented symbol: name -> (docname, label), for links from markdown; methods added by `@patch`."
    where: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    patched: set[str] = field(default_factory=set)  # "Class.method" documented after its own `@patch` cell

    def add(self, name: str, docname: str, label: str):
        self.where.setdefault(name, []).append((docname, label))


def _label(module: str, name: str) -> str:
    return "api-" + re.sub(r"[^a-z0-9]+", "-", f"{module}-{name}".lower()).strip("-")


def library_module(nb: dict) -> str | None:
    for c in nb["cells"]:
        if c["cell_type"] == "code":
            d, _ = split_directives(_src(c))
            if "default_exp" in d: return d["default_exp"].split()[0]
    return None


def plan_api(nb: dict, module: str, docname: str, symbols: Symbols) -> dict[int, list[tuple[str, object, str]]]:
    "For each export cell index, the (heading name, object, comment) entries to document after it."
    mod = importlib.import_module(f"{LIB}.{module}")
    exported = list(getattr(mod, "__all__", []))
    plan, done = {}, set()
    for i, c in enumerate(nb["cells"]):
        if c["cell_type"] != "code": continue
        d, code = split_directives(_src(c))
        if not (set(d) & EXPORT_FLAGS): continue
        comments, sources = _source_comments(code), _assignments(code)
        for name, patched in _defined_names(code):
            if patched:
                cls = getattr(mod, patched, None)
                obj = getattr(cls, name, None) if cls is not None else None
                if cls is None or obj is None or patched not in exported or name.startswith("_"): continue
                obj = obj.fget if isinstance(obj, property) else obj
                entry = (f"{patched}.{name}", obj, "", "")
                symbols.patched.add(entry[0])
            elif name in exported and name not in done:
                entry = (name, getattr(mod, name), comments.get(name, ""), sources.get(name, ""))
                done.add(name)
            else: continue
            plan.setdefault(i, []).append(entry)
    missing = [n for n in exported if n not in done]
    if missing: plan[-1] = [(n, getattr(mod, n), "", "") for n in missing]  # defined outside export cells
    for entries in plan.values():
        for nm, obj, _, _ in entries:
            symbols.add(nm, docname, _label(module, nm))
            if inspect.isclass(obj):
                for mn, _f, _d in class_methods(obj):
                    if f"{nm}.{mn}" in symbols.patched: continue
                    symbols.add(f"{nm}.{mn}", docname, _label(module, f"{nm}.{mn}"))
    return plan


_FENCE = re.compile(r"^(\s*)(```|~~~)")
_TICK = re.compile(r"(?<![\[\w`])`([A-Za-z_][\w.]*)(\(\))?`(?![\]`(])")


def autolink(md: str, docname: str, symbols: Symbols, module: str | None) -> str:
    "Turn `name` into a link to its API reference when `name` is a documented symbol (not in code blocks)."
    out, in_fence = [], False
    for line in md.splitlines(keepends=True):
        if _FENCE.match(line): in_fence = not in_fence; out.append(line); continue
        if in_fence or re.match(r"^#{1,6}\s", line): out.append(line); continue  # code blocks and headings stay

        def sub(m):
            name = m.group(1)
            if name.startswith(LIB + "."):
                name = name.split(".", 2)[-1] if name.count(".") >= 2 else name
            hits = symbols.where.get(name, [])
            if not hits: return m.group(0)
            same = [h for h in hits if h[0] == docname]
            target = same[0] if same else hits[0] if len(hits) == 1 else None
            if target is None: return m.group(0)
            return f"[{m.group(0)}](#{target[1]})"
        out.append(_TICK.sub(sub, line))
    return "".join(out)


def heading_level(md: str) -> int | None:
    "Level of the last heading in a markdown cell (outside code blocks)."
    lvl, in_fence = None, False
    for line in md.splitlines():
        if _FENCE.match(line): in_fence = not in_fence; continue
        m = re.match(r"^(#{1,6})\s", line)
        if m and not in_fence: lvl = len(m.group(1))
    return lvl


def prepare(page: Page, symbols: Symbols, plans: dict) -> dict:
    "The staged notebook of one page."
    nb = json.loads(page.src.read_text(encoding="utf-8"))
    module = library_module(nb)
    plan = plans.get(page.docname, {})
    cells, level, title_moved, title = [], 1, False, None
    for i, c in enumerate(nb["cells"]):
        src = _src(c)
        if c["cell_type"] == "raw" and src.lstrip().startswith("---"):  # Quarto front matter: not shown
            m = re.search(r"^title:\s*(.+)$", src, flags=re.M)
            title = title or (m.group(1).strip().strip("'\"") if m else None)
        elif c["cell_type"] == "markdown":
            lvl = heading_level(src)
            new = _md_cell(autolink(src, page.docname, symbols, module))
            if not title_moved and re.match(r"^#\s", src.lstrip()):  # the H1 title (and its summary) opens the page
                cells.insert(0, new); title_moved = True
            else: cells.append(new)
            level = lvl or level
        elif c["cell_type"] == "code":
            d, code = split_directives(src)
            fate = cell_fate(d)
            if fate != "drop":
                new = {"cell_type": "code", "metadata": {}, "source": code, "outputs": c.get("outputs", []),
                       "execution_count": c.get("execution_count")}
                if fate == "output": new["metadata"]["tags"] = ["remove-input"]
                if fate == "input": new["metadata"]["tags"] = ["remove-output"]; new["outputs"] = []
                if not code.strip() and fate != "output": new = None
                if new is not None: cells.append(new)
            for nm, obj, comment, source in plan.get(i, []):
                cells.append(_md_cell(api_md(nm, obj, comment, source, min(level + 1, 6), module, page.docname, symbols)))
        else:
            cells.append(copy.deepcopy(c))
    if not title_moved:  # every page needs a title: the front matter's, else the file name
        cells.insert(0, _md_cell(f"# {title or page.docname.rsplit('/', 1)[-1].replace('_', ' ')}"))
    if plan.get(-1):
        cells.append(_md_cell("## API reference\n\nExported symbols defined outside the cells above."))
        for nm, obj, comment, source in plan[-1]:
            cells.append(_md_cell(api_md(nm, obj, comment, source, 3, module, page.docname, symbols)))
    meta = {"kernelspec": nb.get("metadata", {}).get("kernelspec",
            {"display_name": "python3", "language": "python", "name": "python3"}),
            "language_info": {"name": "python"}}
    for k, c in enumerate(cells): c["id"] = f"c{k:04d}"
    return {"cells": cells, "metadata": meta, "nbformat": 4, "nbformat_minor": 5}


def api_md(name: str, obj, comment: str, source: str, level: int, module: str, docname: str, symbols: Symbols) -> str:
    "The API reference of a symbol (and, for a class, of its own public methods)."
    md = show_doc_md(name, obj, level, _label(module, name), comment, source)
    if inspect.isclass(obj):
        for mn, f, deco in class_methods(obj):
            if f"{name}.{mn}" in symbols.patched: continue
            md += "\n" + show_doc_md(f"{name}.{mn}", f, min(level + 1, 6), _label(module, f"{name}.{mn}"),
                                      decorator=deco)
    return autolink_api(md, docname, symbols, module)


def autolink_api(md: str, docname: str, symbols: Symbols, module: str) -> str:
    "Link backticked names in docstrings and tables, not in headings, labels or the signature block."
    out = []
    for block in re.split(r"(```python\n.*?\n```)", md, flags=re.S):
        if block.startswith("```"): out.append(block); continue
        lines = []
        for ln in block.splitlines(keepends=True):
            if ln.startswith(("#", "(")): lines.append(ln)
            elif ln.startswith("| `"):  # a parameter row: its name is not a link
                first, rest = ln.split(" | ", 1)
                lines.append(first + " | " + autolink(rest, docname, symbols, module))
            else: lines.append(autolink(ln, docname, symbols, module))
        out.append("".join(lines))
    return "".join(out)


def stage(pages: list[Page], stage_dir: Path = STAGE) -> dict:
    "Write the staging folder (config, toc, prepared notebooks); returns the number of API entries per page."
    if stage_dir.exists(): shutil.rmtree(stage_dir)
    stage_dir.mkdir(parents=True)
    shutil.copy(DOCS / "_config.yml", stage_dir / "_config.yml")
    shutil.copytree(DOCS / "_static", stage_dir / "_static")  # Jupyter Book adds its .css files to every page
    (stage_dir / "_toc.yml").write_text(toc_yaml(pages), encoding="utf-8")
    symbols, plans = Symbols(), {}
    if str(ROOT) not in sys.path: sys.path.insert(0, str(ROOT))
    for pg in pages:  # first every page's API entries, so that any page can link to any symbol
        nb = json.loads(pg.src.read_text(encoding="utf-8"))
        module = library_module(nb)
        if module:
            try: plans[pg.docname] = plan_api(nb, module, pg.docname, symbols)
            except Exception as e:
                raise SystemExit(f"docs: cannot import {LIB}.{module} for {pg.src.name}'s API reference: {e!r}") from e
    stats = {}
    for pg in pages:
        out = stage_dir / f"{pg.docname}.ipynb"
        out.parent.mkdir(parents=True, exist_ok=True)
        staged = prepare(pg, symbols, plans)
        out.write_text(json.dumps(staged, indent=1, ensure_ascii=False), encoding="utf-8")
        stats[pg.docname] = sum(len(v) for v in plans.get(pg.docname, {}).values())
    return stats


HOME = "index"  # the home page: its cells run at build time, showing the committed results
EXECUTED = (HOME, "own_data")  # the pages whose cells run at build time (the tutorial: its tables and figures are the lesson)
HOME_READS = ("figures/main", "figures/cpu", "figures/thesis")  # the committed results its cells show


def execute_page(name: str, stage_dir: Path = STAGE, nbs: Path = NBS) -> None:
    "Run a staged page's cells from `nbs` (its paths are relative to it), keeping their outputs in the staged copy; a failing cell fails the build."
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    p = stage_dir / f"{name}.ipynb"
    nb = nbformat.read(p, as_version=4)
    from tsssl.runs import _kernel_manager_class  # encrypted kernel sockets where jupyter and zmq have them, as for every run
    kmc = {"kernel_manager_class": k} if (k := _kernel_manager_class()) else {}
    try: NotebookClient(nb, timeout=1800, kernel_name="python3", resources={"metadata": {"path": str(nbs)}}, **kmc).execute()
    except CellExecutionError as e:
        raise SystemExit(f"docs: a cell of the page {name} ({nbs / name}.ipynb) failed when run from {nbs}: "
                         f"{str(e).strip().splitlines()[-1]}") from None
    nbformat.write(nb, p)


# ----------------------------------------------------------------------------------------------- build
def sphinx_build(stage_dir: Path = STAGE, out: Path = OUT, quiet: bool = True) -> None:
    "Jupyter Book 1 (Sphinx) build of the staged pages into `out`/html; warnings (nitpicky) are errors."
    # jsonschema (imported by Jupyter Book to check _config.yml) builds ~40 grammars for the optional
    # `rfc3987_syntax` IRI checks when that package is installed: ~4 s; the book's schema checks no IRIs.
    sys.modules.setdefault("rfc3987_syntax", None)  # makes that optional import fail, as jsonschema allows
    from jupyter_book.sphinx import build_sphinx
    html_dir = out / "html"
    if html_dir.exists(): shutil.rmtree(html_dir)
    overrides = {"external_toc_path": (stage_dir / "_toc.yml").as_posix(), "latex_individualpages": False,
                 "nitpicky": True}
    res = build_sphinx(str(stage_dir), str(html_dir), noconfig=True, path_config=str(stage_dir / "_config.yml"),
                       confoverrides=overrides, doctreedir=str(out / ".doctrees"), freshenv=True,
                       force_all=True, warningiserror=True, keep_going=True, quiet=quiet)
    if res != 0:
        raise SystemExit(f"docs: the Sphinx build failed ({res}); the warnings above name the page and the problem")


# ----------------------------------------------------------------------------------------------- checks
class _Links(HTMLParser):
    def __init__(self):
        super().__init__(); self.links, self.ids, self.text = [], set(), []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"): self.ids.add(a["id"])
        if tag == "a" and a.get("name"): self.ids.add(a["name"])
        for k in ("href", "src"):
            if a.get(k) is not None: self.links.append((tag, a[k]))
        if tag in ("script", "style"): self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip: self._skip -= 1

    def handle_data(self, data):
        if not self._skip: self.text.append(data)


def _parse(p: Path) -> _Links:
    parser = _Links(); parser.feed(p.read_text(encoding="utf-8", errors="replace")); return parser


def check_site(pages: list[Page], html_dir: Path = HTML_DIR) -> list[str]:
    "Problems with a built site: missing pages, leaked `#|` lines, broken internal links or anchors."
    problems, html_dir = [], html_dir.resolve()
    for pg in pages:
        if not (html_dir / f"{pg.docname}.html").is_file():
            problems.append(f"missing page: {pg.src} has no {pg.docname}.html")
    if not (html_dir / "search.html").is_file(): problems.append("missing search.html")
    parsed = {p: _parse(p) for p in sorted(html_dir.rglob("*.html"))
              if p.relative_to(html_dir).parts[0] not in ("_static", "_sources")}  # theme templates, not pages
    others: dict[Path, _Links] = {}  # linked-to HTML files that are not pages
    for p, info in parsed.items():
        body = "".join(info.text)
        if any(DIRECTIVE.match(line) for line in body.splitlines()):
            problems.append(f"{p.relative_to(html_dir)}: an nbdev `#|` directive line is shown")
        for tag, link in info.links:
            u = urlsplit(link)
            if u.scheme or u.netloc or link.startswith(("mailto:", "javascript:", "data:")): continue
            target = (p.parent / unquote(u.path)).resolve() if u.path else p
            if u.path.endswith("/") or (target.is_dir()): target = target / "index.html"
            try: target.relative_to(html_dir)
            except ValueError:
                problems.append(f"{p.relative_to(html_dir)}: link {link!r} leaves the site"); continue
            if not target.is_file():
                problems.append(f"{p.relative_to(html_dir)}: broken link {link!r} ({tag})"); continue
            if u.fragment and target.suffix == ".html":
                tinfo = parsed.get(target) or others.get(target) or others.setdefault(target, _parse(target))
                if unquote(u.fragment) not in tinfo.ids:
                    problems.append(f"{p.relative_to(html_dir)}: link {link!r} points to a missing anchor")
    return problems


# ----------------------------------------------------------------------------------------------- main
def fingerprint(pages: list[Page]) -> str:
    "A hash of everything a build reads: the notebooks, docs/, the library, the results the home page shows and the installed packages' versions."
    h = hashlib.sha256()
    files = [pg.src for pg in pages] + sorted(p for p in DOCS.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    files += sorted((ROOT / LIB).glob("*.py"))
    files += sorted(p for d in HOME_READS for p in (ROOT / d).rglob("*") if p.is_file())  # the home page shows them
    for p in files:
        h.update(str(p).encode() + b"\0" + p.read_bytes() + b"\0")
    from importlib.metadata import distributions
    # every installed package's version: the executed pages (EXECUTED) run tsssl on torch, numpy, ..., so an upgrade runs them again
    h.update(" ".join(sorted(f"{d.metadata['Name']}=={d.version}" for d in distributions())).encode())
    return h.hexdigest()


@contextlib.contextmanager
def _lock(out: Path):
    "One build at a time (pytest-xdist workers, a `make docs` beside a test run)."
    out.mkdir(parents=True, exist_ok=True)
    with open(out / ".lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try: yield
        finally: fcntl.flock(f, fcntl.LOCK_UN)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Build the tsssl docs site into _docs/html (offline) and check it: "
                                 "every notebook has a page, no internal link is broken.")
    ap.add_argument("--reuse", action="store_true",
                    help="skip the build when the site was built and checked from these very inputs")
    ap.add_argument("--check-only", action="store_true", help="only check an existing build")
    ap.add_argument("--verbose", action="store_true", help="show Sphinx's progress output")
    ap.add_argument("--nbs", type=Path, default=NBS, help="notebook folder (default: nbs/)")
    ap.add_argument("--out", type=Path, default=OUT, help="output folder; the site goes to OUT/html (default: _docs/)")
    ap.add_argument("--stage", type=Path, default=STAGE, help="staging folder (default: _docs_src/)")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore", category=FutureWarning)  # library import noise, not Sphinx warnings
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    t0, html_dir, stamp = time.perf_counter(), args.out / "html", args.out / ".fingerprint"
    with _lock(args.out):
        pages = discover(args.nbs.resolve())
        fp = fingerprint(pages)
        reused = args.check_only or (args.reuse and stamp.is_file() and stamp.read_text() == fp
                                     and (html_dir / "index.html").is_file())
        if not reused:
            stamp.unlink(missing_ok=True)
            n_api = sum(stage(pages, args.stage).values())
            for name in (pg.docname for pg in pages if pg.docname in EXECUTED): execute_page(name, args.stage, args.nbs.resolve())
            sphinx_build(args.stage, args.out, quiet=not args.verbose)
        problems = check_site(pages, html_dir)
        for p in problems: print(f"docs: {p}", file=sys.stderr)
        if problems:
            print(f"docs: {len(problems)} problem(s); the site in {html_dir} is not valid", file=sys.stderr)
            return 1
        if not args.check_only: stamp.write_text(fp)
    what = "checked the existing build" if reused else f"built ({n_api} API entries) and checked"
    print(f"docs: {len(pages)} pages, {what} in {time.perf_counter() - t0:.1f}s -> {html_dir / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
