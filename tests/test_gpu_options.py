"""GPU throughput options, exercised on the CPU (issue 14, item 3): mixed precision (bfloat16
autocast on the CPU), lazy datasets kept on the device, device placement of a training step on
the ``meta`` device, and run ids that stay what they were."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

import saliency_lib.saliency as saliency_module
from saliency_lib.config import RunConfig
from saliency_lib.data import ImageDataset, make_loader
from saliency_lib.methods import get_method
from saliency_lib.models import create_model
from saliency_lib.trainer import Precision, Trainer, make_optimizer, train_step

# --------------------------------------------------------------------------- run ids

# Computed on main at d04d7ff, before `precision` and `data_on_device` existed.
PINNED_IDS = [
    ({}, "traditional-fashion_mnist-cnn2-s0-9bf259fc76f4"),
    ({"method": "sgt"}, "sgt-fashion_mnist-cnn2-s0-7dcd4fff753c"),
    (
        {
            "method": "hlgm",
            "dataset": "cifar10",
            "model": "resnet18",
            "optimizer": "sgd",
            "lr": 0.1,
            "momentum": 0.9,
            "epochs": 100,
            "seed": 2,
        },
        "hlgm-cifar10-resnet18-s2-bc9417551c06",
    ),  # fmt: skip
    (
        {
            "method": "smoot",
            "method_params": {"mu_unit": "per_784"},
            "channels_last": True,
            "train_subset": 5000,
        },
        "smoot-fashion_mnist-cnn2-s0-730c2aaf7125",
    ),  # fmt: skip
]


@pytest.mark.parametrize(("values", "run_id"), PINNED_IDS)
def test_existing_run_ids_unchanged(values, run_id):
    assert RunConfig(**values).run_id == run_id
    assert RunConfig(**values, precision="fp32").run_id == run_id
    # keeping the data on the device gives the same batches: not part of the identity
    assert RunConfig(**values, data_on_device=True).run_id == run_id


def test_precision_is_part_of_the_run_id():
    ids = {p: RunConfig(method="sgt", precision=p).run_id for p in ("fp32", "bf16", "fp16")}
    assert len(set(ids.values())) == 3
    assert RunConfig(method="sgt", precision="bf16").identity()["precision"] == "bf16"
    assert "precision" not in RunConfig(method="sgt").identity()
    with pytest.raises(ValueError, match="precision must be one of"):
        RunConfig(precision="half")
    with pytest.raises(ValueError, match="precision must be one of"):
        Precision("fp8")


# --------------------------------------------------------------------------- mixed precision


def _data(n=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 1, 28, 28, generator=g), torch.randint(0, 10, (n,), generator=g)


def _method(name):
    opts = {"hlgm": {"patience": 1}}.get(name, {})
    method = get_method(name, **opts)
    method.setup(16, 28 * 28, 10, torch.device("cpu"))
    if name == "hlgm":  # straight into phase 2: regularize, then denoise masking
        method.plateau_epoch = 0
    return method


def _steps(name, precision, steps=3, hlgm_epoch=1):
    torch.manual_seed(0)
    model = create_model("cnn2", num_classes=10, in_channels=1, image_size=28)
    method = _method(name)
    method.start_epoch(hlgm_epoch)
    opt = make_optimizer("adadelta", model.parameters(), 1.0)
    before = [p.detach().clone() for p in model.parameters()]
    x, y = _data()
    losses = []
    for s in range(steps):
        idx = torch.arange(8) + 8 * (s % 2)
        out = train_step(model, method, opt, x[idx], y[idx], idx, precision)
        losses.append(out.loss.detach())
    return model, before, losses, method


@pytest.mark.parametrize(
    ("name", "hlgm_epoch"),
    [("traditional", 1), ("sgt", 1), ("smoot", 1), ("hlgm", 1), ("hlgm", 5)],
)
def test_bf16_autocast_steps_train(name, hlgm_epoch):
    model, before, losses, method = _steps(name, Precision("bf16", "cpu"), hlgm_epoch=hlgm_epoch)
    assert all(torch.isfinite(v) and v.dtype == torch.float32 for v in losses)
    assert all(p.dtype == torch.float32 for p in model.parameters())
    changed = [
        not torch.equal(a, b.detach()) for a, b in zip(before, model.parameters(), strict=True)
    ]
    assert all(changed)
    if name == "hlgm":
        assert method.phase == ("regularize" if hlgm_epoch == 1 else "denoise")
    # autocast really acted: the same steps in float32 give other losses
    _, _, fp32_losses, _ = _steps(name, None, hlgm_epoch=hlgm_epoch)
    assert not torch.equal(torch.stack(losses), torch.stack(fp32_losses))
    # same weights at the first step: bfloat16 rounding only (later steps drift apart)
    assert losses[0].item() == pytest.approx(fp32_losses[0].item(), rel=0.02)


def test_fp32_precision_object_gives_identical_numbers():
    model_a, _, losses_a, _ = _steps("sgt", None)
    model_b, _, losses_b, _ = _steps("sgt", Precision("fp32", "cpu"))
    assert torch.equal(torch.stack(losses_a), torch.stack(losses_b))
    for a, b in zip(model_a.parameters(), model_b.parameters(), strict=True):
        assert torch.equal(a, b)


def test_fp16_step_uses_grad_scaler_and_keeps_its_state():
    precision = Precision("fp16", "cpu")
    assert precision.scaler is not None and Precision("bf16", "cpu").scaler is None
    model, before, losses, _ = _steps("sgt", precision, steps=2)
    assert all(torch.isfinite(v) for v in losses)
    assert any(
        not torch.equal(a, b.detach()) for a, b in zip(before, model.parameters(), strict=True)
    )
    state = precision.state_dict()
    again = Precision("fp16", "cpu")
    again.load_state_dict(state)
    assert again.scaler.get_scale() == precision.scaler.get_scale()
    assert Precision("fp32").state_dict() == {}


def _tiny_gradient_model():
    torch.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(256, 3))
    with torch.no_grad():  # input gradients of ~1e-8: below float16's normal range
        m[0].weight.mul_(1e-3)
        m[3].weight.mul_(1e-3)
    return m


def _saliency(model, x, y, output="log_prob"):
    x_in = x.clone().requires_grad_(True)
    return saliency_module.gradient_from_logits(model(x_in), x_in, y, output)


def test_saliency_gradient_correct_under_autocast(monkeypatch):
    """The training saliency under autocast: float32 gradients close to the float32 ones; under
    float16 the objective's scale keeps small gradients from underflowing to zero."""
    model = _tiny_gradient_model()
    g = torch.Generator().manual_seed(3)
    x, y = torch.randn(6, 1, 8, 8, generator=g), torch.tensor([0, 1, 2, 0, 1, 2])
    ref = _saliency(model, x, y)
    assert ref.abs().max() < 1e-6

    def cosine(a):
        return F.cosine_similarity(a.flatten(), ref.flatten(), dim=0).item()

    with torch.autocast("cpu", dtype=torch.bfloat16):
        bf16 = _saliency(model, x, y)
    assert bf16.dtype == torch.float32 and cosine(bf16) > 0.999
    with torch.autocast("cpu", dtype=torch.float16):
        fp16 = _saliency(model, x, y)
    assert fp16.dtype == torch.float32 and cosine(fp16) > 0.999
    assert (fp16 == 0).float().mean() == 0
    monkeypatch.setattr(saliency_module, "FP16_SALIENCY_SCALE", 1.0)
    with torch.autocast("cpu", dtype=torch.float16):
        unscaled = _saliency(model, x, y)
    assert (unscaled == 0).float().mean() > 0.2  # what the scale prevents
    assert cosine(unscaled) < cosine(fp16)


# --------------------------------------------------------------------------- data on the device


class _ItemLoader:
    """Deterministic lazy items (picklable), as the package's lazy datasets read them."""

    def __init__(self, x):
        self.x = x

    def __call__(self, j):
        return self.x[j] * 1.0


def _lazy_dataset(n, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 28, 28, generator=g)
    y = torch.randint(0, 10, (n,), generator=g)
    kw = dict(split="train", y=y, num_classes=10, in_channels=1, image_size=28, mean=(0.0,),
              std=(1.0,), provenance={}, item_loader=_ItemLoader(x))  # fmt: skip
    return ImageDataset(name="lazy", **kw)


def _fit(on_device, method="smoot"):
    train, test = _lazy_dataset(40, 1), _lazy_dataset(12, 2)
    assert not train.in_memory
    torch.manual_seed(0)
    model = create_model("cnn2", num_classes=10, in_channels=1, image_size=28)
    m = get_method(method)
    m.setup(len(train), 28 * 28, 10, torch.device("cpu"))
    opt = make_optimizer("adadelta", model.parameters(), 1.0)
    tl = make_loader(train, 16, shuffle=True, seed=3, on_device=on_device)
    el = make_loader(test, 8, shuffle=False, on_device=on_device)
    assert tl.fast == on_device
    history = Trainer(model, m, opt, tl, el, progress=False).fit(2)
    return model, history, m


def test_data_on_device_gives_bit_identical_training():
    model_a, hist_a, m_a = _fit(False)
    model_b, hist_b, m_b = _fit(True)
    for a, b in zip(model_a.state_dict().values(), model_b.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert [h["train_loss"] for h in hist_a] == [h["train_loss"] for h in hist_b]
    assert [h["test_acc"] for h in hist_a] == [h["test_acc"] for h in hist_b]
    assert torch.equal(m_a.per_sample_k(), m_b.per_sample_k())


def test_data_on_device_same_batch_order():
    ds = _lazy_dataset(23, 4)
    off = list(make_loader(ds, 5, seed=7).batches(3))
    on = list(make_loader(ds, 5, seed=7, on_device=True).batches(3))
    assert len(off) == len(on) == 5
    for (xa, ya, ia), (xb, yb, ib) in zip(off, on, strict=True):
        assert torch.equal(xa, xb) and torch.equal(ya, yb) and torch.equal(ia, ib)


# --------------------------------------------------------------------------- device placement


class _DeviceWatch(TorchDispatchMode):
    """Records every tensor an op creates that is not on ``device``. The optimiser's 0-dim step
    counters live on the CPU by design (torch.optim), so 0-dim tensors made inside
    ``optimizer.step`` are allowed."""

    def __init__(self, device="meta"):
        super().__init__()
        self.device = device
        self.in_optimizer = False
        self.wrong = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in tree_flatten(out)[0]:
            if isinstance(t, torch.Tensor) and t.device.type != self.device:
                if not (self.in_optimizer and t.dim() == 0):
                    self.wrong.append(f"{func} -> {t.device} {tuple(t.shape)}")
        return out

    def watch(self, optimizer):
        optimizer.register_step_pre_hook(lambda *a: setattr(self, "in_optimizer", True))
        optimizer.register_step_post_hook(lambda *a: setattr(self, "in_optimizer", False))


def _meta_step(model_name, channels, size, method_name, options, watch):
    model = create_model(model_name, num_classes=10, in_channels=channels, image_size=size)
    model = model.to("meta")
    method = get_method(method_name, **options)
    method.setup(16, size * size, 10, torch.device("meta"))
    if method_name == "hlgm":
        method.plateau_epoch = 0
        method.start_epoch(1)
    opt = make_optimizer("sgd", model.parameters(), 0.1, momentum=0.9)
    watch.watch(opt)
    x = torch.empty(4, channels, size, size, device="meta")
    y = torch.zeros(4, dtype=torch.long, device="meta")
    idx = torch.arange(4, device="meta")
    with watch:
        out = train_step(model, method, opt, x, y, idx)
    return out


STEP_CASES = [
    ("cnn2", 1, 28, "traditional", {}),
    ("cnn2", 1, 28, "sgt", {}),
    ("cnn2", 1, 28, "sgt", {"saliency_mode": "fused", "fill": "mean"}),
    ("cnn2", 1, 28, "sgt", {"share_prefix": False, "fill": "uniform_feature"}),
    ("cnn2", 1, 28, "smoot", {"k_update": "eval"}),
    ("cnn2", 1, 28, "hlgm", {"fill": "constant", "fill_value": 0.0}),
    ("resnet18", 3, 32, "smoot", {}),
    ("deit_tiny", 3, 32, "hlgm", {}),
]


@pytest.mark.parametrize(("model", "channels", "size", "method", "options"), STEP_CASES)
def test_training_step_creates_every_tensor_on_the_device(model, channels, size, method, options):
    """One step with model and data on the ``meta`` device (a stand-in for a GPU): any tensor
    the step, the saliency or the masking creates on the CPU is recorded (and would be a
    device mismatch or a host copy on a GPU)."""
    watch = _DeviceWatch()
    out = _meta_step(model, channels, size, method, options, watch)
    assert out.loss.device.type == "meta"
    assert watch.wrong == []


def test_device_watch_catches_a_cpu_tensor(monkeypatch):
    """The check above can fail: a masking fill that forgets ``device=`` is caught."""
    import saliency_lib.masking as masking

    def careless_fill(x, fill, value, generator):
        return torch.zeros(x.shape).to(x.device)  # created on the CPU, then copied

    monkeypatch.setattr(masking, "fill_values", careless_fill)
    watch = _DeviceWatch()
    _meta_step("cnn2", 1, 28, "sgt", {}, watch)
    assert any("zeros" in w and "cpu" in w for w in watch.wrong)


# --------------------------------------------------------------------------- runs sharing a GPU


def _planned(model, seed=0, device="auto", method="traditional"):
    from saliency_lib.pipeline.plan import PlannedRun

    config = RunConfig(
        method=method, dataset="synthetic", model=model, seed=seed, epochs=2, batch_size=32,
        dataset_params={"n": 64, "num_classes": 4, "image_size": 8}, progress=False,
        device=device,
    )  # fmt: skip
    return PlannedRun(config.run_id, config, ["nb"], None, False)


def test_pack_runs_groups_small_cnn_runs_in_order():
    from saliency_lib.pipeline.executors import pack_runs
    from saliency_lib.pipeline.params import ParameterError

    runs = [_planned("cnn2", 0), _planned("resnet18", 0), _planned("cnn2", 1),
            _planned("cnn2", 2), _planned("cnn2", 3, device="cpu"), _planned("cnn2", 4),
            _planned("deit_tiny", 1)]  # fmt: skip
    ids = [[r.config.seed, r.config.model] for r in runs]
    packed = pack_runs(runs, 3)
    got = [[[r.config.seed, r.config.model] for r in job] for job in packed]
    assert got == [
        [ids[0], ids[2], ids[3]],  # the first three cnn2 runs of one device, in plan order
        [ids[1]],  # ResNet-18: alone
        [ids[4]],  # another device: its own job
        [ids[5]],
        [ids[6]],
    ]
    assert sorted(r.run_id for job in packed for r in job) == sorted(r.run_id for r in runs)
    assert pack_runs(runs, 1) == [[r] for r in runs]
    with pytest.raises(ParameterError, match="runs_per_job"):
        pack_runs(runs, 0)


def test_cluster_options_check_packing():
    from saliency_lib.pipeline.executors import ClusterOptions
    from saliency_lib.pipeline.params import ParameterError

    assert ClusterOptions("debug", runs_per_job=3, pack="sequential").runs_per_job == 3
    with pytest.raises(ParameterError, match="runs_per_job"):
        ClusterOptions(runs_per_job=0)
    with pytest.raises(ParameterError, match="pack must be one of"):
        ClusterOptions(pack="threads")


class _Done:
    """What ``_collect`` needs of a finished submitit job."""

    job_id, paths = "7", None

    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value


def test_packed_job_results_equal_the_runs_trained_alone(tmp_path):
    """Two small runs in one job, at once in two processes and one after the other: every run
    completes with the numbers of the run trained alone (each process has its own generators);
    the packed result is read back per run; a requeue repeats the same call."""
    from saliency_lib.pipeline.executors import PackedTrainJob, TrainJob, _collect
    from saliency_lib.runs import load_run

    runs = [_planned("cnn2", 0, method="sgt"), _planned("cnn2", 1, method="smoot")]
    dicts = [r.config.to_dict() for r in runs]
    alone = tmp_path / "alone"
    threads = torch.get_num_threads()
    try:  # one torch thread everywhere: CPU float sums depend on the thread count
        for d in dicts:
            TrainJob(threads=1)(d, str(alone))
        outs = {m: PackedTrainJob(m, threads=1)(dicts, str(tmp_path / m))
                for m in ("processes", "sequential")}  # fmt: skip
    finally:
        torch.set_num_threads(threads)
    for mode, out in outs.items():
        store = tmp_path / mode
        assert [o["status"] for o in out] == ["complete", "complete"]
        assert [o["run_id"] for o in out] == [r.run_id for r in runs]
        for r in runs:
            a, b = load_run(r.config, alone), load_run(r.config, store)
            assert [h["train_loss"] for h in a.history] == [h["train_loss"] for h in b.history]
            for x, y in zip(a.model.state_dict().values(), b.model.state_dict().values(),
                            strict=True):  # fmt: skip
                assert torch.equal(x, y)

        res = [_collect(_Done(out), r, store) for r in runs]
        assert all(x.ok and x.info["run_id"] == r.run_id for x, r in zip(res, runs, strict=True))
    job = PackedTrainJob("sequential")
    delayed = job.checkpoint(dicts, "s")
    assert delayed.function is job and delayed.args == (dicts, "s")


class _FakeJob:
    def __init__(self, fn, args):
        self.fn, self.args, self.job_id, self.paths = fn, args, "1", None

    def done(self):
        return True

    def result(self):  # what the job would return, without training
        dicts = self.args[0] if isinstance(self.args[0], list) else [self.args[0]]
        out = [{"run_id": RunConfig.from_dict(dict(d)).run_id, "status": "complete"}
               for d in dicts]  # fmt: skip
        return out if isinstance(self.args[0], list) else out[0]


class _FakeExecutor:
    def __init__(self):
        self.calls = []

    def map_array(self, fn, *arrays):
        self.calls.append((fn, arrays[0]))
        return [_FakeJob(fn, args) for args in zip(*arrays, strict=True)]

    def submit(self, fn, *args):
        self.calls.append((fn, args[0]))
        return _FakeJob(fn, args)


@pytest.mark.parametrize("executor", ["debug", "local"])
def test_waves_submit_packed_jobs_and_report_each_run(monkeypatch, executor):
    """A wave with packing: one submission per pack (PackedTrainJob with the pack mode), one
    result per run; without packing, one TrainJob per run as before."""
    from saliency_lib.pipeline import executors as cluster

    monkeypatch.setattr(cluster, "is_complete", lambda config, store: True)
    runs = [_planned("cnn2", 0), _planned("cnn2", 1), _planned("resnet18", 0), _planned("cnn2", 2)]
    for per, pack in ((2, "sequential"), (1, "processes")):
        ex, said = _FakeExecutor(), []
        options = cluster.ClusterOptions(executor, runs_per_job=per, pack=pack, poll_seconds=0)
        waves = cluster._Waves(ex, options, [], "store", None, said.append)
        results = waves.run(runs)
        assert sorted(r.run_id for r in results) == sorted(r.run_id for r in runs)
        assert all(r.ok for r in results)
        submitted = [fn for fn, _ in ex.calls] if executor == "local" else [ex.calls[0][0]]
        if per == 2:
            assert all(isinstance(fn, cluster.PackedTrainJob) for fn in submitted)
            assert all(fn.mode == "sequential" for fn in submitted)
            sizes = [len(a) for _, a in ex.calls] if executor == "local" else [
                len(a) for a in ex.calls[0][1]]  # fmt: skip
            assert sizes == [2, 1, 1]  # cnn2 s0+s1, resnet18, cnn2 s2
        else:
            assert all(type(fn) is cluster.TrainJob for fn in submitted)
            n = len(ex.calls) if executor == "local" else len(ex.calls[0][1])
            assert n == 4
