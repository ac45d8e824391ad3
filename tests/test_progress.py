"""Live progress (issue 15): throttled lines of the library's loops, ``progress=False`` silences
them, and ``reproduce`` relays a running notebook's lines to the terminal as they come."""

from __future__ import annotations

import io
import re
import time

import nbformat
import pytest
import torch
from torch import nn

from saliency_lib.progress import TAG, ProgressLog, format_seconds, track

EPOCH_LINE = re.compile(
    r"^\[progress\] train traditional: epoch (\d+)/3 \[\w+\] loss \d+\.\d{4}, "
    r"train acc \d+\.\d\d %, test acc \d+\.\d\d % \| \d+:\d\d elapsed, ETA \d+:\d\d$"
)
BATCH_LINE = re.compile(
    r"^\[progress\] train traditional: epoch (\d+)/3, batch (\d+)/4 \| \d+:\d\d elapsed, "
    r"ETA \d+:\d\d$"
)


class _Split(torch.utils.data.Dataset):
    """In-memory ``(image, label, index)`` items (the library's dataset protocol)."""

    def __init__(self, n: int, seed: int):
        g = torch.Generator().manual_seed(seed)
        self.x = torch.randn(n, 1, 6, 6, generator=g)
        self.y = torch.randint(0, 3, (n,), generator=g)

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int):
        return self.x[i], int(self.y[i]), i


def _trainer(progress: bool):
    from saliency_lib.data import make_loader
    from saliency_lib.methods import get_method
    from saliency_lib.trainer import Trainer, make_optimizer

    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(36, 3))
    method = get_method("traditional", {})
    method.setup(32, 36, 3, "cpu")
    optimizer = make_optimizer("adadelta", model.parameters(), 1.0)
    train = make_loader(_Split(32, 0), 8, shuffle=True, seed=0)  # 4 batches per epoch
    test = make_loader(_Split(16, 1), 8, shuffle=False)
    return Trainer(model, method, optimizer, train, test, progress=progress)


def test_training_prints_epochs_with_metrics_and_eta():
    out = io.StringIO()
    history = _trainer(True).fit(3, progress_interval=0.0, progress_file=out)
    lines = out.getvalue().splitlines()
    epochs = [int(m[1]) for line in lines if (m := EPOCH_LINE.match(line))]
    batches = [(int(m[1]), int(m[2])) for line in lines if (m := BATCH_LINE.match(line))]
    assert epochs == [1, 2, 3], lines
    assert batches == [(e, b) for e in (1, 2, 3) for b in (1, 2, 3, 4)], lines
    assert all(line.startswith(TAG) for line in lines)
    # the numbers shown are the history's
    last = [line for line in lines if EPOCH_LINE.match(line)][-1]
    assert f"loss {history[-1]['train_loss']:.4f}" in last
    assert f"test acc {history[-1]['test_acc']:.2f} %" in last


def test_training_lines_are_throttled_but_the_last_epoch_is_shown():
    out = io.StringIO()
    _trainer(True).fit(3, progress_interval=3600.0, progress_file=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 and EPOCH_LINE.match(lines[0]) and "epoch 3/3" in lines[0]


def test_progress_false_prints_nothing(capsys, store):
    from saliency_lib.config import RunConfig
    from saliency_lib.studies import method_curves, train_all

    _trainer(False).fit(2, progress_interval=0.0)
    cfg = RunConfig(
        dataset="synthetic",
        dataset_params={"n": 64, "num_classes": 3, "image_size": 6},
        epochs=1,
        batch_size=32,
        device="cpu",
    )
    runs = train_all({("traditional", 0): cfg}, store=store, progress=False)
    curves = method_curves(runs, (torch.randn(8, 1, 6, 6), torch.zeros(8).long()),
                           levels=[0, 50], value=0.0, progress=False)  # fmt: skip
    assert list(track(range(3), "x", progress=False, interval=0.0)) == [0, 1, 2]
    assert len(curves) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    # ... and the same calls with progress on do print (so the check above can fail)
    train_all({("traditional", 0): cfg}, store=store)
    assert "run 1/1 traditional seed 0" in capsys.readouterr().out


def test_progress_log_throttles_by_time_and_estimates_the_rest():
    now = [0.0]
    out = io.StringIO()
    log = ProgressLog("task", 10, interval=20.0, file=out, clock=lambda: now[0])
    shown = []
    for _ in range(10):
        now[0] += 7.0  # a unit takes 7 s: a line is due every third unit (21 s)
        log.advance()
        if log.due():
            log.say(f"{log.done}/10")
            shown.append(log.done)
    assert shown == [3, 6, 9]
    first = out.getvalue().splitlines()[0]
    assert first == "[progress] task: 3/10 | 0:21 elapsed, ETA 0:49"
    assert format_seconds(3725) == "1:02:05"
    with pytest.raises(ValueError, match="interval"):
        ProgressLog("task", interval=-1)


def test_track_prints_a_line_per_interval():
    out = io.StringIO()
    assert list(track([1, 2, 3], "curves", unit="curve", interval=0.0, file=out)) == [1, 2, 3]
    assert [line.split(" | ")[0] for line in out.getvalue().splitlines()] == [
        "[progress] curves: 1/3 curve",
        "[progress] curves: 2/3 curve",
        "[progress] curves: 3/3 curve",
    ]


def test_line_relay_passes_tagged_lines_split_across_writes():
    from saliency_lib.pipeline.runner import LineRelay

    seen = []
    relay = LineRelay("nb", seen.append)
    relay.write("table row\n[progress] train sgt: epo")
    relay.write("ch 1/2 | 0:01 elapsed\n\r 40%|####  | tqdm\n[progress] last")
    assert seen == ["[nb] train sgt: epoch 1/2 | 0:01 elapsed"]
    relay.close()
    assert seen[-1] == "[nb] last"


def _tiny_notebook(path):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('profile = "smoke"\noutput_dir = None')
    params.metadata["tags"] = ["parameters"]
    body = (
        "import time\n"
        'print("[progress] first line", flush=True)\n'
        'print("an ordinary output line", flush=True)\n'
        "time.sleep(2.0)\n"
        'print("[progress] second line", flush=True)'
    )
    nb.cells = [params, nbformat.v4.new_code_cell(body)]
    spec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["kernelspec"] = spec
    nbformat.write(nb, str(path))


def test_runner_streams_a_notebooks_progress_lines_while_it_runs(tmp_path):
    """A throwaway notebook prints two progress lines 2 s apart: the runner's callback gets the
    first one before the second is printed (streamed, not at the end), the ordinary line not."""
    from saliency_lib.pipeline.jobs import NotebookJob
    from saliency_lib.pipeline.runner import run_notebook

    path = tmp_path / "tiny.ipynb"
    _tiny_notebook(path)
    received = []
    job = NotebookJob("tiny", path, tmp_path / "tiny.yaml", {})
    result = run_notebook(
        job, "smoke", tmp_path / "out", on_line=lambda s: received.append((time.monotonic(), s))
    )
    assert result.status == "complete", result.error
    assert [s for _, s in received] == ["[tiny] first line", "[tiny] second line"]
    assert received[1][0] - received[0][0] > 1.5
    executed = nbformat.read(str(tmp_path / "out" / "tiny" / "tiny.ipynb"), as_version=4)
    text = "".join(o.get("text", "") for o in executed.cells[-1].outputs)
    assert "[progress] first line" in text and "an ordinary output line" in text


def test_reproduce_relays_lines_only_with_progress(tmp_path, monkeypatch):
    from saliency_lib.pipeline import runner

    (tmp_path / "nb").mkdir()
    _tiny_notebook(tmp_path / "nb" / "tiny.ipynb")
    (tmp_path / "params" / "smoke").mkdir(parents=True)
    (tmp_path / "params" / "smoke" / "tiny.yaml").write_text("profile: smoke\n")
    given = []

    def fake_run(job, profile, profile_dir, on_line=None):
        given.append(on_line)
        return runner.NotebookResult(job.name, "complete", 0.0, profile_dir / job.name)

    monkeypatch.setattr(runner, "run_notebook", fake_run)
    dirs = dict(notebooks_dir=tmp_path / "nb", params_dir=tmp_path / "params", check_data=False)
    runner.reproduce("smoke", output_root=tmp_path / "out", progress=False, **dirs)
    runner.reproduce("smoke", output_root=tmp_path / "out", progress=True, **dirs)
    assert given[0] is None and callable(given[1])
