"""Fault injection on the run store and the runner (issue 13): kills at each write of an epoch,
concurrent trainers and ``reproduce`` runs, damaged files, a read-only folder, a full disk.

Every test ends either with the uninterrupted result (bit-identical weights, ``best.pt`` and
``phase1.pt``, the same ``run.json`` history) or with one :class:`RunStoreError` line naming the
file and the fix, never a silently different number. Trainings are tiny (synthetic data)."""

from __future__ import annotations

import errno
import io
import json
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from saliency_lib import _fileio, runs
from saliency_lib.config import RunConfig
from saliency_lib.runs import (
    RunStoreError,
    hlgm_continuation,
    is_complete,
    method_record,
    train_or_load,
)

SYNTH = {"n": 128, "num_classes": 4, "image_size": 8}  # HLGM: plateau at 3, best epoch 4
HLGM_FAST = {"patience": 1, "episode_size": 2, "monitor": "test_acc"}
REPO = Path(__file__).resolve().parents[1]


def config(method="hlgm", **kw) -> RunConfig:
    base = dict(
        method=method,
        method_params=HLGM_FAST if method == "hlgm" else {},
        dataset="synthetic",
        dataset_params=SYNTH,
        model="cnn2",
        epochs=4,
        batch_size=32,
        lr=1.0,
        seed=0,
        progress=False,
        device="cpu",
    )
    base.update(kw)
    return RunConfig(**base)


HLGM = config()
CONT = hlgm_continuation(HLGM)


class SimulatedKill(BaseException):
    """Raised in place of a file rename: the process "dies" before that write lands."""


def train_pair(store: Path):
    """The HLGM run, then its traditional continuation baseline."""
    return train_or_load(HLGM, store=store), train_or_load(CONT, store=store)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted runs, and the file each write of the pair goes to, in order."""
    store = tmp_path_factory.mktemp("reference")
    writes = []
    real = _fileio._replace

    def record(src, dst):
        writes.append(f"{Path(dst).parent.name[:5]}/{Path(dst).name}")
        real(src, dst)

    _fileio._replace = record
    try:
        hlgm, cont = train_pair(store)
    finally:
        _fileio._replace = real
    assert hlgm.plateau_epoch is not None and hlgm.plateau_epoch < HLGM.epochs  # phase 2 ran
    return {"store": store, "writes": writes, "hlgm": hlgm, "cont": cont}


def _strip(history):
    return [{k: v for k, v in h.items() if k != "seconds"} for h in history]


def assert_same_run(ref_store: Path, store: Path, cfg: RunConfig) -> None:
    """Same weights (last.pt, best.pt and any snapshot), same run.json history; no temporaries."""
    a, b = ref_store / cfg.run_id, store / cfg.run_id
    ra, rb = (json.loads((p / "run.json").read_text()) for p in (a, b))
    assert rb["status"] == "complete"
    assert _strip(ra["history"]) == _strip(rb["history"])
    assert ra["best_epoch"] == rb["best_epoch"]
    assert method_record(ra) == method_record(rb)  # HLGM: plateau_epoch
    files = sorted(p.name for p in a.glob("*.pt"))
    assert files == sorted(p.name for p in b.glob("*.pt"))
    for name in files:
        sa, sb = (torch.load(p / name, weights_only=True) for p in (a, b))
        assert sa["epoch"] == sb["epoch"], name
        for k, v in sa["model"].items():
            assert torch.equal(v, sb["model"][k]), (name, k)
    assert not list(b.glob(".*.tmp")), "temporaries left"


def one_line(err: Exception, *needles: str) -> str:
    text = str(err)
    assert "\n" not in text and "Traceback" not in text, text
    for n in needles:
        assert n in text, (n, text)
    return text


# --------------------------------------------------------------------------- kill points


def test_reference_writes_cover_the_plateau_and_best_epochs(reference):
    w = reference["writes"]
    hlgm = HLGM.run_id[:5]
    assert w.count(f"{hlgm}/phase1.pt") == 1
    assert w.count(f"{hlgm}/best.pt") >= 2 and w.count(f"{hlgm}/last.pt") == HLGM.epochs
    # order within the plateau epoch: best.pt (if any) and phase1.pt before last.pt
    i = w.index(f"{hlgm}/phase1.pt")
    assert w[i + 1] == f"{hlgm}/last.pt"


def _kill_at(n: int, monkeypatch):
    """Make the ``n``-th rename from now on raise :class:`SimulatedKill` instead."""
    real, calls = _fileio._replace, [0]

    def dying(src, dst):
        calls[0] += 1
        if calls[0] == n:
            raise SimulatedKill(dst)
        real(src, dst)

    monkeypatch.setattr(_fileio, "_replace", dying)
    return lambda: monkeypatch.setattr(_fileio, "_replace", real)


def test_kill_at_every_write_of_the_hlgm_run(reference, tmp_path, monkeypatch):
    """A kill before each rename of the HLGM run (run.json, best.pt, phase1.pt at the plateau
    epoch, last.pt, the final run.json), then a plain rerun: the identical run. At the plateau
    epoch's writes the continuation baseline is trained too and compared."""
    writes = [w.split("/")[1] for w in reference["writes"] if w.startswith(HLGM.run_id[:5])]
    plateau_writes = {i for i, w in enumerate(writes, 1) if w == "phase1.pt"}
    plateau_writes |= {i + 1 for i in plateau_writes}  # and last.pt of that epoch
    for n in range(1, len(writes) + 1):
        store = tmp_path / f"k{n}"
        restore = _kill_at(n, monkeypatch)
        with pytest.raises(SimulatedKill):
            train_or_load(HLGM, store=store)
        restore()
        train_or_load(HLGM, store=store)
        assert_same_run(reference["store"], store, HLGM)
        if n in plateau_writes:
            train_or_load(CONT, store=store)
            assert_same_run(reference["store"], store, CONT)


def test_kill_at_every_write_of_the_continuation(reference, tmp_path, monkeypatch):
    import shutil

    writes = [w for w in reference["writes"] if w.startswith(CONT.run_id[:5])]
    assert CONT.run_id[:5] != HLGM.run_id[:5] and len(writes) >= 3
    for n in range(1, len(writes) + 1):
        store = tmp_path / f"k{n}"
        shutil.copytree(reference["store"] / HLGM.run_id, store / HLGM.run_id)
        restore = _kill_at(n, monkeypatch)
        with pytest.raises(SimulatedKill):
            train_or_load(CONT, store=store)
        restore()
        train_or_load(CONT, store=store)
        assert_same_run(reference["store"], store, CONT)


_SIGKILL_CHILD = """
import os, signal, sys
from pathlib import Path
from saliency_lib import _fileio
from saliency_lib.runs import train_or_load
sys.path.insert(0, {tests!r})
from test_faults import HLGM

def die(src, dst):
    if Path(dst).name == "phase1.pt":  # the plateau epoch: temporary written, not renamed
        os.kill(os.getpid(), signal.SIGKILL)
    os.replace(src, dst)

_fileio._replace = die
train_or_load(HLGM, store={store!r})
"""


def test_sigkill_at_the_plateau_epoch_then_continuation(reference, tmp_path):
    """A real SIGKILL between phase1.pt's temporary and its rename (the old code's failure: the
    continuation started from HLGM's final weights). The rerun removes the temporary."""
    store = tmp_path / "store"
    code = _SIGKILL_CHILD.format(tests=str(REPO / "tests"), store=str(store))
    proc = subprocess.run([sys.executable, "-c", code], env=_env(), capture_output=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    run_dir = store / HLGM.run_id
    assert list(run_dir.glob(".phase1.pt.*.tmp")) and not (run_dir / "phase1.pt").exists()
    train_pair(store)
    for cfg in (HLGM, CONT):
        assert_same_run(reference["store"], store, cfg)


def _interruptible() -> None:
    """In the child, before it starts: SIGINT's default action, as a terminal's foreground
    process has it. A test session started in the background (``cmd &`` in a script) has SIGINT
    ignored, its children inherit that, and Python then never raises KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _env():
    return {**os.environ, "PYTHONPATH": str(REPO)}


# --------------------------------------------------------------------------- concurrency


def _child_train(store: str, barrier, queue) -> None:
    """Train HLGM after the barrier on a slow filesystem; report whether this process trained."""
    import saliency_lib._fileio as fio
    import saliency_lib.runs as r

    real_replace, real_train, trained = fio._replace, r._train, []

    def slow(src, dst):
        time.sleep(0.05)
        real_replace(src, dst)

    def counting(*a, **kw):
        trained.append(True)
        return real_train(*a, **kw)

    fio._replace, r._train = slow, counting
    barrier.wait()
    run = r.train_or_load(HLGM, store=store)
    buf = io.BytesIO()  # bytes, not tensors: shared tensors die with the child
    torch.save(run.model.state_dict(), buf)
    queue.put((bool(trained), buf.getvalue()))


def test_two_trainers_of_one_run(reference, tmp_path):
    """Two processes start the same run at once: one trains, the other waits, then loads."""
    ctx = mp.get_context("spawn")
    barrier, queue = ctx.Barrier(2), ctx.Queue()
    procs = [
        ctx.Process(target=_child_train, args=(str(tmp_path), barrier, queue)) for _ in range(2)
    ]
    for p in procs:
        p.start()
    results = [queue.get(timeout=240) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert sorted(t for t, _ in results) == [False, True]
    for _, data in results:
        weights = torch.load(io.BytesIO(data), weights_only=True)
        for k, v in reference["hlgm"].model.state_dict().items():
            assert torch.equal(v, weights[k]), k
    assert_same_run(reference["store"], tmp_path, HLGM)


def test_busy_run_lock_names_its_holder(tmp_path):
    lock = _fileio.FolderLock(tmp_path, "lock", "run X").acquire()
    try:
        with pytest.raises(_fileio.LockBusy) as err:
            _fileio.FolderLock(tmp_path, "lock", "run X").acquire(wait=False)
        one_line(err.value, "run X is in use by pid", str(os.getpid()))
    finally:
        lock.release()
    _fileio.FolderLock(tmp_path, "lock").acquire(wait=False).release()  # free again


@pytest.mark.slow
def test_two_reproduce_on_one_folder_and_ctrl_c(tmp_path, capsys):
    """A second ``reproduce`` on a folder in use stops at once with one line and touches nothing;
    the first one finishes normally. Ctrl-C ends a run with one line; no staging left."""
    from test_runner import cli, make_project

    dirs = make_project(tmp_path, {"smoke": {"alpha": "seeds: 2\n"}})
    out = tmp_path / "out"
    args = ["reproduce", "--profile", "smoke", "--output-root", str(out), "--no-progress"]
    args += ["--notebooks-dir", str(dirs["notebooks_dir"]), "--params-dir", str(dirs["params_dir"])]
    cmd = [sys.executable, "-m", "saliency_lib", *args]
    staging = out / "smoke" / ".alpha.partial"

    first = subprocess.Popen(cmd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert _wait(staging.is_dir, 60), first.communicate()
    assert cli(dirs, *args[:-4]) == 1  # the second reproduce
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: output folder") and "in use by pid" in err, err
    assert len(err.splitlines()) == 1
    assert cli(dirs, "list", "--output-root", str(out)) == 0
    assert "running" in capsys.readouterr().out
    stdout, stderr = first.communicate(timeout=240)
    assert first.returncode == 0, stderr.decode()[-3000:]
    assert "without encryption" not in stderr.decode()  # the kernel's start-up warning is off
    smoke = out / "smoke"
    assert sorted(os.listdir(smoke)) == ["alpha", "end_to_end.json", "notebook.css", "timings.json"]
    assert json.loads((smoke / "alpha" / "metrics.json").read_text())["status"] == "complete"

    second = subprocess.Popen(cmd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              preexec_fn=_interruptible)  # fmt: skip
    assert _wait(staging.is_dir, 60)
    time.sleep(1.0)
    second.send_signal(signal.SIGINT)
    _, stderr = second.communicate(timeout=120)
    text = stderr.decode().strip()
    assert second.returncode == 130, text
    # our one line and nothing else: the kernel's own log ("KeyboardInterrupt caught in
    # kernel", ZMQ errors while it shuts down) goes to its kernel.log, not to the terminal
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("interrupted during alpha"), text
    assert "earlier outputs are untouched" in lines[0]
    assert not staging.exists()
    assert json.loads((smoke / "alpha" / "metrics.json").read_text())["status"] == "complete"


def _ctrl_c(proc) -> None:
    os.killpg(proc.pid, signal.SIGINT)  # what the terminal does: the group, not one process


def _kill(proc) -> None:
    proc.terminate()  # SIGTERM to reproduce alone


@pytest.mark.parametrize(
    ("stop", "exit_code"), [(_ctrl_c, 130), (_kill, 143)], ids=["ctrl_c", "sigterm"]
)
def test_stopping_reproduce_while_training_side_by_side(tmp_path, stop, exit_code):
    """Ctrl-C as a terminal sends it (SIGINT to the whole foreground process group), or ``kill
    PID`` (SIGTERM to ``reproduce`` alone, as a batch system or a user stops it), while
    ``reproduce`` trains runs in local processes: the terminal shows our one line and nothing from
    the children (no KeyboardInterrupt traceback of theirs), exit 130 / 143, no training process
    is left (SIGTERM's default action killed the parent alone and the children trained on,
    unwatched), and the interrupted runs are not complete (they resume next time)."""
    store, out = tmp_path / "runs", tmp_path / "out"
    env = {**_env(), "SALIENCY_RUN_STORE": str(store)}
    sets = ["--set", "training.threads=1", "--set", "training.epochs=400", "--set", "seeds=2"]
    cmd = [sys.executable, "-m", "saliency_lib", "reproduce", "--profile", "smoke", "--only",
           "smoot_fig1_motivation", *sets, "--output-root", str(out), "--no-progress"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True,
                            preexec_fn=_interruptible)  # fmt: skip
    assert _wait(lambda: len(list(store.glob("*/last.pt"))) == 2, 180), proc.poll()
    stop(proc)
    stdout, stderr = (b.decode() for b in proc.communicate(timeout=120))
    assert proc.returncode == exit_code, stdout + stderr
    text = (stdout + stderr).strip()
    assert "Traceback" not in text and "KeyboardInterrupt" not in text, text
    ours = [line for line in stderr.splitlines() if line.strip()]
    assert len(ours) == 1 and ours[0].startswith("interrupted while training runs side by side"), (
        stderr
    )
    time.sleep(1)
    left = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True).stdout
    assert not left.strip(), f"processes left running: {left}"
    runs = [d for d in store.iterdir() if d.is_dir()]
    assert len(runs) == 2 and not any((d / "run.json").is_file() and
                                      json.loads((d / "run.json").read_text())["status"] ==
                                      "complete" for d in runs)  # fmt: skip


def _wait(predicate, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_list_shows_leftover_partial_and_failed_folders(tmp_path, capsys):
    from test_runner import cli, make_project

    dirs = make_project(tmp_path, {"smoke": {"alpha": "{}"}})
    out = tmp_path / "out"
    (out / "smoke" / ".alpha.partial").mkdir(parents=True)
    (out / "smoke" / "alpha.FAILED").mkdir()
    assert cli(dirs, "list", "--output-root", str(out)) == 0
    text = capsys.readouterr().out
    assert "FAILED, .partial left" in text
    assert "smoke/.alpha.partial (left by an interrupted run; delete it)" in text
    assert "smoke/alpha.FAILED" in text


# --------------------------------------------------------------------------- damaged files


def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2] if how == "truncated" else os.urandom(len(data)))


@pytest.mark.parametrize("how", ["truncated", "garbage"])
def test_damaged_last_pt_of_an_unfinished_run(reference, tmp_path, how):
    assert train_or_load(HLGM, store=tmp_path, stop_after=1) is None
    last = tmp_path / HLGM.run_id / "last.pt"
    _damage(last, how)
    with pytest.raises(RunStoreError) as err:
        train_or_load(HLGM, store=tmp_path)
    one_line(err.value, str(last), f"delete {last} to retrain this run from epoch 1")
    last.unlink()  # the fix
    train_or_load(HLGM, store=tmp_path)
    assert_same_run(reference["store"], tmp_path, HLGM)


@pytest.mark.parametrize("how", ["truncated", "garbage"])
def test_damaged_files_of_a_complete_run(reference, tmp_path, how):
    import shutil

    src = reference["store"] / HLGM.run_id
    run_dir = tmp_path / HLGM.run_id
    shutil.copytree(src, run_dir)

    _damage(run_dir / "best.pt", how)
    run = train_or_load(HLGM, store=tmp_path)  # final weights come from last.pt: fine
    assert run.history == reference["hlgm"].history
    with pytest.raises(RunStoreError) as err:
        run.best_model()
    one_line(err.value, str(run_dir / "best.pt"), f"delete the folder {run_dir}")

    _damage(run_dir / "last.pt", how)
    with pytest.raises(RunStoreError) as err:
        train_or_load(HLGM, store=tmp_path)
    one_line(err.value, str(run_dir / "last.pt"), f"delete the folder {run_dir}")

    shutil.rmtree(run_dir)  # the fix
    train_or_load(HLGM, store=tmp_path)
    assert_same_run(reference["store"], tmp_path, HLGM)


@pytest.mark.parametrize("how", ["truncated", "garbage"])
def test_damaged_run_json_is_rebuilt_from_last_pt(reference, tmp_path, how, capsys):
    import shutil

    shutil.copytree(reference["store"] / HLGM.run_id, tmp_path / HLGM.run_id)
    record = tmp_path / HLGM.run_id / "run.json"
    _damage(record, how)
    assert not is_complete(HLGM, tmp_path)  # no exception: plan and friends go on
    with pytest.raises(RunStoreError) as err:
        runs.load_run(HLGM, tmp_path)
    one_line(err.value, str(record), "delete it")
    train_or_load(HLGM, store=tmp_path)
    assert "rebuilding it now" in capsys.readouterr().err
    assert_same_run(reference["store"], tmp_path, HLGM)
    ref = json.loads((reference["store"] / HLGM.run_id / "run.json").read_text())
    assert json.loads(record.read_text()) == ref  # identical, seconds included


def test_damaged_phase1_stops_the_continuation_with_the_fix(reference, tmp_path):
    import shutil

    shutil.copytree(reference["store"] / HLGM.run_id, tmp_path / HLGM.run_id)
    phase1 = tmp_path / HLGM.run_id / "phase1.pt"
    _damage(phase1, "truncated")
    with pytest.raises(RunStoreError) as err:
        train_or_load(CONT, store=tmp_path)
    one_line(err.value, str(phase1), f"delete the folder {phase1.parent}")
    # the old store's failure: phase1.pt never written although run.json records a plateau
    phase1.unlink()
    with pytest.raises(RunStoreError, match="phase1.pt is missing"):
        train_or_load(CONT, store=tmp_path)
    assert not (tmp_path / CONT.run_id / "last.pt").exists()  # nothing trained from HLGM's end


def test_missing_best_pt_is_rebuilt_or_reported(reference, tmp_path):
    """On resume best.pt must hold the best epoch last.pt records: rebuilt from last.pt when
    that is its epoch, else an error (never a best model of another epoch)."""
    run_dir = tmp_path / HLGM.run_id
    train_or_load(HLGM, store=tmp_path, stop_after=1)  # epoch 1 is the best so far
    (run_dir / "best.pt").unlink()
    train_or_load(HLGM, store=tmp_path)
    assert_same_run(reference["store"], tmp_path, HLGM)

    plateau = reference["hlgm"].plateau_epoch  # no improvement there: the best is earlier
    store = tmp_path / "b"
    train_or_load(HLGM, store=store, stop_after=plateau)
    best = store / HLGM.run_id / "best.pt"
    best.unlink()
    with pytest.raises(RunStoreError) as err:
        train_or_load(HLGM, store=store)
    one_line(err.value, str(best), "cannot be rebuilt", f"delete {best.parent / 'last.pt'}")


def test_plan_goes_on_past_damaged_runs(tmp_path, monkeypatch):
    from test_cluster import FIXTURE, PROFILE

    from saliency_lib.pipeline.plan import format_plan, plan

    dirs = {"notebooks_dir": tmp_path / "nb", "params_dir": FIXTURE / "params"}
    dirs["notebooks_dir"].mkdir()
    source = (FIXTURE / "notebooks" / "train_grid.ipynb").read_text()
    for params in (FIXTURE / "params" / PROFILE).glob("*.yaml"):
        (dirs["notebooks_dir"] / f"{params.stem}.ipynb").write_text(source)
    store = tmp_path / "runs"
    first = plan(PROFILE, store=store, **dirs)
    a, b = first[0], first[1]
    (store / a.run_id).mkdir(parents=True)
    (store / a.run_id / "run.json").write_text('{"status": "compl')
    (store / b.run_id).mkdir(parents=True)
    (store / b.run_id / "last.pt").write_bytes(b"garbage")
    again = plan(PROFILE, store=store, **dirs)
    assert [r.run_id for r in again] == [r.run_id for r in first]
    assert not any(r.complete for r in again) and again[1].epochs_done == 0
    assert a.run_id in format_plan(again)


# --------------------------------------------------------------------------- disk and permissions


def test_full_disk_is_reported_and_leaves_no_temporary(reference, tmp_path, monkeypatch):
    """ENOSPC in the middle of writing last.pt of epoch 3: one line naming the file; no
    temporary left; once space is back, the rerun gives the uninterrupted run."""
    real_open = open
    calls = {"last": 0}

    class Full:
        def __init__(self, f):
            self.f = f

        def write(self, data):
            self.f.write(bytes(data)[:100])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def __getattr__(self, name):
            return getattr(self.f, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

    def full_open(file, mode="r", *a, **kw):
        f = real_open(file, mode, *a, **kw)
        if "w" in mode and ".last.pt." in str(file):
            calls["last"] += 1
            if calls["last"] == 3:
                return Full(f)
        return f

    monkeypatch.setattr(_fileio, "open", full_open, raising=False)
    with pytest.raises(RunStoreError) as err:
        train_or_load(HLGM, store=tmp_path)
    last = tmp_path / HLGM.run_id / "last.pt"
    one_line(err.value, str(last), "no space left on device", "free space")
    assert not list(last.parent.glob(".*.tmp"))
    monkeypatch.undo()
    train_or_load(HLGM, store=tmp_path)
    assert_same_run(reference["store"], tmp_path, HLGM)


_ULIMIT_CHILD = """
import resource, signal, sys
sys.path.insert(0, {tests!r})
from test_faults import HLGM
from saliency_lib.runs import RunStoreError, train_or_load
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))
try:
    train_or_load(HLGM, store={store!r})
except RunStoreError as e:
    print(e)
    sys.exit(3)
"""


def test_file_size_limit_ulimit_f(reference, tmp_path):
    """``ulimit -f`` (RLIMIT_FSIZE) below a checkpoint's size, in a real process."""
    code = _ULIMIT_CHILD.format(tests=str(REPO / "tests"), store=str(tmp_path))
    proc = subprocess.run([sys.executable, "-c", code], env=_env(), capture_output=True)
    out = proc.stdout.decode().strip()
    assert proc.returncode == 3, proc.stderr.decode()[-2000:]
    assert len(out.splitlines()) == 1 and "file size limit exceeded" in out, out
    run_dir = tmp_path / HLGM.run_id
    assert str(run_dir) in out and not list(run_dir.glob(".*.tmp"))
    train_or_load(HLGM, store=tmp_path)
    assert_same_run(reference["store"], tmp_path, HLGM)


def test_read_only_store(reference, tmp_path, monkeypatch):
    """A read-only store: a complete run loads without writing anything; an unfinished one stops
    with one line saying the folder is not writable. (Simulated: the tests may run as root.)"""
    import shutil

    shutil.copytree(reference["store"] / HLGM.run_id, tmp_path / HLGM.run_id)
    real_open, real_os_open = open, os.open
    writes = []

    def ro(path, flags_or_mode, *a, **kw):
        writing = (
            any(c in flags_or_mode for c in "wax+")
            if isinstance(flags_or_mode, str)
            else flags_or_mode & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)
        )
        if writing and str(path).startswith(str(tmp_path)):
            writes.append(path)
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return (real_open if isinstance(flags_or_mode, str) else real_os_open)(
            path, flags_or_mode, *a, **kw
        )

    monkeypatch.setattr(_fileio, "open", ro, raising=False)
    monkeypatch.setattr(os, "open", ro)
    run = train_or_load(HLGM, store=tmp_path)
    assert not writes and run.history == reference["hlgm"].history
    with pytest.raises(RunStoreError) as err:
        train_or_load(config(seed=1), store=tmp_path)
    one_line(err.value, "permission denied", "make", "writable")


def test_profile_must_be_a_name_not_a_path(tmp_path):
    from test_runner import make_project

    from saliency_lib.pipeline.jobs import prepare_jobs
    from saliency_lib.pipeline.params import ParameterError

    dirs = make_project(tmp_path, {"smoke": {"alpha": "{}"}})
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("x")
    for bad in (str(victim), "../smoke", ".hidden", "smoke/..", ""):
        with pytest.raises(ParameterError, match="not a path|non-empty"):
            prepare_jobs(bad, **dirs)
    assert (victim / "keep.txt").exists()
    assert [j.name for j in prepare_jobs("smoke", **dirs)] == ["alpha"]


def test_kill_between_the_two_renames_of_an_output_folder(tmp_path, monkeypatch):
    """Killed after ``<name>/`` was moved to ``.<name>.old`` and before the staging folder took
    its place: the next ``reproduce`` puts the complete folder back before running anything."""
    from test_runner import make_project

    from saliency_lib.pipeline import runner
    from saliency_lib.pipeline.runner import NotebookResult, reproduce

    dirs = make_project(tmp_path, {"smoke": {"alpha": "{}"}})
    smoke = tmp_path / "out" / "smoke"
    (smoke / ".alpha.old").mkdir(parents=True)
    (smoke / ".alpha.old" / "metrics.json").write_text('{"status": "complete"}')
    (smoke / ".timings.json.123.abcd.tmp").write_text("[")

    def failing(job, profile, profile_dir, on_line=None):
        return NotebookResult(job.name, "failed", 0.1, profile_dir / f"{job.name}.FAILED", "x")

    monkeypatch.setattr(runner, "run_notebook", failing)
    reproduce("smoke", output_root=tmp_path / "out", progress=False, **dirs)
    assert sorted(os.listdir(smoke)) == ["alpha", "end_to_end.json", "timings.json"]
    assert json.loads((smoke / "alpha" / "metrics.json").read_text())["status"] == "complete"


# --------------------------------------------------------------------------- random streams


@pytest.mark.parametrize("stream", ["numpy", "python"])
def test_resume_restores_the_numpy_and_python_random_streams(tmp_path, monkeypatch, stream):
    """A training loss that draws from NumPy's (or Python's) global generator: killed after an
    epoch and resumed, the run ends with the uninterrupted run's weights only if the resume
    restores that generator. The test of the test: with the restore of that stream removed, the
    weights differ (nothing in the package draws from these streams today, so this is the only
    place a broken restore would show)."""
    import random

    import numpy as np

    from saliency_lib import seeding
    from saliency_lib.methods import traditional

    draw = {"numpy": lambda: float(np.random.rand()), "python": random.random}[stream]
    real_loss = traditional.Traditional.loss

    def noisy_loss(self, model, x, y, idx):
        out = real_loss(self, model, x, y, idx)
        return out._replace(loss=out.loss * (1.0 + draw()))

    monkeypatch.setattr(traditional.Traditional, "loss", noisy_loss)
    cfg = config("traditional", epochs=3)

    def weights(store: Path) -> dict:
        return torch.load(store / cfg.run_id / "last.pt", weights_only=True)["model"]

    def killed_then_resumed(store: Path) -> dict:
        # writes: run.json, best.pt, last.pt (epoch 1), best.pt (epoch 2): dies there; resumes
        # after epoch 1
        restore = _kill_at(4, monkeypatch)
        with pytest.raises(SimulatedKill):
            train_or_load(cfg, store=store)
        restore()
        np.random.seed(12345)  # the process's streams are elsewhere when it resumes
        random.seed(12345)
        train_or_load(cfg, store=store)
        return weights(store)

    train_or_load(cfg, store=tmp_path / "ref")
    ref = weights(tmp_path / "ref")
    resumed = killed_then_resumed(tmp_path / "resumed")
    assert all(torch.equal(ref[k], resumed[k]) for k in ref)

    real_set = seeding.set_rng_state

    def without_stream(state):
        real_set({**state, stream: None} if isinstance(state, dict) else state)

    monkeypatch.setattr(runs, "set_rng_state", without_stream)
    broken = killed_then_resumed(tmp_path / "broken")
    assert not all(torch.equal(ref[k], broken[k]) for k in ref), "a broken restore went unseen"
