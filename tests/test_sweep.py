"""The sweep runner and the results store, end to end, on tiny stand-in notebooks (no model is trained).

The stand-in notebook writes status.json / metrics.json / config.json as tsssl.runs does, fails when
`fail=True`, is killed with `die=True`, waits two minutes with `hang=True` (each unless a file named `fixed` exists in its working
directory), and reports whether it found a checkpoint (a resumed run). Each execution costs a kernel start (~1 s); the submitit test ~4 s.
"""
import json
import time
from pathlib import Path

import nbformat
import pytest

from tsssl.results import load_runs, load_wandb_runs
from tsssl.sweep import expand_sweep, load_sweep, main, plan_run, run_sweep

ROOT = Path(__file__).resolve().parents[1]
SWEEPS = ROOT / "configs" / "sweeps"

PARAMS = 'dataset = "A"\nseed = 0\nfail = False\ndie = False\nhang = False\ncrash_after = False\ninterrupt = False\nstage1_dir = None\nout_dir = None\nprogress = True'
BODY = '''import json, os, pathlib
d = pathlib.Path(out_dir); d.mkdir(parents=True, exist_ok=True)
resumed = (d / "checkpoint.pt").exists()
(d / "config.json").write_text(json.dumps({"dataset": dataset, "seed": seed, "stage1_dir": stage1_dir}))
(d / "status.json").write_text(json.dumps({"status": "running", "started": "2026-01-01T00:00:00+00:00"}))
(d / "checkpoint.pt").write_text("")
if fail and not pathlib.Path("fixed").exists(): raise RuntimeError(f"asked to fail ({dataset})")
if interrupt and not pathlib.Path("fixed").exists(): raise KeyboardInterrupt  # Ctrl-C reaching the kernel
if die and not pathlib.Path("fixed").exists():  # the kernel is killed mid-run, as by the out-of-memory killer
    import os, signal; os.kill(os.getpid(), signal.SIGKILL)
if hang and not pathlib.Path("fixed").exists():  # a long run: the test stops its sweep meanwhile
    import os, time; (d / "kernel.pid").write_text(str(os.getpid())); time.sleep(120)
parent = json.loads((pathlib.Path(stage1_dir) / "metrics.json").read_text())["score"] if stage1_dir else 0
(d / "metrics.json").write_text(json.dumps({"score": parent + seed, "resumed": resumed,
                                            "gpus": os.environ.get("CUDA_VISIBLE_DEVICES")}))
(d / "status.json").write_text(json.dumps({"status": "finished", "started": "2026-01-01T00:00:00+00:00",
                                           "finished": "2026-01-01T00:00:05+00:00"}))
if crash_after:  # the kernel dies after the run finished, as a segfault while drawing figures would
    import os, signal; os.kill(os.getpid(), signal.SIGSEGV)'''


def _notebook(path: Path) -> Path:
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nb.cells = [nbformat.v4.new_code_cell(PARAMS, metadata={"tags": ["parameters"]}), nbformat.v4.new_code_cell(BODY)]
    nbformat.write(nb, path)
    return path


def _spec(d: Path, stage1_axes=None, stage2=True) -> dict:
    _notebook(d / "fake.ipynb")
    stages = [{"name": "stage1", "notebook": "fake.ipynb", "axes": stage1_axes or {"dataset": ["A"], "seed": [1]}}]
    if stage2: stages.append({"name": "stage2", "notebook": "fake.ipynb", "depends_on": "stage1", "axes": {"seed": [10]}})
    return {"name": "t", "root": "runs", "base_dir": str(d), "stages": stages}


def _status(run_dir) -> dict:
    return json.loads((Path(run_dir) / "status.json").read_text())


def _by_id(summary) -> dict:
    return {o["run_id"].rsplit("-", 1)[0]: o for o in summary.outcomes}


# --- expansion and run ids (no execution) ---------------------------------------------------------

@pytest.mark.parametrize("name,n_stage1,n_stage2", [("smoke", 4, 4), ("main_table", 84, 84), ("aug_recon_weight", 144, 0),
                                                      ("aug_robustness", 114, 114), ("cpu_offline", 12, 24),
                                                      ("cpu_offline_slice", 8, 0), ("cpu_offline_gauss", 8, 0),
                                                      ("cpu_offline_osuleaf", 6, 6),
                                                      ("aug_recon_weight_cpu", 48, 0), ("aug_robustness_cpu", 40, 0),
                                                      ("aug_robustness_cpu_fid", 20, 20), ("thesis_ecg5000", 6, 12),
                                                      ("thesis_ford", 8, 0), ("thesis_ford_epochs", 8, 0), ("thesis_electricdevices", 4, 0),
                                                      ("thesis_ford_long", 6, 0),
                                                      ("thesis_grid", 112, 224),
                                                      ("main_job_choice", 4, 0)])
def test_committed_sweeps_expand(name, n_stage1, n_stage2, monkeypatch, tmp_path):
    "The committed sweeps name real notebook parameters, give distinct ids, and work from any working directory."
    monkeypatch.chdir(tmp_path)
    runs = expand_sweep(SWEEPS / f"{name}.yaml")
    assert [sum(r.stage == s for r in runs) for s in ("stage1", "stage2")] == [n_stage1, n_stage2]
    assert len({r.run_id for r in runs}) == len(runs)
    root = (ROOT / load_sweep(SWEEPS / f"{name}.yaml").root).resolve()  # runs/sweeps/<name>, or a shared root
    assert all(r.cwd == ROOT and r.out_dir.parent.parent == root for r in runs)
    assert [r.run_id for r in runs] == [r.run_id for r in expand_sweep(SWEEPS / f"{name}.yaml")]
    s2 = [r for r in runs if r.stage == "stage2"]
    assert all(r.params["stage1_dir"] == r.parent.params["out_dir"] for r in s2)


def test_run_ids_readable_deterministic_distinct(tmp_path):
    spec = _spec(tmp_path, {"dataset": ["GunPoint", "ArrowHead"], "seed": [0, 1]})
    runs = expand_sweep(spec)
    ids = [r.run_id for r in runs]
    assert [i.rsplit("-", 1)[0] for i in ids[:4]] == ["GunPoint-s0", "GunPoint-s1", "ArrowHead-s0", "ArrowHead-s1"]
    assert all(len(i.rsplit("-", 1)[1]) == 6 for i in ids) and len(set(ids)) == len(ids) == 8
    assert ids == [r.run_id for r in expand_sweep(_spec(tmp_path, {"dataset": ["GunPoint", "ArrowHead"], "seed": [0, 1]}))]
    spec["stages"][0]["params"] = {"fail": False}  # any parameter change gives new ids (and new ids downstream)
    assert not set(ids) & {r.run_id for r in expand_sweep(spec)}
    for r in runs:
        assert r.out_dir == tmp_path.resolve() / "runs" / r.stage / r.run_id and r.output_notebook == r.out_dir / "notebook.ipynb"


# --- execution semantics ---------------------------------------------------------------------------

def test_finished_runs_are_skipped(tmp_path):
    spec = _spec(tmp_path, [{"dataset": ["A"], "seed": [1]}, {"dataset": ["B"], "seed": [1], "fail": [True]}], stage2=False)
    a, b = expand_sweep(spec)
    b.out_dir.mkdir(parents=True)  # B is finished already: it must never execute (it would fail)
    (b.out_dir / "status.json").write_text(json.dumps({"status": "finished"}))
    s = run_sweep(spec, log=None)
    assert s.counts == {"finished": 2, "failed": 0, "interrupted": 0, "skipped": 0, "pending": 0}
    out = _by_id(s)
    assert out["A-s1"]["seconds"] is not None and out["B-s1-fail"]["seconds"] is None and out["B-s1-fail"]["note"] == "finished earlier"
    assert not b.output_notebook.exists() and a.output_notebook.is_file()
    mtime = (a.out_dir / "metrics.json").stat().st_mtime_ns
    s2 = run_sweep(spec, log=None)  # a second invocation runs nothing
    assert all(o["seconds"] is None for o in s2.outcomes) and (a.out_dir / "metrics.json").stat().st_mtime_ns == mtime


def test_failure_is_recorded_sweep_continues_dependants_skipped_then_retried(tmp_path):
    spec = _spec(tmp_path, [{"dataset": ["A"], "seed": [1]}, {"dataset": ["B"], "seed": [2], "fail": [True]}])
    s = run_sweep(spec, log=None)
    out = _by_id(s)
    assert s.counts == {"finished": 2, "failed": 1, "interrupted": 0, "skipped": 1, "pending": 0}
    bad = Path(out["B-s2-fail"]["out_dir"])
    st = _status(bad)
    assert st["status"] == "failed" and st["error"] == "RuntimeError: asked to fail (B)" and "asked to fail" in st["traceback"]
    assert (bad / "notebook.ipynb").is_file()  # the executed notebook is kept, with the error in it
    assert "asked to fail (B)" in (bad / "notebook.ipynb").read_text()
    assert out["A-s1-s10"]["status"] == "finished"  # the stage-2 run on the good stage-1 run went on
    skipped = Path(out["B-s2-fail-s10"]["out_dir"])
    reason = _status(skipped)["reason"]
    assert _status(skipped)["status"] == "skipped" and reason.startswith("its stage1 run B-s2-fail-") and "asked to fail (B)" in reason
    # not retried by default ...
    assert _by_id(run_sweep(spec, log=None))["B-s2-fail"]["note"].endswith("rerun with --retry-failed")
    # ... but with retry_failed, once fixed: the failed run finishes and its dependant runs now
    (tmp_path / "fixed").touch()
    s = run_sweep(spec, retry_failed=True, log=None)
    assert s.counts == {"finished": 4, "failed": 0, "interrupted": 0, "skipped": 0, "pending": 0}
    st = _status(bad)
    assert st["status"] == "finished" and "error" not in st
    assert json.loads((skipped / "metrics.json").read_text())["score"] == 2 + 10


def test_a_crash_after_a_finished_run_leaves_it_finished(tmp_path):
    "Figures drawn after the metrics can kill the kernel; the run keeps its status and its stage-2 runs go on."
    spec = _spec(tmp_path, {"dataset": ["A"], "seed": [1], "crash_after": [True]})
    s = run_sweep(spec, log=None)
    assert s.counts == {"finished": 2, "failed": 0, "interrupted": 0, "skipped": 0, "pending": 0}, s.outcomes
    (s1,) = [o for o in s.outcomes if o["stage"] == "stage1"]
    st = _status(s1["out_dir"])
    assert st["status"] == "finished" and "after_error" in st and "notebook failed after it" in s1["note"]
    assert load_runs(tmp_path / "runs", warn=False)["status"].tolist() == ["finished", "finished"]


def test_only_some_stages(tmp_path):
    "--stages stage2: stage-1 runs are only read; a stage-2 run runs when its parent has finished and waits otherwise."
    spec = _spec(tmp_path, {"dataset": ["A", "B"], "seed": [1]})
    a1, b1, a2, b2 = expand_sweep(spec)
    run_sweep(spec, stages=["stage1"], log=None)  # both stage-1 runs finish; nothing of stage 2 runs
    assert not a2.out_dir.exists() and not b2.out_dir.exists()
    (b1.out_dir / "status.json").write_text(json.dumps({"status": "running"}))  # as if another process were training B
    s = run_sweep(spec, stages=["stage2"], log=None)
    out = _by_id(s)
    assert out["A-s1-s10"]["status"] == "finished" and out["B-s1-s10"]["status"] == "pending" and out["B-s1"]["status"] == "pending"
    assert not b2.out_dir.exists() and _status(b1.out_dir)["status"] == "running"  # neither touched
    with pytest.raises(ValueError, match="unknown stage"): run_sweep(spec, stages=["stage3"], log=None)


def test_only_some_runs(tmp_path):
    "--only GLOB: the matching runs execute (a stage-1 run's pattern with * takes its stage-2 runs along); the rest are only read."
    spec = _spec(tmp_path, {"dataset": ["A", "B"], "seed": [1]})
    a1, b1, a2, b2 = expand_sweep(spec)
    s = run_sweep(spec, only=[a1.run_id.rsplit("-", 1)[0] + "-*"], log=None)
    out = _by_id(s)
    assert [out[k]["status"] for k in ("A-s1", "A-s1-s10", "B-s1", "B-s1-s10")] == ["finished", "finished", "pending", "pending"]
    assert not b1.out_dir.exists() and not b2.out_dir.exists()
    assert json.loads((a2.out_dir / "metrics.json").read_text())["score"] == 11  # it read its own parent
    s = run_sweep(spec, only=[b2.run_id], log=None)  # a stage-2 run alone waits for its unfinished parent, untouched
    assert _by_id(s)["B-s1-s10"]["status"] == "pending" and not b2.out_dir.exists()
    with pytest.raises(ValueError, match="matches no run"): run_sweep(spec, only=["C-*"], log=None)
    (tmp_path / "t.yaml").write_text(json.dumps(spec))  # JSON is YAML
    assert main([str(tmp_path / "t.yaml"), "--only", "B-*"]) == 0
    assert all(_status(r.out_dir)["status"] == "finished" for r in (b1, b2))


@pytest.mark.parametrize("how", ["SIGTERM", "Ctrl-C"])
def test_stopping_the_sweep_ends_its_kernels_and_the_runs_resume(tmp_path, how):
    """Stopping the sweep process (a session's end; Ctrl-C, which a terminal sends to its whole process group) ends its
    workers and their kernels and starts no queued run; Ctrl-C prints one line, no traceback. The runs stay running and resume."""
    import os, signal, subprocess, sys
    spec = _spec(tmp_path, {"dataset": ["A", "B", "C"], "seed": [1], "hang": [True]}, stage2=False)
    (tmp_path / "t.yaml").write_text(json.dumps(spec))
    runs = expand_sweep(spec)
    # a terminal's command starts with Python's own Ctrl-C handler, whatever this test process inherited (SIG_IGN is inherited)
    sweep = subprocess.Popen([sys.executable, "-c", "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
                              f"from tsssl.sweep import main; sys.exit(main([{str(tmp_path / 't.yaml')!r}, '--max-workers', '2']))"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True,
                             env={**os.environ, "PYTHONFAULTHANDLER": "1"})  # SIGABRT then prints where each thread is
    pids = [r.out_dir / "kernel.pid" for r in runs]
    deadline = time.time() + 120
    while sum(p.exists() for p in pids) < 2 and time.time() < deadline: time.sleep(0.5)
    started = [r for r, p in zip(runs, pids) if p.exists()]
    assert len(started) == 2, "the runs did not start"
    if how == "Ctrl-C": os.killpg(sweep.pid, signal.SIGINT)
    else: sweep.send_signal(signal.SIGTERM)
    try: err = sweep.communicate(timeout=60)[1]  # a loaded CI machine is slow to end processes
    except subprocess.TimeoutExpired:
        sweep.send_signal(signal.SIGABRT)
        raise AssertionError(f"the sweep did not end within 60 s; where it was:\n{sweep.communicate(timeout=30)[1]}") from None
    if how == "Ctrl-C": assert "Traceback" not in err and "interrupted; the same command resumes" in err, err
    def alive(pid: int) -> bool:
        try: os.kill(pid, 0); return True
        except ProcessLookupError: return False
    kernels = [int(r.out_dir.joinpath("kernel.pid").read_text()) for r in started]
    while any(alive(k) for k in kernels) and time.time() < deadline: time.sleep(0.5)
    assert not any(alive(k) for k in kernels), "a kernel outlived its sweep"
    assert all(_status(r.out_dir)["status"] == "running" for r in started)  # left as they were: resumable
    (queued,) = [r for r in runs if r not in started]
    assert not queued.out_dir.exists()  # the third run never started
    (tmp_path / "fixed").touch()
    s = run_sweep(spec, log=None)
    assert s.counts["finished"] == 3
    assert [json.loads((r.out_dir / "metrics.json").read_text())["resumed"] for r in runs] == [r in started for r in runs]

def test_a_run_held_by_another_process_is_left_alone(tmp_path):
    "A run directory whose lock a live process holds is neither executed nor marked failed by a second sweep."
    import subprocess, sys
    spec = _spec(tmp_path, stage2=False)
    (run,) = expand_sweep(spec)
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\nfrom tsssl.runs import start_run\n"
                               f"start_run({str(run.out_dir)!r}, {{'x': 1}}); print('ok', flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ok"
        s = run_sweep(spec, log=None)
        assert s.outcomes[0]["status"] == "pending" and f"by pid {holder.pid} on " in s.outcomes[0]["note"]  # names the holder
        assert _status(run.out_dir)["status"] == "running" and not run.output_notebook.exists()
    finally:
        holder.kill(); holder.wait()
    assert run_sweep(spec, log=None).counts["finished"] == 1  # once the holder is gone, the run resumes


def test_pool_workers_end_with_their_sweep(tmp_path):
    "A killed sweep process leaves no pool worker behind to start further runs."
    import os, signal, subprocess, sys
    code = ("import os, time\nfrom tsssl.sweep import local_pool\np = local_pool(2)\n"
            "pids = {p.submit(os.getpid).result() for _ in range(8)} | {p.submit(time.sleep, 0.2) and p.submit(os.getpid).result()}\n"
            "print(*sorted(pids), flush=True)\ntime.sleep(60)")
    sweep = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        workers = [int(x) for x in sweep.stdout.readline().split()]
        assert workers and all(os.path.exists(f"/proc/{w}") for w in workers)
        sweep.send_signal(signal.SIGKILL); sweep.wait()
        deadline = time.time() + 15
        while time.time() < deadline and any(os.path.exists(f"/proc/{w}") for w in workers): time.sleep(0.2)
        alive = [w for w in workers if os.path.exists(f"/proc/{w}") and "Z" not in open(f"/proc/{w}/stat").read().split()[2]]
        assert not alive, f"workers {alive} outlived their sweep"
    finally:
        sweep.kill()


def test_killed_run_resumes(tmp_path):
    spec = _spec(tmp_path, stage2=False)
    (run,) = expand_sweep(spec)
    run.out_dir.mkdir(parents=True)  # a run killed mid-way: status running, a checkpoint
    (run.out_dir / "status.json").write_text(json.dumps({"status": "running"}))
    (run.out_dir / "checkpoint.pt").write_text("")
    s = run_sweep(spec, dry_run=True, log=None)
    assert s.outcomes[0]["note"] == "would run: resume from its checkpoint" and _status(run.out_dir)["status"] == "running"
    s = run_sweep(spec, log=None)
    assert s.counts["finished"] == 1 and json.loads((run.out_dir / "metrics.json").read_text())["resumed"] is True


def test_killed_kernel_resumes(tmp_path, capsys):
    "A kernel killed from outside: the run is interrupted, not failed; its stage-2 run waits; the next sweep resumes it."
    spec = _spec(tmp_path, {"dataset": ["A"], "seed": [1], "die": [True]})
    import yaml
    (tmp_path / "s.yaml").write_text(yaml.safe_dump({**spec, "base_dir": None}))
    assert main([str(tmp_path / "s.yaml")]) == 1  # not everything finished
    out = capsys.readouterr().out
    assert "1 interrupted" in out and "0 failed" in out and "run the sweep again to resume it" in out
    (s1,), (s2,) = ((tmp_path / "runs" / st).iterdir() for st in ("stage1", "stage2"))
    assert _status(s1)["status"] == "running" and _status(s2)["status"] == "skipped"
    assert len(json.loads((s1 / "sweep.json").read_text())["interrupted"]) == 1
    (tmp_path / "fixed").touch()
    s = run_sweep(tmp_path / "s.yaml", log=None)
    assert s.counts["finished"] == 2 and json.loads((s1 / "metrics.json").read_text())["resumed"] is True
    assert len(json.loads((s1 / "sweep.json").read_text())["interrupted"]) == 1  # the history stays with the run


def test_dead_kernel_recorded_as_failed_earlier_resumes(tmp_path):
    "Runs whose killed kernel was recorded as failed (before kills were told apart) resume without --retry-failed."
    spec = _spec(tmp_path, stage2=False)
    (run,) = expand_sweep(spec)
    run.out_dir.mkdir(parents=True)
    (run.out_dir / "status.json").write_text(json.dumps({"status": "failed", "error": "DeadKernelError: Kernel died"}))
    (run.out_dir / "checkpoint.pt").write_text("")
    s = run_sweep(spec, log=None)
    assert s.counts["finished"] == 1 and json.loads((run.out_dir / "metrics.json").read_text())["resumed"] is True


def test_ctrl_c_leaves_the_run_resumable(tmp_path):
    "A run stopped with Ctrl-C is interrupted, not failed: the next sweep resumes it without --retry-failed (also when an older tsssl recorded it as failed)."
    spec = _spec(tmp_path, {"dataset": ["A"], "seed": [1], "interrupt": [True]}, stage2=False)
    s = run_sweep(spec, log=None)
    (o,) = s.outcomes
    assert o["status"] == "interrupted" and "run the sweep again" in o["note"] and _status(o["out_dir"])["status"] == "running"
    (tmp_path / "fixed").touch()
    s = run_sweep(spec, log=None)
    assert s.counts["finished"] == 1 and json.loads((Path(o["out_dir"]) / "metrics.json").read_text())["resumed"] is True
    (tmp_path / "old").mkdir()
    (run,) = expand_sweep(_spec(tmp_path / "old", stage2=False))
    run.out_dir.mkdir(parents=True)
    (run.out_dir / "status.json").write_text(json.dumps({"status": "failed", "error": "KeyboardInterrupt()"}))
    assert plan_run(run) == ("run", "resume (it was stopped with Ctrl-C)")


def test_cli_exit_status_and_dry_run(tmp_path, capsys):
    spec = _spec(tmp_path, {"dataset": ["A"], "seed": [1], "fail": [True]}, stage2=False)
    import yaml
    (tmp_path / "s.yaml").write_text(yaml.safe_dump({**spec, "base_dir": None}))
    assert main([str(tmp_path / "s.yaml"), "--dry-run"]) == 0
    assert "would run: new" in capsys.readouterr().out
    assert main([str(tmp_path / "s.yaml")]) == 1
    assert "1 failed" in capsys.readouterr().out
    assert main([str(SWEEPS / "smoke.yaml"), "--dry-run"]) == 0
    assert "sweep smoke (dry run): 8 runs" in capsys.readouterr().out


@pytest.mark.parametrize("stage,message", [({"params": {"epochs": "two"}, "axes": {"dataset": ["GunPoint"]}}, "expected int, got str 'two'"),
                                           ({"axes": {"ssl_method": ["vibcreg", "simclr"]}}, "run simclr-"),
                                           ({"axes": {"dataset": ["NoSuchSet"]}}, "'NoSuchSet' is neither a file"),
                                           ({"axes": [{"dataset": ["GunPoint"], "seed": [0]}, {"dataset": ["GunPoint"]}]}, "seed=0 is the default"),
                                           ({"axes": []}, "lists no grid")])
def test_bad_sweeps_are_refused_before_anything_runs(stage, message, tmp_path, capsys):
    "A value the experiment notebook would refuse, a run listed twice, an empty grid: exit 2 with one line, even for --dry-run; nothing is written."
    import yaml
    spec = {"name": "bad", "root": "runs", "stages": [{"name": "stage1", "notebook": str(ROOT / "nbs/experiments/stage1.ipynb"), **stage}]}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(spec))
    for extra in (["--dry-run"], []):
        with pytest.raises(SystemExit) as e: main([str(tmp_path / "s.yaml"), *extra])
        assert e.value.code == 2 and message in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]


# --- executors ---------------------------------------------------------------------------------

def test_submitit_local_executor(tmp_path):
    "The SLURM code path (submitit), with its local executor: one tiny job (a failing one: its error comes back)."
    spec = _spec(tmp_path, {"dataset": ["B"], "seed": [1], "fail": [True]}, stage2=False)
    t0 = time.perf_counter()
    s = run_sweep(spec, executor="submitit-local", log=None, poll_s=0.2)
    assert time.perf_counter() - t0 < 60
    (o,) = s.outcomes
    assert o["status"] == "failed" and "asked to fail (B)" in o["note"] and _status(o["out_dir"])["status"] == "failed"
    assert Path(o["out_dir"], "notebook.ipynb").is_file() and (tmp_path / "runs" / ".submitit" / "stage1").is_dir()


@pytest.mark.parametrize("executor", ["local", "submitit-local"])
def test_each_job_sees_one_gpu_by_any_name(executor, tmp_path, monkeypatch):
    "GPUs named by UUID or MIG id (as CUDA_VISIBLE_DEVICES may name them) reach the jobs, one per worker; no CUDA is touched here."
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-5f2a0c1e,MIG-7b3d/1/0")
    s = run_sweep(_spec(tmp_path, {"dataset": ["A", "B"], "seed": [1]}, stage2=False), executor=executor, max_workers=2, log=None, poll_s=0.2)
    assert s.counts["finished"] == 2
    seen = [json.loads(Path(o["out_dir"], "metrics.json").read_text())["gpus"] for o in s.outcomes]
    if executor == "submitit-local": assert sorted(seen) == ["GPU-5f2a0c1e", "MIG-7b3d/1/0"]  # a job per slot, slot i on GPU i
    else: assert set(seen) <= {"GPU-5f2a0c1e", "MIG-7b3d/1/0"}  # a worker per GPU; which worker takes which run is up to the pool


def test_local_worker_pool(tmp_path):
    spec = _spec(tmp_path, {"dataset": ["A", "B"], "seed": [1]}, stage2=False)
    s = run_sweep(spec, max_workers=2, log=None)
    assert s.counts == {"finished": 2, "failed": 0, "interrupted": 0, "skipped": 0, "pending": 0}


# --- the results store on a sweep's runs -------------------------------------------------------

def test_load_runs_from_a_sweep_with_broken_directories(tmp_path, monkeypatch):
    spec = _spec(tmp_path, [{"dataset": ["A"], "seed": [1]}, {"dataset": ["B"], "seed": [2], "fail": [True]}])
    run_sweep(spec, log=None)
    root = tmp_path / "runs"
    (root / "stage1" / "truncated").mkdir()
    (root / "stage1" / "truncated" / "status.json").write_text('{"status": "runn')  # a half-written file
    (root / "stage1" / "only-config").mkdir()
    (root / "stage1" / "only-config" / "config.json").write_text("[1, 2]")  # not an object, and no status
    monkeypatch.chdir(ROOT)  # the store is read from elsewhere: stage1_dir (relative) resolves through sweep.json
    with pytest.warns(UserWarning, match="problem"):
        df = load_runs(root)
    st = dict(zip(df.run_id.str.rsplit("-", n=1).str[0], df.status))
    assert st == {"A-s1": "finished", "B-s2-fail": "failed", "A-s1-s10": "finished", "B-s2-fail-s10": "skipped",
                  "truncated": "broken", "only": "missing"}
    rows = df.set_index(df.run_id.str.rsplit("-", n=1).str[0])
    assert "not valid JSON" in rows.loc["truncated", "error"] and "asked to fail (B)" in rows.loc["B-s2-fail", "error"]
    assert "asked to fail (B)" in rows.loc["B-s2-fail-s10", "error"]
    a2 = rows.loc["A-s1-s10"]
    assert (a2["sweep"], a2["stage"], a2["sweep.dataset"], a2["sweep.seed"], a2["score"]) == ("t", "stage2", "A", 10, 11)
    assert (a2["stage1.status"], a2["stage1.seed"], a2["wall_time_s"]) == ("finished", 1, 5.0)
    assert len(df.attrs["problems"]) == 3  # truncated status; only-config: no status.json, config not an object


def test_load_wandb_runs_offline_fails_fast(monkeypatch, tmp_path):
    for k in ("WANDB_API_KEY", "WANDB_MODE", "WANDB_BASE_URL"): monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-such-netrc"))
    t0 = time.perf_counter()
    with pytest.raises(RuntimeError, match="wandb login") as e:
        load_wandb_runs("tsssl-stage1", entity="someone")
    assert time.perf_counter() - t0 < 5 and "load_runs" in str(e.value) and "network" in str(e.value)
