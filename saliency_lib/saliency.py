"""Saliency maps: training input gradient (docs/methods.md §3.1), evaluation attributions (§4).

Every function returns one score per pixel position, shape (B, H, W), the channel mean of the
attribution. ``attribute`` dispatches by name through a registry to captum, so new methods are
added in one place.
"""

from __future__ import annotations

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
    range (the SGT reference code), ``"zeros"``, or a given value/tensor."""
    if isinstance(kind, torch.Tensor):
        return kind.to(x)
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


@SALIENCY_METHODS.register("deeplift")
def _deeplift(f, x, y, generator=None, baseline="uniform"):
    from captum.attr import DeepLift

    base = make_baseline(x, baseline, generator)
    return DeepLift(f).attribute(x, baselines=base, target=y)


@SALIENCY_METHODS.register("gradshap")
def _gradshap(f, x, y, generator=None, n_baselines=10, n_samples=5, stdevs=0.0):
    from captum.attr import GradientShap

    lo, hi = x.amin(), x.amax()
    base = lo + (hi - lo) * torch.rand(
        (n_baselines, *x.shape[1:]), generator=generator, device=x.device
    )
    return GradientShap(f).attribute(
        x, baselines=base, target=y, n_samples=n_samples, stdevs=stdevs
    )


@SALIENCY_METHODS.register("deepshap")
def _deepshap(f, x, y, generator=None, n_baselines=10):
    """DeepSHAP (captum ``DeepLiftShap``): DeepLIFT averaged over ``n_baselines`` uniform-noise
    baselines in the batch's range (as ``gradshap``)."""
    from captum.attr import DeepLiftShap

    lo, hi = x.amin(), x.amax()
    base = lo + (hi - lo) * torch.rand(
        (n_baselines, *x.shape[1:]), generator=generator, device=x.device
    )
    return DeepLiftShap(f).attribute(x, baselines=base, target=y)


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
