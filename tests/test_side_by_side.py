"""Runs with a fixed thread count (``RunConfig.threads``) and ``reproduce``'s side-by-side stage
(issue 16): the thread count is part of the run id only when set, a run trains with exactly its
threads wherever it trains, and runs trained side by side before the notebooks give the numbers
the notebooks would have computed themselves. Uses the cluster fixture project
(``tests/fixtures/cluster/``: traditional + HLGM + its continuation baseline on a tiny set)."""

from __future__ import annotations

import json

import pytest
import test_cluster
import torch

from saliency_lib import runs as runs_module
from saliency_lib._project import SIDE_BY_SIDE
from saliency_lib.config import RunConfig
from saliency_lib.pipeline import side_by_side
from saliency_lib.pipeline.jobs import prepare_jobs
from saliency_lib.pipeline.runner import reproduce
from saliency_lib.runs import torch_threads, train_or_load

PROFILE, store_snapshot = test_cluster.PROFILE, test_cluster.store_snapshot
project = test_cluster.project  # the fixture: the cluster project in tmp_path, its run store
THREADS_1 = {"training.threads": 1}


def test_threads_joins_the_run_id_only_when_set():
    plain = RunConfig(dataset="synthetic")
    assert "threads" not in plain.identity()  # every run stored before the field keeps its id
    one, two = plain.replace(threads=1), plain.replace(threads=2)
    assert len({plain.run_id, one.run_id, two.run_id}) == 3
    assert RunConfig.from_dict({"dataset": "synthetic", "threads": 1}).run_id == one.run_id
    with pytest.raises(ValueError, match="threads must be >= 1, got 0"):
        RunConfig(threads=0)


def test_torch_threads_sets_and_restores():
    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with torch_threads(None):  # unchanged
        assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError), torch_threads(1):
        raise RuntimeError("restored on error too")
    assert torch.get_num_threads() == before


def test_a_run_trains_with_its_thread_count(tmp_path, monkeypatch):
    seen = []
    monkeypatch.setattr(runs_module, "_train", lambda *a: seen.append(torch.get_num_threads()))
    cfg = RunConfig(dataset="synthetic", dataset_params={"n": 16}, epochs=1, progress=False)
    before = torch.get_num_threads()
    train_or_load(cfg.replace(threads=1), store=tmp_path)
    train_or_load(cfg, store=tmp_path)
    assert seen == [1, before] and torch.get_num_threads() == before


def test_side_by_side_selects_missing_runs_with_threads(project):
    dirs, store = project["dirs"], project["store"]
    assert side_by_side.side_by_side_runs(prepare_jobs(PROFILE, "grid_a", **dirs), store) == []
    jobs = prepare_jobs(PROFILE, "grid_*", sets=THREADS_1, **dirs)
    runs = side_by_side.side_by_side_runs(jobs, store)
    # grid_a: traditional, HLGM, its baseline; grid_b adds SGT and shares the traditional run
    assert [r.config.method for r in runs] == ["traditional", "hlgm", "traditional", "sgt"]
    assert runs[0].notebooks == ["grid_a", "grid_b"] and runs[2].depends_on == runs[1].run_id
    assert side_by_side.processes_for(runs, cpus=2) == 2
    assert side_by_side.processes_for(runs, cpus=1) == 1
    wide = [r.__class__(**{**r.__dict__, "config": r.config.replace(threads=2)}) for r in runs]
    assert side_by_side.processes_for(wide, cpus=2) == 1


@pytest.mark.slow
def test_side_by_side_gives_the_notebooks_numbers(project, monkeypatch):
    """The same runs trained by the notebook (``side_by_side=False``) and by the stage (two
    worker processes) hold identical histories and weights; the notebook then trains nothing,
    and the stage's time is in timings.json."""
    dirs, tmp = project["dirs"], project["tmp"]
    monkeypatch.setattr(side_by_side.os, "cpu_count", lambda: 2)
    stores = {}
    for mode in (False, True):
        store = tmp / f"runs-{mode}"
        monkeypatch.setenv("SALIENCY_RUN_STORE", str(store))
        out = tmp / f"out-{mode}"
        if mode:  # the stage alone first, to see that the notebook then trains nothing
            jobs = prepare_jobs(PROFILE, "grid_a", sets=THREADS_1, check_data=False, **dirs)
            stage = side_by_side.train_side_by_side(jobs, store, tmp / "logs", print)
            assert stage["runs"] == 3 and stage["processes"] == 2 and not stage["failed"]
            before = store_snapshot(store)
        results = reproduce(
            PROFILE, "grid_a", output_root=out, progress=False, check_data=False,
            sets=THREADS_1, side_by_side=mode,
            **dirs,
        )  # fmt: skip
        assert [r.status for r in results] == ["complete"], results[0].error
        timings = json.loads((out / PROFILE / "timings.json").read_text())
        assert (SIDE_BY_SIDE in [t["name"] for t in timings]) is False  # nothing left to train
        stores[mode] = store
    assert store_snapshot(stores[True]) == before
    ids = sorted(p.name for p in stores[False].iterdir())
    assert ids == sorted(p.name for p in stores[True].iterdir()) and len(ids) == 3
    for run_id in ids:
        a, b = (json.loads((stores[m] / run_id / "run.json").read_text()) for m in (False, True))
        timeless = [[{k: v for k, v in h.items() if k != "seconds"} for h in r["history"]]
                    for r in (a, b)]  # fmt: skip
        assert timeless[0] == timeless[1], run_id
        wa, wb = (
            torch.load(stores[m] / run_id / "best.pt", weights_only=True) for m in (False, True)
        )
        wa, wb = wa.get("model", wa), wb.get("model", wb)
        assert all(torch.equal(wa[k], wb[k]) for k in wa), run_id


@pytest.mark.slow
def test_reproduce_times_its_side_by_side_stage(project, monkeypatch):
    dirs, tmp = project["dirs"], project["tmp"]
    monkeypatch.setattr(side_by_side.os, "cpu_count", lambda: 2)
    out = tmp / "out"
    results = reproduce(
        PROFILE, "grid_a", output_root=out, progress=False, check_data=False, sets=THREADS_1,
        side_by_side=True, **dirs,
    )  # fmt: skip
    assert [r.status for r in results] == ["complete"], results[0].error
    timings = {t["name"]: t for t in json.loads((out / PROFILE / "timings.json").read_text())}
    stage = timings[SIDE_BY_SIDE]
    assert stage["runs"] == 3 and stage["processes"] == 2 and stage["status"] == "complete"
    assert stage["seconds"] > 0


def test_report_lists_the_stage_and_ignores_a_later_summary(tmp_path):
    from saliency_lib.report import build_report, end_to_end_line

    profile_dir = tmp_path / "cpu"
    profile_dir.mkdir()
    end = {"seconds": 600.0, "finished": "2026-12-01T10:00:00+00:00", "notebooks": 2}
    (profile_dir / "end_to_end.json").write_text(json.dumps(end))
    timings = [
        {"name": "a", "seconds": 60.0, "finished": "2026-12-01T09:59:00+00:00"},
        {"name": SIDE_BY_SIDE, "seconds": 480.0, "status": "complete", "runs": 5, "processes": 2,
         "finished": "2026-12-01T09:58:00+00:00"},
        {"name": "summary", "seconds": 5.0, "finished": "2026-12-01T11:00:00+00:00"},
    ]  # fmt: skip
    (profile_dir / "timings.json").write_text(json.dumps(timings))
    assert "run again since" not in end_to_end_line(profile_dir)  # the summary computes nothing
    text = build_report("cpu", tmp_path).read_text()
    row = next(line for line in text.splitlines() if line.startswith(f"| {SIDE_BY_SIDE}"))
    assert "5 runs, 2 at a time" in row and row.endswith("| complete | 8.0 |")
    assert "Sum of the recorded times: 8.0 minutes" in text  # a's folder is absent: not counted


def test_runs_start_longest_first_by_the_cost_model(project, monkeypatch):
    """The stage hands the executor its runs longest first by the configuration's cost model
    (more epochs, images or saliency passes cost more; evaluating only the final epoch costs
    less) and records each run's seconds for a later replay (benchmarks/schedule.py)."""
    from saliency_lib.pipeline.executors import TrainResult

    base = RunConfig(dataset="fashion_mnist", train_subset=2000, test_subset=5000, epochs=4,
                     threads=1)  # fmt: skip
    cost = side_by_side.estimated_seconds
    assert cost(base.replace(epochs=40)) == pytest.approx(10 * cost(base))
    assert cost(base.replace(method="sgt", method_params={})) > cost(base)
    assert cost(base.replace(method="smoot", method_params={})) > cost(base)
    assert cost(base.replace(train_subset=4000)) > cost(base)
    assert cost(base.replace(test_eval="final_epoch")) < cost(base)
    assert cost(base, epochs=2) == pytest.approx(cost(base) / 2)

    dirs, store = project["dirs"], project["store"]
    monkeypatch.setattr(side_by_side.os, "cpu_count", lambda: 2)
    jobs = prepare_jobs(PROFILE, "grid_*", sets=THREADS_1, **dirs)
    planned = side_by_side.side_by_side_runs(jobs, store)
    expected = sorted(planned, key=lambda r: -cost(r.config, r.epochs_to_train))
    seen = []

    def fake_train_runs(runs, *args, **kwargs):
        seen.extend(runs)
        return [TrainResult(r.run_id, "complete", info={"seconds": 1.5}) for r in runs]

    monkeypatch.setattr(side_by_side, "train_runs", fake_train_runs)
    stage = side_by_side.train_side_by_side(jobs, store, project["tmp"] / "logs", print)
    assert [r.run_id for r in seen] == [r.run_id for r in expected]
    assert {r.config.method for r in seen[:2]} == {"hlgm", "sgt"}  # the saliency runs first
    assert stage["run_seconds"] == {r.run_id: 1.5 for r in planned}
