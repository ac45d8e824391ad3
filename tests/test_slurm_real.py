"""``train --executor slurm`` against a real one-node Slurm cluster
(``tests/engines/slurm_cluster.py``: slurmctld, slurmd, slurmdbd and munged from Debian's packages,
started for this module), on the smoke profile's training runs, through the command line a user
types:

* job arrays and ``--runs-per-job`` packing, a packed job requeued mid-run with ``scontrol
  requeue`` (its runs resume from their last epoch and end with the weights of uninterrupted
  runs), the HLGM continuation submitted only after its HLGM run ended (Slurm's own start and
  end times), then ``reproduce`` loading every run without training;
* a job reaching a 2-minute time limit: Slurm sends USR2 before the limit, the job checkpoints
  and requeues itself, resumes, completes with the weights of an uninterrupted run;
* ``scancel`` mid-run: ``train`` reports the run failed; the store holds no complete-looking run;
* sbatch refusing the jobs (unknown partition, a ``--slurm`` value the cluster cannot satisfy) or
  a bad ``--slurm`` argument: one line, exit 2, nothing submitted.

The uninterrupted reference runs train in a separate process on one thread (as the jobs do:
``--cpus-per-job 1``) while the cluster works. Skipped, with one line saying what to install,
where the Debian packages are missing and cannot be installed (not root, no apt-get).
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from engines import slurm_cluster

from saliency_lib.__main__ import main
from saliency_lib.pipeline.executors import ClusterOptions, train_runs
from saliency_lib.pipeline.plan import plan
from saliency_lib.runs import torch_threads, train_or_load

ROOT = Path(__file__).resolve().parents[1]
PROFILE = "smoke"
HLGM_NB, SMOOT_NB = "hlgm_fig2_5_tab2_accuracy", "smoot_fig1_motivation"
#: scenario 1's epochs (smoke: 4 and 1): enough left at the requeue that no run can finish
#: before Slurm acts on it (8 epochs, about 2 s a run, finished before the SIGTERM arrived: the
#: requeue reached the job some 15 s after ``scontrol requeue`` on a loaded machine)
EPOCHS = 60
SETS = {"training.epochs": EPOCHS}
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    reason = slurm_cluster.install(say=lambda msg: print(msg, flush=True))
    if reason is None and os.geteuid() != 0:
        reason = "slurmd starts the jobs as root here: run the tests as root"
    if reason:
        pytest.skip(f"real Slurm cluster: {reason}")
    with slurm_cluster.SlurmCluster(tmp_path_factory.mktemp("slurm")) as c:
        print(f"\nSlurm cluster up in {c.started_in:.1f} s ({c.root})")
        yield c


@pytest.fixture(scope="module")
def trained(cluster, tmp_path_factory):
    """Scenario 1 (run once, checked by the next tests): the store, outputs and evidence."""
    return _train_pack_requeue(cluster, tmp_path_factory.mktemp("arrays"))


# --------------------------------------------------------------------------- helpers


def cli(cluster, *args: str, env: dict | None = None) -> subprocess.Popen:
    """``python -m saliency_lib ARGS`` from the repository, on the cluster (``SLURM_CONF``)."""
    return subprocess.Popen(
        [sys.executable, "-m", "saliency_lib", *args],
        cwd=ROOT,
        env={**os.environ, **cluster.env, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen, timeout: float = 600) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def train_args(store: Path, logs: Path, *extra: str) -> list[str]:
    return ["train", "--profile", PROFILE, "--executor", "slurm", "--partition",
            slurm_cluster.PARTITION, "--cpus-per-job", "1", "--store", str(store),
            "--log-dir", str(logs), *extra]  # fmt: skip


def epoch_of(run_dir: Path) -> int:
    """The epoch ``last.pt`` holds (0: none yet)."""
    try:
        return int(torch.load(run_dir / "last.pt", map_location="cpu", weights_only=True)["epoch"])
    except (OSError, RuntimeError, KeyError, EOFError):
        return 0


def wait_for(predicate, what: str, proc: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc.poll() is not None:
            raise AssertionError(f"train ended ({proc.returncode}) before {what}: {finish(proc)}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} after {timeout:.0f} s")
        time.sleep(0.05)


def wait_until_idle(cluster, timeout: float = 120) -> None:
    """Until no job is in the queue (a cancelled job stays COMPLETING for a moment)."""
    deadline = time.monotonic() + timeout
    while (queue := cluster.run("squeue", "--noheader")).strip():
        if time.monotonic() > deadline:
            raise AssertionError(f"jobs still queued after {timeout:.0f} s:\n{queue}")
        time.sleep(0.2)


def running_jobs(cluster) -> list[str]:
    return cluster.run("squeue", "--noheader", "--states=R", "--format=%i").split()


def sacct(cluster, *job_ids: str) -> list[dict[str, str]]:
    """Every record (requeued incarnations too) of the jobs, as dicts."""
    out = cluster.run("sacct", "--duplicates", "--allocations", "--parsable2", "--noheader",
                      "--format=JobID,State,Start,End", "--jobs", ",".join(job_ids))  # fmt: skip
    keys = ("JobID", "State", "Start", "End")
    return [dict(zip(keys, line.split("|"), strict=True)) for line in out.splitlines()]


def reference(configs: list[dict], store: Path) -> subprocess.Popen:
    """Train ``configs`` uninterrupted, in order, in another process on one thread (what the
    jobs use with ``--cpus-per-job 1``), into ``store``."""
    code = ("import json, sys\nfrom saliency_lib.pipeline.executors import TrainJob\n"
            "for c in json.load(sys.stdin):\n    TrainJob(threads=1)(c, sys.argv[1])")  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-c", code, str(store)], cwd=ROOT,
                            stdin=subprocess.PIPE, text=True)  # fmt: skip
    proc.stdin.write(json.dumps(configs))
    proc.stdin.close()
    return proc


def compare_weights(run_id: str, store: Path, ref: Path) -> str:
    """Fails unless the run's final weights (``last.pt``) and per-epoch history equal the
    reference's; returns a one-line account."""
    a = torch.load(store / run_id / "last.pt", map_location="cpu", weights_only=True)
    b = torch.load(ref / run_id / "last.pt", map_location="cpu", weights_only=True)
    assert a["epoch"] == b["epoch"]
    differ = [k for k in b["model"] if not torch.equal(a["model"][k], b["model"][k])]
    assert not differ, f"{run_id}: weights differ from the uninterrupted run: {differ}"

    def history(path):
        rows = json.loads((path / run_id / "run.json").read_text())["history"]
        return [{k: v for k, v in h.items() if k != "seconds"} for h in rows]

    assert history(store) == history(ref)
    n = sum(t.numel() for t in b["model"].values())
    return (f"{run_id}: {len(b['model'])} tensors, {n} weights bit-identical to the "
            f"uninterrupted run after epoch {b['epoch']}")  # fmt: skip


def store_snapshot(store: Path) -> dict[str, int]:
    return {str(p.relative_to(store)): p.stat().st_mtime_ns for p in store.rglob("*")
            if p.is_file() and p.name != "lock"}  # fmt: skip


# --------------------------------------------------------------------------- scenario 1


def _train_pack_requeue(cluster, tmp: Path) -> dict:
    store, logs, ref = tmp / "runs", tmp / "logs", tmp / "reference"
    planned = plan(PROFILE, [HLGM_NB, SMOOT_NB], store=store, sets=SETS)
    by_method = {(r.config.method, bool(r.depends_on)): r for r in planned}
    sgt, hlgm = by_method[("sgt", False)], by_method[("hlgm", False)]
    cont = by_method[("traditional", True)]
    assert len(planned) == 4 and cont.depends_on == hlgm.run_id
    refs = reference([sgt.config.to_dict(), hlgm.config.to_dict()], ref)

    t0 = time.monotonic()
    only = ["--only", HLGM_NB, "--only", SMOOT_NB, "--set", f"training.epochs={EPOCHS}"]
    proc = cli(cluster, *train_args(store, logs, *only, "--runs-per-job", "2"))
    # task 0 of the first array packs the SGT and HLGM runs: requeue it once both have an
    # epoch checkpointed
    packed = [store / sgt.run_id, store / hlgm.run_id]
    wait_for(lambda: all(epoch_of(d) >= 1 for d in packed), "a checkpointed epoch", proc)
    epochs_at_requeue = [epoch_of(d) for d in packed]
    (task,) = [j for j in running_jobs(cluster) if j.endswith("_0")]
    cluster.run("scontrol", "requeue", task)
    code, out, err = finish(proc)
    seconds = time.monotonic() - t0
    assert refs.wait(timeout=600) == 0
    print(out)
    assert code == 0, err
    return dict(store=store, logs=logs, ref=ref, out=out, task=task, seconds=seconds,
                epochs_at_requeue=epochs_at_requeue, planned=planned, sgt=sgt, hlgm=hlgm,
                cont=cont)  # fmt: skip


def test_job_array_packed_jobs_and_requeue_resume(cluster, trained):
    out, sgt, hlgm = trained["out"], trained["sgt"], trained["hlgm"]
    array = trained["task"].split("_")[0]
    # wave 1: one array of two jobs, the first packing SGT + HLGM, the second the SMOOT run
    assert f"submitted job array {array} (2 jobs, 3 runs)" in out
    assert "up to 2 cnn2 runs per job (processes)" in out
    script = (trained["logs"] / array / f"{array}_submission.sh").read_text()
    for line in ["--array=0-1%2", f"--partition={slurm_cluster.PARTITION}", "--cpus-per-task=1",
                 "--signal=USR2@90", "--time=240", "--job-name=saliency-smoke"]:  # fmt: skip
        assert f"#SBATCH {line}\n" in script, line
    # the packed job was requeued by Slurm, ran again, and both its runs resumed
    records = sacct(cluster, trained["task"])
    states = [r["State"] for r in records]
    assert states[0] == "REQUEUED" and states[-1] == "COMPLETED", records
    for run, at in zip((sgt, hlgm), trained["epochs_at_requeue"], strict=True):
        resumed = re.search(rf"complete {run.run_id} in [\d.]+s \(resumed after epoch (\d)\)", out)
        assert resumed and at <= int(resumed.group(1)) < EPOCHS, (run.run_id, at, out)
    task = trained["task"]
    log = (trained["logs"] / task / f"{task}_0_log.out").read_text()
    assert log.count("Starting with JobEnvironment") == 2 and log.count("resuming after") == 2
    for run in (sgt, hlgm):
        print(compare_weights(run.run_id, trained["store"], trained["ref"]))
    print(f"requeued {trained['task']} at epochs {trained['epochs_at_requeue']}: {states}; "
          f"train took {trained['seconds']:.0f} s")  # fmt: skip


def test_hlgm_continuation_starts_after_its_run(cluster, trained):
    out, cont = trained["out"], trained["cont"]
    wave2 = re.search(r"wave 2: 1 HLGM continuation runs .*\n  submitted job array (\d+) ", out)
    assert wave2, out
    hlgm_end = sacct(cluster, trained["task"])[-1]["End"]
    cont_start = sacct(cluster, wave2.group(1))[-1]["Start"]
    assert cont_start >= hlgm_end, (cont_start, hlgm_end)  # ISO times: string order
    assert f"complete {cont.run_id}" in out
    assert out.index(f"complete {trained['hlgm'].run_id}") < out.index("wave 2:")
    print(f"HLGM job {trained['task']} ended {hlgm_end}; continuation job {wave2.group(1)} "
          f"started {cont_start}")  # fmt: skip


def test_reproduce_loads_every_run_without_training(cluster, trained, tmp_path):
    store = trained["store"]
    assert all(r.complete for r in plan(PROFILE, [HLGM_NB, SMOOT_NB], store=store, sets=SETS))
    before = store_snapshot(store)
    env = {"SALIENCY_RUN_STORE": str(store)}
    proc = cli(cluster, "reproduce", "--profile", PROFILE, "--only", HLGM_NB, "--output-root",
               str(tmp_path), "--set", f"training.epochs={EPOCHS}", env=env)  # fmt: skip
    code, out, err = finish(proc)
    assert code == 0, err
    assert store_snapshot(store) == before  # nothing trained, nothing rewritten
    metrics = json.loads((tmp_path / PROFILE / HLGM_NB / "metrics.json").read_text())
    ids = {r.run_id for r in trained["planned"] if HLGM_NB in r.notebooks}
    assert set(metrics["provenance"]) == ids and metrics["status"] == "complete"
    assert "loading (complete in the store)" in out + err


# --------------------------------------------------------------------------- time limit


def test_time_limit_usr2_checkpoint_requeue_completes(cluster, tmp_path):
    """A 2-minute limit with USR2 asked 60 s before it (``--timeout-min 2 --slurm
    signal_delay_s=60``). slurmctld signals at its first 30-s check once less than the delay +
    30 s remain, so each start of the job gets USR2 30-60 s in (after Python and submitit's
    handler are up). The run is made to train for about a minute (its epoch time measured here
    first, on one thread), so the first start is always interrupted mid-run; the job is
    requeued as often as it takes."""
    store, logs, ref = tmp_path / "runs", tmp_path / "logs", tmp_path / "reference"
    (probe,) = plan(PROFILE, SMOOT_NB, store=tmp_path / "probe")  # the smoke run: one epoch
    with torch_threads(1):
        per_epoch = train_or_load(probe.config, tmp_path / "probe", progress=False).history
    per_epoch = per_epoch[-1]["seconds"]
    epochs = min(300, max(10, math.ceil(60 / per_epoch)))
    sets = ["--set", f"training.epochs={epochs}"]
    (run,) = plan(PROFILE, SMOOT_NB, store=store, sets={"training.epochs": epochs})
    refs = reference([run.config.to_dict()], ref)
    t0 = time.monotonic()
    proc = cli(cluster, *train_args(store, logs, "--only", SMOOT_NB, *sets, "--timeout-min", "2",
                                    "--slurm", "signal_delay_s=60"))  # fmt: skip
    code, out, err = finish(proc)
    seconds = time.monotonic() - t0
    assert refs.wait(timeout=600) == 0
    print(out)
    assert code == 0, err
    resumed = re.search(rf"complete {run.run_id} in [\d.]+s \(resumed after epoch (\d+)\)", out)
    assert resumed and 1 <= int(resumed.group(1)) < epochs, out
    (job,) = [p.name for p in logs.iterdir() if p.is_dir()]
    script = (logs / job / f"{job}_submission.sh").read_text()
    assert "#SBATCH --time=2\n" in script and "#SBATCH --signal=USR2@60\n" in script
    log = (logs / job / f"{job}_0_log.out").read_text()
    caught = log.count("Caught signal SIGUSR2")
    assert caught >= 1 and log.count("this job is timed-out") == caught
    assert log.count("Requeued job") == caught
    assert log.count("Starting with JobEnvironment") == caught + 1
    assert log.count("Job completed successfully") == 1
    assert log.rindex("Job completed successfully") > log.rindex("Requeued job")
    states = [r["State"] for r in sacct(cluster, job)]
    # the last start may still receive its USR2 just after writing its result (Slurm then
    # records it FAILED): the result is what train reads
    assert states[:-1] == ["REQUEUED"] * caught and len(states) == caught + 1, states
    history = json.loads((store / run.run_id / "run.json").read_text())["history"]
    assert [h["epoch"] for h in history] == list(range(1, epochs + 1))
    print(compare_weights(run.run_id, store, ref))
    print(f"{epochs} epochs ({per_epoch:.2f} s each, measured alone): USR2 {caught} time(s), "
          f"sacct {states}; train took {seconds:.0f} s")  # fmt: skip


# --------------------------------------------------------------------------- scancel


def test_scancel_leaves_no_complete_looking_run(cluster, tmp_path):
    """400 epochs: the job is cancelled after its first, far from the end. The job ignores the
    SIGTERM and trains on until the SIGKILL; that came up to 10 epochs (about 4 s) later in
    these tests, so with 12 epochs a loaded machine sometimes finished the run first."""
    store, logs, epochs = tmp_path / "runs", tmp_path / "logs", 400
    (run,) = plan(PROFILE, SMOOT_NB, store=store, sets={"training.epochs": epochs})
    sets = ["--set", f"training.epochs={epochs}"]
    proc = cli(cluster, *train_args(store, logs, "--only", SMOOT_NB, *sets))
    wait_for(lambda: epoch_of(store / run.run_id) >= 1, "a checkpointed epoch", proc)
    (job,) = running_jobs(cluster)
    cancelled_after = epoch_of(store / run.run_id)
    cluster.run("scancel", job)
    code, out, err = finish(proc, timeout=180)
    wait_until_idle(cluster)  # a job still completing must not be counted by the next test
    assert code == 1, (out, err)
    assert re.search(
        rf"FAILED {run.run_id}: the job ended without a result \(state CANCELLED", out
    ), out
    assert [r["State"] for r in sacct(cluster, job)][-1].startswith("CANCELLED")
    record = json.loads((store / run.run_id / "run.json").read_text())
    assert record["status"] != "complete" and "history" not in record
    (again,) = plan(PROFILE, SMOOT_NB, store=store, sets={"training.epochs": epochs})
    assert not again.complete and 1 <= again.epochs_done < epochs
    assert not list(logs.rglob("*_result.pkl"))  # the job ended without a result
    line = next(ln for ln in out.splitlines() if "FAILED" in ln)
    print(
        f"scancel {job} after epoch {cancelled_after}, killed after epoch {again.epochs_done}: "
        f"train exit {code}, run.json status "
        f"{record['status']!r}, plan: partial ({again.epochs_done}/{epochs})\n{line}"
    )


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--partition", "nope"], "sbatch refused the jobs: invalid partition specified: nope"),
        (["--slurm", "constraint=gpu"], "sbatch refused the jobs: "),
        (["--slurm", "mem_gb=100000"], "Memory specification can not be satisfied"),
        (["--slurm", "bogus=1"], "invalid slurm job parameter: Unknown argument 'bogus'"),
        (["--slurm", "account"], "--slurm takes KEY=VALUE (e.g. account=myproj), got 'account'"),
    ],
)
def test_sbatch_errors_are_one_line(cluster, tmp_path, extra, says, monkeypatch, capfd):
    """The command line in this process (``main``), as the others through a subprocess would:
    sbatch's own stderr must not leak past the one line either (``capfd``: file level)."""
    args = train_args(tmp_path / "runs", tmp_path / "logs", "--only", SMOOT_NB)
    if extra[0] == "--partition":
        args[args.index("--partition") + 1] = extra[1]
        extra = []
    for key, value in cluster.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(ROOT)
    wait_until_idle(cluster)
    code = main([*args, *extra])
    out, err = capfd.readouterr()
    assert code == 2, (out, err)
    assert err.startswith("error: ") and err.count("\n") == 1 and says in err, err
    assert "Traceback" not in out + err
    # nothing ran (Slurm may still record a refused submission as a FAILED job in sacct)
    assert cluster.run("squeue", "--noheader") == ""
    assert not (tmp_path / "runs").exists() and not list(tmp_path.rglob("*_log.out"))
    print(err.strip())


def test_job_raising_reports_its_exception(cluster, tmp_path):
    """A run that fails inside its job (a dataset parameter the job's code rejects, past the
    login node's checks): its line names the exception, not submitit's footer or the log path."""
    (run,) = plan(PROFILE, SMOOT_NB, store=tmp_path / "runs")
    bad = run.config.replace(dataset_params={"no_such_param": 1})
    broken = type(run)(bad.run_id, bad, run.notebooks, None, False)
    said: list[str] = []
    options = ClusterOptions("slurm", partition=slurm_cluster.PARTITION, cpus_per_job=1,
                             poll_seconds=0.5)  # fmt: skip
    with pytest.MonkeyPatch.context() as mp:
        for key, value in cluster.env.items():
            mp.setenv(key, value)
        (res,) = train_runs([broken], options, tmp_path / "runs", tmp_path / "logs", PROFILE,
                            say=said.append)  # fmt: skip
    assert res.status == "failed" and res.error.startswith("TypeError: dataset 'fashion_mnist' ")
    assert "no_such_param" in res.error and res.log.is_file()
    line = next(s for s in said if "FAILED" in s)
    print(line)
