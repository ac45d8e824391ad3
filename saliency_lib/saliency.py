"""Saliency maps: training input gradient (docs/methods.md §3.1), evaluation attributions (§4).

Every function returns one score per pixel position, shape (B, H, W), the channel mean of the
attribution. ``attribute`` dispatches by name through a registry to captum, so new methods are
added in one place.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from .registry import Registry

SALIENCY_METHODS = Registry("saliency method")
OUTPUTS = ("log_prob", "logit")
#: Under float16 autocast the training saliency differentiates ``FP16_SALIENCY_SCALE`` times the
#: objective and divides the gradient back: small input gradients (the bottom of the ranking
#: SGT masks) would underflow in float16 otherwise. A positive factor changes no ranking.
FP16_SALIENCY_SCALE = 2.0**10


class LogSoftmaxHead(nn.Module):
    """``log_softmax(model(x))``: what SGT's reference code differentiates (docs/methods.md §3.1)"""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.log_softmax(self.model(x), dim=1)


def _check_output(output: str) -> None:
    if output not in OUTPUTS:
        raise ValueError(f"saliency output must be one of {OUTPUTS}, got {output!r}")


def gradient_from_logits(
    logits: torch.Tensor,
    x: torch.Tensor,
    y: torch.Tensor,
    output: str = "log_prob",
    retain_graph: bool = False,
) -> torch.Tensor:
    """d output[y] / d x for a forward pass that already happened (``x`` requires grad).

    Used by the ``fused`` saliency mode (docs/methods.md §3.1), reusing the loss's own forward pass.
    Returns the raw gradient (B, C, H, W), in ``x``'s dtype. Under autocast the output is
    taken in float32 (a no-op for float32 logits); under float16 autocast the objective is
    scaled by :data:`FP16_SALIENCY_SCALE` against underflow and the gradient scaled back.
    """
    _check_output(output)
    logits = logits.float()
    out = F.log_softmax(logits, dim=1) if output == "log_prob" else logits
    selected = out.gather(1, y[:, None]).sum()
    device_type = x.device.type
    fp16 = (
        torch.amp.is_autocast_available(device_type)  # not for e.g. the meta device
        and torch.is_autocast_enabled(device_type)
        and torch.get_autocast_dtype(device_type) == torch.float16
    )
    scale = FP16_SALIENCY_SCALE if fp16 else None
    if scale is None:
        (grad,) = torch.autograd.grad(selected, x, retain_graph=retain_graph)
        return grad
    (grad,) = torch.autograd.grad(selected * scale, x, retain_graph=retain_graph)
    return grad / scale


def training_saliency(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    output: str = "log_prob",
    abs: bool = False,
) -> torch.Tensor:
    """docs/methods.md §3.1, SGT Alg. 1 line 4: input gradient at the true label, eval mode.

    Equals captum ``Saliency(f).attribute(x, target=y, abs=False)`` channel-averaged, where ``f``
    is ``log_softmax(model)`` (``output="log_prob"``, the default) or ``model`` (``"logit"``).
    The model's train/eval state is restored afterwards. Returns (B, H, W), signed unless ``abs``.
    """
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad():
            x_in = x.detach().requires_grad_(True)
            grad = gradient_from_logits(model(x_in), x_in, y, output)
    finally:
        model.train(was_training)
    return reduce_channels(grad, abs=abs)


def reduce_channels(attr: torch.Tensor, abs: bool = False) -> torch.Tensor:
    """(B, C, H, W) attribution -> (B, H, W) score per position: channel mean (of |a| if abs)."""
    return (attr.abs() if abs else attr).mean(dim=1)


def make_baseline(x: torch.Tensor, kind: str | float | torch.Tensor, generator=None):
    """Baselines for IG / DeepLIFT / GradientSHAP: ``"uniform"`` noise in each sample's channel
    range (the SGT reference code), ``"zeros"``, or a given value/tensor. Always detached: a
    baseline built from an input that requires grad would carry gradient back into that input
    at its minimum and maximum cells (DeepLIFT differentiates through its baseline half)."""
    x = x.detach()
    if isinstance(kind, torch.Tensor):
        return kind.detach().to(x)
    if kind == "uniform":
        lo = x.amin(dim=(2, 3), keepdim=True)
        hi = x.amax(dim=(2, 3), keepdim=True)
        return lo + (hi - lo) * torch.rand(x.shape, generator=generator, device=x.device)
    if kind == "zeros":
        return torch.zeros_like(x)
    if isinstance(kind, int | float):
        return torch.full_like(x, float(kind))
    raise ValueError(f"unknown baseline {kind!r}; use 'uniform', 'zeros', a number or a tensor")


@SALIENCY_METHODS.register("grad")
def _grad(f, x, y, generator=None):
    from captum.attr import Saliency

    return Saliency(f).attribute(x, target=y, abs=False)


@SALIENCY_METHODS.register("ig")
def _ig(f, x, y, generator=None, baseline="uniform", n_steps=50):
    from captum.attr import IntegratedGradients

    base = make_baseline(x, baseline, generator)
    return IntegratedGradients(f).attribute(x, baselines=base, target=y, n_steps=n_steps)


@SALIENCY_METHODS.register("smoothgrad")
def _smoothgrad(f, x, y, generator=None, nt_samples=10, stdev_fraction=0.15):
    from captum.attr import NoiseTunnel, Saliency

    # SmoothGrad noise: sigma = 15 % of the input range (Smilkov et al.); captum's noise uses the
    # global torch RNG, so callers seed it (``attribute`` does, from ``generator``).
    stdev = float(stdev_fraction * (x.max() - x.min()).detach())
    return NoiseTunnel(Saliency(f)).attribute(
        x, nt_type="smoothgrad", nt_samples=nt_samples, stdevs=stdev, target=y, abs=False
    )


def _rule_hooks(module: nn.Module, rule: Callable) -> list:
    """Hooks that apply a DeepLIFT ``rule(module, grad_input, grad_output)`` in ``module``'s
    backward pass (docs/methods.md, DeepLIFT).

    The gradient at the module's output is kept by a hook on its output tensor; the rule
    rewrites the gradient at the *copy of the input the module consumes* (captum hooks the
    tensor it was given). When two rule modules are adjacent (ReLU -> MaxPool), captum's hooks
    sit on one tensor and the ReLU reads the pool's gradient before the pool's rule rewrites it,
    which loses completeness (captum issue 1104, fixed after captum 0.9.0). Here the pool's rule
    acts on its own copy, so the ReLU's output hook receives the rewritten gradient."""
    if getattr(module, "inplace", False):
        raise ValueError(
            f"DeepLIFT needs out-of-place activations; {module} is in-place (use inplace=False)"
        )
    grad_out: dict[torch.device, torch.Tensor] = {}

    def consume_copy(mod: nn.Module, args: tuple):
        if len(args) != 1:
            raise ValueError(
                f"DeepLIFT rules need one input tensor per module, {mod} got {len(args)}"
            )
        consumed = args[0].clone()

        def rewrite(grad: torch.Tensor):
            if grad.device not in grad_out:
                return None
            return rule(mod, grad, grad_out[grad.device])

        consumed.register_hook(rewrite)
        return (consumed,)

    def keep_output_grad(mod: nn.Module, args: tuple, out: torch.Tensor) -> None:
        out.register_hook(lambda grad: grad_out.__setitem__(grad.device, grad))

    return [
        module.register_forward_pre_hook(consume_copy),
        module.register_forward_hook(keep_output_grad),
    ]


class _AdjacentRuleHooks:
    """Mixin for captum's ``DeepLift`` / ``DeepLiftShap``: the same rules, registered with
    :func:`_rule_hooks` so adjacent rule modules stay complete."""

    def _register_hooks(self, module: nn.Module, attribute_to_layer_input: bool = True) -> None:
        if not self._can_register_hook(module) or (
            not attribute_to_layer_input and module is getattr(self, "layer", None)
        ):
            return
        self.forward_handles.append(module.register_forward_hook(self._forward_hook))
        self.forward_handles.append(module.register_forward_pre_hook(self._forward_pre_hook))
        self.backward_handles.extend(_rule_hooks(module, self._backward_hook))


@functools.cache
def deeplift_classes() -> tuple[type, type]:
    """captum's ``DeepLift`` and ``DeepLiftShap`` with the adjacent-module fix of
    :func:`_rule_hooks` (built on first use: captum is slow to import)."""
    from captum.attr import DeepLift, DeepLiftShap

    class FixedDeepLift(_AdjacentRuleHooks, DeepLift):
        """captum ``DeepLift``; rules registered by :func:`_rule_hooks`."""

    class FixedDeepLiftShap(_AdjacentRuleHooks, DeepLiftShap):
        """captum ``DeepLiftShap``; rules registered by :func:`_rule_hooks`."""

    return FixedDeepLift, FixedDeepLiftShap


@SALIENCY_METHODS.register("deeplift")
def _deeplift(f, x, y, generator=None, baseline="uniform"):
    base = make_baseline(x, baseline, generator)
    return deeplift_classes()[0](f).attribute(x, baselines=base, target=y)


@SALIENCY_METHODS.register("gradshap")
def _gradshap(f, x, y, generator=None, n_baselines=10, n_samples=5, stdevs=0.0):
    """GradientSHAP (captum). captum draws the baseline choices and the points along the path
    from numpy's global RNG and the input noise from torch's: both are seeded from
    ``generator`` for this call and restored after it, so the attributions depend on the seed
    alone, not on what ran before in the process."""
    import numpy as np
    from captum.attr import GradientShap

    lo, hi = x.detach().amin(), x.detach().amax()
    base = lo + (hi - lo) * torch.rand(
        (n_baselines, *x.shape[1:]), generator=generator, device=x.device
    )
    if generator is None:
        return GradientShap(f).attribute(
            x, baselines=base, target=y, n_samples=n_samples, stdevs=stdevs
        )
    seed = int(torch.randint(2**31, (1,), generator=generator))
    numpy_state = np.random.get_state()
    try:
        np.random.seed(seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return GradientShap(f).attribute(
                x, baselines=base, target=y, n_samples=n_samples, stdevs=stdevs
            )
    finally:
        np.random.set_state(numpy_state)


@SALIENCY_METHODS.register("deepshap")
def _deepshap(f, x, y, generator=None, n_baselines=10):
    """DeepSHAP (captum ``DeepLiftShap``, with :func:`_rule_hooks`): DeepLIFT averaged over
    ``n_baselines`` uniform-noise baselines in the batch's range (as ``gradshap``)."""
    lo, hi = x.detach().amin(), x.detach().amax()
    base = lo + (hi - lo) * torch.rand(
        (n_baselines, *x.shape[1:]), generator=generator, device=x.device
    )
    return deeplift_classes()[1](f).attribute(x, baselines=base, target=y)


@SALIENCY_METHODS.register("random")
def _random(f, x, y, generator=None):
    return torch.rand(x.shape, generator=generator, device=x.device)


def attribute(
    model: nn.Module,
    x: torch.Tensor,
    target: torch.Tensor,
    method: str = "grad",
    abs: bool = True,
    batch_size: int | None = None,
    output: str = "log_prob",
    generator: torch.Generator | None = None,
    **kwargs,
) -> torch.Tensor:
    """Saliency scores (B, H, W) of ``method`` for ``target`` classes, model in eval mode.

    ``abs=True`` (evaluation default, docs/methods.md §4) takes |attribution| per element, then the
    channel mean; ``abs=False`` gives the signed channel mean. ``output="log_prob"`` differentiates
    ``log_softmax(model(x))`` like the SGT reference network; ``"logit"`` the raw logits.
    Methods: ``grad``, ``ig``, ``smoothgrad``, ``deeplift``, ``gradshap``, ``deepshap`` (captum),
    ``random``.
    Extra keyword arguments go to the method (e.g. ``baseline="zeros"``, ``n_steps=20``).

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from saliency_lib.api import attribute
    >>> _ = torch.manual_seed(0)
    >>> model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 5))
    >>> x, y = torch.randn(4, 3, 8, 8), torch.tensor([0, 1, 2, 3])
    >>> maps = attribute(model, x, y, method="grad")  # one |gradient| per position
    >>> maps.shape, bool((maps >= 0).all())
    (torch.Size([4, 8, 8]), True)
    """
    _check_output(output)
    fn: Callable = SALIENCY_METHODS.get(method)
    f = LogSoftmaxHead(model) if output == "log_prob" else model
    was_training = model.training
    model.eval()
    chunks = []
    step = batch_size or len(x)
    try:
        if generator is not None and method == "smoothgrad":
            torch.manual_seed(int(torch.randint(2**31, (1,), generator=generator)))
        for start in range(0, len(x), step):
            xb = x[start : start + step].detach().requires_grad_(True)
            yb = torch.as_tensor(target, device=x.device)
            yb = yb[start : start + step] if yb.dim() else yb.expand(len(xb))
            with torch.enable_grad():
                attr = fn(f, xb, yb, generator=generator, **kwargs)
            chunks.append(reduce_channels(attr.detach(), abs=abs))
    finally:
        model.train(was_training)
    return torch.cat(chunks)


def list_saliency_methods() -> list[str]:
    return SALIENCY_METHODS.names()


def deeplift_completeness(
    model: nn.Module, x: torch.Tensor, target: torch.Tensor, baselines: torch.Tensor
) -> float:
    """DeepLIFT's completeness error on ``model``'s logits (docs/methods.md, DeepLIFT): the
    largest ``|sum of attributions - (f(x) - f(b))[target]|`` over the samples, divided by the
    mean ``|(f(x) - f(b))[target]|``. About 1e-6 in float32 where every non-linearity has a
    rule (ReLU and max-pool modules); of order 1 where captum passes plain gradients (LSTM
    gates, attention softmax, layer norm). DeepSHAP averages DeepLIFT over baselines, so the
    same number holds for it. Model in eval mode (state restored)."""
    was_training = model.training
    model.eval()
    try:
        xb = x.detach().clone().requires_grad_(True)
        target = torch.as_tensor(target, device=x.device).expand(len(x))
        with torch.enable_grad():
            attr = deeplift_classes()[0](model).attribute(xb, baselines=baselines, target=target)
        with torch.no_grad():
            out = model(x).gather(1, target[:, None])[:, 0]
            ref = model(baselines).gather(1, target[:, None])[:, 0]
    finally:
        model.train(was_training)
    diff = (out - ref).double()
    miss = attr.detach().double().sum(dim=tuple(range(1, attr.dim()))) - diff
    return float(miss.abs().max() / diff.abs().mean().clamp_min(1e-12))
