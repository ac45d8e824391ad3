"""Cluster training (issue #6): ``plan`` and ``train`` through submitit, on the fixture project
``tests/fixtures/cluster/``: one training notebook (``train_grid.ipynb``, the run-grid parameters
of the real notebooks) copied under the names of the params files in ``params/smoke/``:

* ``grid_a``: traditional + HLGM on a tiny synthetic set (5 epochs), so an HLGM continuation
  baseline (wave 2);
* ``grid_b``: shares grid_a's traditional run, adds an SGT run;
* ``grid_off``: ``enabled: false``, contributes nothing.

The end-to-end test trains grid_a with submitit's local executor (real job processes), then the
run left (grid_b's SGT run) with its debug executor (in-process). The HLGM job is preempted by
sending it the preemption/timeout signal (USR2, what Slurm sends before a time limit) once its
first epoch is checkpointed: submitit calls the job's checkpoint hook, requeues it, and it
resumes from ``last.pt``. The notebook then runs with papermill and must train nothing, which is
asserted from the run store (no new file, no modified file).

The Slurm executor runs against a real cluster in ``tests/test_slurm_real.py``; here only what a
CPU-only one-node cluster cannot give (GPU requests, site accounts) uses submitit's mocked sbatch.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from pathlib import Path

import pytest

from saliency_lib.__main__ import main
from saliency_lib.config import RunConfig
from saliency_lib.grid import grid_run_ids, notebook_grid
from saliency_lib.pipeline.executors import ClusterOptions, TrainJob, make_executor, train
from saliency_lib.pipeline.params import load_params, notebook_parameters
from saliency_lib.pipeline.plan import Plan, format_plan, plan
from saliency_lib.pipeline.runner import reproduce
from saliency_lib.runs import checkpointed_epoch, is_complete

FIXTURE = Path(__file__).parent / "fixtures" / "cluster"
PROFILE = "smoke"


@pytest.fixture
def project(tmp_path, monkeypatch):
    """Notebooks (copies of the fixture, one per params file) and a run store in tmp_path; the
    store is also ``$SALIENCY_RUN_STORE`` so the notebooks' kernels use it."""
    nb_dir = tmp_path / "notebooks"
    nb_dir.mkdir()
    source = (FIXTURE / "notebooks" / "train_grid.ipynb").read_text()
    for params in sorted((FIXTURE / "params" / PROFILE).glob("*.yaml")):
        name = params.stem
        text = source.replace('Experiment(\\"train_grid\\"', f'Experiment(\\"{name}\\"')
        (nb_dir / f"{name}.ipynb").write_text(text)
    store = tmp_path / "runs"
    monkeypatch.setenv("SALIENCY_RUN_STORE", str(store))
    dirs = {"notebooks_dir": nb_dir, "params_dir": FIXTURE / "params"}
    return {"dirs": dirs, "store": store, "tmp": tmp_path}


DEBUG = ClusterOptions("debug")


def expected_ids(name: str, dirs: dict) -> list[str]:
    """Run ids of notebook ``name`` straight from its parameters (what the notebook trains)."""
    params = notebook_parameters(Path(dirs["notebooks_dir"]) / f"{name}.ipynb")
    params.update(load_params(name, PROFILE, dirs["params_dir"]))
    return grid_run_ids(notebook_grid(params))


def store_snapshot(store: Path) -> dict[str, int]:
    """Every file of the run store with its modification time (ns)."""
    return {
        str(p.relative_to(store)): p.stat().st_mtime_ns for p in store.rglob("*") if p.is_file()
    }


# --------------------------------------------------------------------------- plan


def test_plan_lists_runs_once_with_dependencies_and_disabled(project):
    dirs, store = project["dirs"], project["store"]
    runs = plan(PROFILE, store=store, **dirs)
    assert isinstance(runs, Plan) and isinstance(runs, list)
    ids = [r.run_id for r in runs]
    want = list(dict.fromkeys(expected_ids("grid_a", dirs) + expected_ids("grid_b", dirs)))
    assert ids == want and len(ids) == 4  # traditional shared by grid_a and grid_b
    by_method = {}
    for r in runs:
        if not r.depends_on:
            by_method.setdefault((r.config.method, r.config.epochs), []).append(r)
    shared = by_method[("traditional", 5)]
    assert len(shared) == 1 and shared[0].notebooks == ["grid_a", "grid_b"]
    (hlgm,) = by_method[("hlgm", 5)]
    continuation = [r for r in runs if r.depends_on]
    assert len(continuation) == 1 and continuation[0].depends_on == hlgm.run_id
    assert continuation[0].config.continue_from == hlgm.run_id
    assert not any(r.complete for r in runs) and runs.epochs_to_train == 4 * 5
    assert runs.disabled == [("grid_off", "needs a GPU")]
    assert not any("grid_off" in r.notebooks for r in runs)

    text = format_plan(runs)
    assert all(i in text for i in ids)
    assert "4 runs: 0 complete, 4 missing; 20 epochs to train" in text
    assert "disabled grid_off: needs a GPU" in text

    # --seeds overrides `seeds` as the runner does; --only selects notebooks
    two = plan(PROFILE, only="grid_b", seeds=2, store=store, **dirs)
    assert sorted((r.config.method, r.config.seed) for r in two) == [
        ("sgt", 0),
        ("sgt", 1),
        ("traditional", 0),
        ("traditional", 1),
    ]


def test_plan_and_train_cli(project, capsys, monkeypatch):
    dirs = project["dirs"]
    flags = ["--notebooks-dir", str(dirs["notebooks_dir"]), "--params-dir", str(dirs["params_dir"])]
    assert main(["plan", "--profile", PROFILE, "--only", "grid_b", *flags]) == 0
    out = capsys.readouterr().out
    assert "2 runs: 0 complete, 2 missing; 10 epochs to train" in out
    assert all(i in out for i in expected_ids("grid_b", dirs))
    # --set as in reproduce: other run ids, checked like the files' values
    assert main(["plan", "--profile", PROFILE, "--only", "grid_b", *flags,
                 "--set", "training.epochs=2"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "4 epochs to train" in out and not any(i in out for i in expected_ids("grid_b", dirs))
    assert main(["train", "--profile", PROFILE, "--only", "grid_b", *flags,
                 "--set", "training.epochs=-2"]) == 2  # fmt: skip
    assert "training.epochs: must be in [1, 10000], got -2" in capsys.readouterr().err
    # validation errors: one line, exit 2, before anything is submitted
    bad = [
        ["--executor", "local", "--partition", "gpu"],
        ["--executor", "local", "--jobs", "0"],
        ["--executor", "slurm"],  # no sbatch (hidden below: a machine may have one)
        ["--executor", "debug", "--only", "nope"],
    ]
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    for extra in bad:
        assert main(["train", "--profile", PROFILE, *extra, *flags]) == 2, extra
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1, err
    assert not project["store"].exists()


def test_plan_of_the_real_smoke_profile(tmp_path):
    runs = plan("smoke", only="smoot_fig1_motivation", store=tmp_path)
    assert len(runs) >= 1 and not any(r.complete for r in runs)
    assert all(r.notebooks == ["smoot_fig1_motivation"] for r in runs)


# --------------------------------------------------------------------------- the job


def test_job_callable_checkpoint_requeues_the_same_call(tmp_path):
    job = TrainJob()
    cfg = RunConfig(dataset="synthetic", epochs=1).to_dict()
    delayed = job.checkpoint(cfg, str(tmp_path))
    assert delayed.function is job and delayed.args == (cfg, str(tmp_path))
    # catch_errors (the debug executor) reports a failure instead of raising
    bad = {**cfg, "dataset_params": {"no_such_param": 1}}
    out = TrainJob(catch_errors=True)(bad, str(tmp_path))
    assert out["status"] == "failed" and "no_such_param" in out["error"]


def test_slurm_gpu_and_account_parameters(tmp_path):
    """What the CPU-only test cluster of tests/test_slurm_real.py cannot run (the sbatch script
    of every other option is checked there, on real submissions): a GPU per job, a partition
    and an account that exist only on a real site, written by submitit's mocked sbatch."""
    from submitit.slurm.test_slurm import mocked_slurm

    with mocked_slurm():
        options = ClusterOptions(
            "slurm",
            partition="gpu",
            gpus_per_job=1,
            max_parallel=4,
            cpus_per_job=6,
            slurm_params=["account=proj"],
        )
        ex = make_executor(options, tmp_path / "logs", profile="paper")
        cfgs = [RunConfig(dataset="synthetic", seed=s).to_dict() for s in range(5)]
        jobs = ex.map_array(TrainJob(require_gpu=True), cfgs, [str(tmp_path)] * 5)
    assert len(jobs) == 5 and len({j.job_id.split("_")[0] for j in jobs}) == 1  # one array
    (script,) = (tmp_path / "logs").rglob("*_submission.sh")
    sbatch = script.read_text()
    for line in ["--array=0-4%4", "--partition=gpu", "--gpus-per-node=1", "--account=proj"]:
        assert f"#SBATCH {line}" in sbatch, line


# --------------------------------------------------------------------------- local scheduling


class _TimedJob:
    """A fake local job that is done once the fake clock reaches ``end`` (and then fails when
    ``fail``)."""

    def __init__(self, run_id, end, fail, clock):
        self.run_id, self.end, self.fail, self.clock = run_id, end, fail, clock
        self.job_id, self.paths = run_id, None

    def done(self):
        return self.clock[0] >= self.end

    def exception(self):
        return RuntimeError("boom") if self.fail else None

    def result(self):
        if self.fail:
            raise RuntimeError("boom")
        return {"run_id": self.run_id, "status": "complete"}


def test_local_continuation_starts_when_its_run_completes(monkeypatch, tmp_path):
    """Local processes: an HLGM continuation is submitted as soon as its own run completes,
    ahead of independent runs still queued (no idle slot waiting for a second wave); one whose
    run fails is skipped and never submitted."""
    from types import SimpleNamespace

    from saliency_lib.pipeline import executors as cluster

    def planned(seed, depends_on=None):
        config = RunConfig(method="traditional", dataset="synthetic", model="cnn2", seed=seed,
                           epochs=1, progress=False)  # fmt: skip
        return cluster.PlannedRun(config.run_id, config, ["nb"], depends_on, False)

    a, c, d, e, f = (planned(s) for s in range(5))  # a: short; e: fails
    b, g = planned(10, depends_on=a.run_id), planned(11, depends_on=e.run_id)
    ticks = {a.run_id: 1, c.run_id: 5, d.run_id: 2, e.run_id: 1, f.run_id: 1, b.run_id: 1}
    clock, submitted = [0], []

    class Executor:
        def submit(self, fn, config_dict, store):
            run_id = RunConfig.from_dict(dict(config_dict)).run_id
            submitted.append((run_id, clock[0]))
            return _TimedJob(run_id, clock[0] + ticks[run_id], run_id == e.run_id, clock)

    monkeypatch.setattr(cluster, "make_executor", lambda *args: Executor())
    monkeypatch.setattr(cluster, "is_complete", lambda config, store: True)
    monkeypatch.setattr(
        cluster, "time", SimpleNamespace(sleep=lambda s: clock.__setitem__(0, clock[0] + 1))
    )
    said = []
    options = ClusterOptions("local", jobs=2, poll_seconds=0)
    results = cluster.train_runs(
        [a, c, d, e, f, b, g], options, tmp_path, tmp_path, say=said.append
    )

    order = [run_id for run_id, _ in submitted]
    assert order == [a.run_id, c.run_id, b.run_id, d.run_id, e.run_id, f.run_id]
    assert dict(submitted)[b.run_id] == ticks[a.run_id]  # the tick its run completed
    status = {r.run_id: r.status for r in results}
    assert status.pop(e.run_id) == "failed" and status.pop(g.run_id) == "skipped"
    assert set(status.values()) == {"complete"} and len(results) == 7
    assert "each of 2 HLGM continuations starts when its run completes" in said[0]
    assert any(f"SKIPPED {g.run_id}: needs run {e.run_id}" in line for line in said)


# --------------------------------------------------------------------------- end to end


def _task_pids(controller_pid: int) -> list[int]:
    """The task processes a submitit local controller started (its children)."""
    pids = []
    for tid in os.listdir(f"/proc/{controller_pid}/task"):
        try:
            pids += [
                int(p)
                for p in Path(f"/proc/{controller_pid}/task/{tid}/children").read_text().split()
            ]
        except OSError:
            pass
    return pids


def test_end_to_end_local_jobs_preempted_job_resumes_notebook_trains_nothing(project):
    dirs, store, tmp = project["dirs"], project["store"], project["tmp"]
    planned = plan(PROFILE, "grid_a", store=store, **dirs)
    assert len(planned) == 3 and not any(r.complete for r in planned)
    hlgm = next(r for r in planned if r.config.method == "hlgm")
    submitted: list[tuple[str, bool | None]] = []
    interrupted: dict = {}

    def preempt(job, run):  # USR2 to the task once its first epoch is checkpointed
        last = store / run.run_id / "last.pt"
        deadline = time.time() + 120
        while not last.exists() and time.time() < deadline:
            time.sleep(0.005)
        interrupted["epoch"] = checkpointed_epoch(run.config, store)
        for pid in _task_pids(job._process.pid):
            os.kill(pid, signal.SIGUSR2)
            interrupted["pid"] = pid

    threads = []

    by_id = {r.run_id: r for r in planned}

    def on_submit(job, run):  # records whether the run's dependency was complete by then
        dep = by_id[run.depends_on].config if run.depends_on else None
        submitted.append((run.run_id, None if dep is None else is_complete(dep, store)))
        if run.run_id == hlgm.run_id:
            threads.append(threading.Thread(target=preempt, args=(job, run), daemon=True))
            threads[-1].start()

    results = train(
        PROFILE,
        "grid_a",
        options=ClusterOptions("local", jobs=2, poll_seconds=0.2),
        store=store,
        log_dir=tmp / "logs",
        on_submit=on_submit,
        **dirs,
    )
    for t in threads:
        t.join(timeout=5)

    # jobs submitted, every run written
    assert sorted(r.run_id for r in results) == sorted(r.run_id for r in planned)
    assert all(r.ok for r in results), [(r.run_id, r.error) for r in results]
    assert all(is_complete(r.config, store) for r in planned)
    # the continuation baseline went in wave 2, after its HLGM run was complete
    assert [dep for _, dep in submitted] == [None, None, True]

    # the preempted job was requeued and resumed from its checkpoint: every epoch once
    assert 1 <= interrupted["epoch"] < 5 and "pid" in interrupted
    res = next(r for r in results if r.run_id == hlgm.run_id)
    assert 1 <= res.info["resumed_after_epoch"] < 5
    log = res.log.read_text()
    assert "Requeued job" in log and "resuming after epoch" in log
    history = json.loads((store / hlgm.run_id / "run.json").read_text())["history"]
    assert [h["epoch"] for h in history] == [1, 2, 3, 4, 5]

    # debug executor (in this process), whole profile: only grid_b's SGT run is missing (its
    # traditional run is grid_a's); then nothing is left to train
    (sgt,) = train(PROFILE, options=DEBUG, store=store, log_dir=tmp / "logs", **dirs)
    assert sgt.ok and sgt.run_id.startswith("sgt-") and sgt.job_id.startswith("DEBUG_")
    assert all(r.complete for r in plan(PROFILE, store=store, **dirs))
    assert train(PROFILE, options=DEBUG, store=store, log_dir=tmp / "logs", **dirs) == []

    # the notebook then finds every run in the store and trains nothing
    before = store_snapshot(store)
    out = reproduce(
        PROFILE, "grid_a", output_root=tmp / "outputs", progress=False, check_data=False, **dirs
    )
    assert [r.status for r in out] == ["complete"], out[0].error
    assert store_snapshot(store) == before  # no new run folder or file, nothing rewritten
    metrics = json.loads((tmp / "outputs" / PROFILE / "grid_a" / "metrics.json").read_text())
    assert metrics["results"]["run_ids"] == expected_ids("grid_a", dirs)
