"""Deterministic, resumable batch loaders, and reproducible index splits and subsets.

An epoch's order depends only on (seed, epoch).

``make_loader`` returns an ``EpochLoader``: ``loader.batches(epoch)`` yields ``(x, y, idx)`` on
``device``, where ``idx`` are positions in the dataset (for per-sample state such as SMOOT's K).
Iterating the loader itself uses the epoch set with ``set_epoch`` (default 0). The permutation of
epoch ``e`` is ``epoch_permutation(len(dataset), seed, e)``, so a run resumed at epoch ``e``
sees exactly the batches the uninterrupted run would have seen.

Fast path (in-memory datasets): the whole split is moved to ``device`` once; each batch is one
``index_select`` of the permuted positions, with no per-item Python. Lazy datasets use a torch
``DataLoader`` over the same per-epoch order (a fixed-order sampler), unless ``on_device``: then
every item is read once, in order, and the stacked split takes the fast path: the same batches,
bit for bit, when items are read deterministically (as the package's lazy datasets are), and the
same draw from torch's global generator per epoch that the DataLoader makes (its base seed).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from ..seeding import get_device

Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


def epoch_seed(seed: int, epoch: int) -> int:
    """A 63-bit torch seed derived from (seed, epoch) with NumPy's ``SeedSequence``."""
    state = np.random.SeedSequence([int(seed), int(epoch)]).generate_state(1, dtype=np.uint64)
    return int(state[0] >> np.uint64(1))


def epoch_permutation(n: int, seed: int, epoch: int) -> torch.Tensor:
    """The shuffled order (int64 positions on CPU) of ``n`` items for ``epoch``."""
    gen = torch.Generator().manual_seed(epoch_seed(seed, epoch))
    return torch.randperm(n, generator=gen)


# --- splits and subsets ------------------------------------------------------------------------
def stratified_split(
    labels: np.ndarray, test_size: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Split positions into (train, test) with exactly ``test_size`` test items, stratified.

    Each class gets ``test_size * class_count / n`` test items, rounded by largest remainder so
    the total is exact (ties to the smaller class label). Items are drawn with
    ``numpy.random.default_rng(seed)``, class by class in label order. Both index arrays are
    sorted, so each split keeps the source order.
    """
    labels = np.asarray(labels)
    n = len(labels)
    if not 0 < test_size < n:
        raise ValueError(f"test_size must be in (0, {n}), got {test_size}")
    classes, counts = np.unique(labels, return_counts=True)
    quota = counts * (test_size / n)
    take = np.floor(quota).astype(np.int64)
    order = np.argsort(-(quota - take), kind="stable")
    take[order[: test_size - int(take.sum())]] += 1
    rng = np.random.default_rng(seed)
    test = [
        rng.permutation(np.flatnonzero(labels == c))[:k] for c, k in zip(classes, take, strict=True)
    ]
    test_idx = np.sort(np.concatenate(test))
    train_idx = np.setdiff1d(np.arange(n), test_idx)
    return train_idx, test_idx


def random_subset_indices(n: int, size: int, seed: int) -> torch.Tensor:
    """``size`` distinct positions out of ``n``, drawn with ``torch.Generator().manual_seed(seed)``,
    returned sorted (the subset keeps the dataset's order)."""
    if not 0 <= size <= n:
        raise ValueError(f"subset size must be in [0, {n}], got {size}")
    gen = torch.Generator().manual_seed(int(seed))
    return torch.randperm(n, generator=gen)[:size].sort().values


# --- loaders -----------------------------------------------------------------------------------
class _FixedOrder(Sampler[int]):
    def __init__(self, order: torch.Tensor):
        self.order = order

    def __iter__(self) -> Iterator[int]:
        return iter(self.order.tolist())

    def __len__(self) -> int:
        return len(self.order)


class EpochLoader:
    """Batches of ``(x, y, idx)`` in an order fixed by ``(seed, epoch)``; see the module doc."""

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int,
        shuffle: bool = True,
        seed: int = 0,
        device: str | torch.device = "cpu",
        drop_last: bool = False,
        num_workers: int = 0,
        on_device: bool = False,
    ):
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.seed = int(seed)
        self.device = get_device(device)
        self.drop_last = bool(drop_last)
        self.num_workers = int(num_workers)
        self.epoch = 0
        self.n = len(dataset)
        x, y = getattr(dataset, "x", None), getattr(dataset, "y", None)
        self.materialised = not isinstance(x, torch.Tensor) and on_device and self.n > 0
        if self.materialised:
            x, y = _materialise(dataset, self.device)
        self.fast = isinstance(x, torch.Tensor)
        if self.fast:
            self._x = x.to(self.device)
            self._y = torch.as_tensor(y, dtype=torch.int64).to(self.device)

    def set_epoch(self, epoch: int) -> None:
        """The epoch used by ``iter(loader)``."""
        self.epoch = int(epoch)

    def order(self, epoch: int) -> torch.Tensor:
        """Positions of the items in the order of ``epoch`` (CPU int64)."""
        if self.shuffle:
            return epoch_permutation(self.n, self.seed, epoch)
        return torch.arange(self.n)

    def __len__(self) -> int:
        if self.drop_last:
            return self.n // self.batch_size
        return -(-self.n // self.batch_size)

    def __iter__(self) -> Iterator[Batch]:
        return self.batches(self.epoch)

    def batches(self, epoch: int) -> Iterator[Batch]:
        """Yield the batches of ``epoch`` as ``(x, y, idx)`` tensors on ``device``."""
        order = self.order(epoch)
        stop = len(self) * self.batch_size if self.drop_last else self.n
        if self.fast:
            if self.materialised:
                # a DataLoader draws its base seed from torch's global generator at every
                # iteration: draw it too, so every later random number (mask fills) is the same
                torch.empty((), dtype=torch.int64).random_()
            order = order.to(self.device)
            for start in range(0, stop, self.batch_size):
                idx = order[start : start + self.batch_size]
                yield self._x.index_select(0, idx), self._y.index_select(0, idx), idx
            return
        loader = DataLoader(
            self.dataset,
            batch_size=self.batch_size,
            sampler=_FixedOrder(order),
            drop_last=self.drop_last,
            num_workers=self.num_workers,
            pin_memory=self.device.type == "cuda",
        )
        for x, y, idx in loader:
            yield (
                x.to(self.device, non_blocking=True),
                torch.as_tensor(y, dtype=torch.int64).to(self.device, non_blocking=True),
                torch.as_tensor(idx, dtype=torch.int64).to(self.device, non_blocking=True),
            )

    def __repr__(self) -> str:
        path = "in-memory fast path" if self.fast else "DataLoader"
        return (
            f"EpochLoader(n={self.n}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
            f"seed={self.seed}, device={self.device}, drop_last={self.drop_last}, {path})"
        )


#: ``on_device`` refuses a split whose float32 tensor would take more than this share of the
#: device's free memory (CUDA), before reading any item.
MAX_DEVICE_SHARE = 0.5


def _materialise(dataset: Dataset, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Every item of a lazy ``dataset`` read once (in order) into one float32 tensor on
    ``device``, and the labels; a clear error first when it would not fit."""
    first = dataset[0][0]
    need = len(dataset) * first.numel() * 4
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        if need > MAX_DEVICE_SHARE * free:
            raise MemoryError(
                f"data_on_device: the {len(dataset)} items of {getattr(dataset, 'name', 'the')} "
                f"split need {need / 2**30:.1f} GiB, more than {MAX_DEVICE_SHARE:.0%} of the "
                f"{free / 2**30:.1f} GiB free on {device}; set data_on_device=False (DataLoader)"
            )
    x = torch.empty((len(dataset), *first.shape), dtype=torch.float32, device=device)
    y = torch.empty(len(dataset), dtype=torch.int64)
    for i in range(len(dataset)):
        item = dataset[i]
        x[i], y[i] = item[0], int(item[1])
    return x, y


def make_loader(
    dataset: Dataset,
    batch_size: int,
    shuffle: bool = True,
    seed: int = 0,
    device: str | torch.device = "cpu",
    drop_last: bool = False,
    num_workers: int = 0,
    on_device: bool = False,
) -> EpochLoader:
    """A deterministic per-epoch loader over ``dataset`` (items ``(x, y, i)``); see module doc.

    ``device`` may be ``"auto"`` (CUDA when present). ``num_workers`` only matters for lazy
    datasets (torch DataLoader workers). ``on_device``: a lazy dataset is read once onto
    ``device`` and batched by index like an in-memory one (``RunConfig.data_on_device``).
    """
    return EpochLoader(
        dataset, batch_size, shuffle, seed, device, drop_last, num_workers, on_device
    )
