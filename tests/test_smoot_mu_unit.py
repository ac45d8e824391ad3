"""SMOOT's step size unit (docs/methods.md §3.5): K can reach SMOOT Table IV's range in the paper's
100 epochs under ``mu_unit: per_784`` and cannot under plain positions, while Tables II-III are
unchanged (784 positions: both units agree)."""

import pytest
import torch

from saliency_lib.methods import get_method
from saliency_lib.methods.smoot import mu_in_positions
from saliency_lib.studies.common import paper_numbers

EPOCHS = 100  # SMOOT Table I
CALTECH = 224 * 224  # 50,176 positions
MNIST = 28 * 28


def _probs(top: float, n: int = 10) -> torch.Tensor:
    """A softmax with ``top`` on class 0 and the rest spread evenly (as log-probabilities)."""
    rest = (1 - top) / (n - 1)
    return torch.log(torch.tensor([[top] + [rest] * (n - 1)]))


# A constructed sequence of steps, one per image per epoch (SMOOT Alg. 2): image 0 is "class I"
# (masking its low-saliency positions costs confidence, d < 0, K shrinks), image 1 "class II"
# (masking helps, d > 0, K grows). The confidence changes are moderate (|d| about 0.3-0.4).
CLASS_I = (_probs(0.9), _probs(0.5))  # clean, masked
CLASS_II = (_probs(0.5), _probs(0.9))


def _train_k(mu_unit: str, positions: int, epochs: int = EPOCHS) -> tuple[int, int, int]:
    method = get_method("smoot", alpha=0.8, mu=10.0, mu_unit=mu_unit)  # SMOOT Table I, Caltech
    method.setup(num_train=2, num_positions=positions, num_classes=10, device="cpu")
    k0 = int(method.K[0])
    for _ in range(epochs):
        method.update_k(torch.tensor([0]), *CLASS_I)
        method.update_k(torch.tensor([1]), *CLASS_II)
    return k0, int(method.K[0]), int(method.K[1])


def test_mu_in_positions():
    assert mu_in_positions(10.0, "positions", CALTECH) == 10.0
    assert mu_in_positions(10.0, "per_784", CALTECH) == 640.0  # 10 x 50,176 / 784
    assert mu_in_positions(10.0, "per_784", MNIST) == 10.0
    with pytest.raises(ValueError, match="mu_unit"):
        get_method("smoot", mu_unit="pixels")


def test_table4_range_reachable_per_784_not_in_positions():
    table4 = paper_numbers("smoot_table4")["rows"]["smoot"]
    low, high = table4["k_min"], table4["k_max"]  # 10,000 and 28,455 of 50,176
    k0, k_low, k_high = _train_k("per_784", CALTECH)
    assert k0 == 25088
    # K_min = 20 % of 50,176 = 10,035: the paper's 10,000 is that floor, rounded
    assert k_low == round(0.2 * CALTECH) and abs(k_low - low) / low < 0.01
    assert k_high >= high
    k0, k_low, k_high = _train_k("positions", CALTECH)
    # at most mu = 10 positions per epoch: K stays within 25,088 +- 1,000
    assert k_low >= k0 - 10 * EPOCHS > low
    assert k_high <= k0 + 10 * EPOCHS < high


@pytest.mark.parametrize("table", ["smoot_table2", "smoot_table3"])
def test_tables_2_3_unchanged_and_reachable(table):
    row = paper_numbers(table)["rows"]["smoot"]
    per_784 = _train_k("per_784", MNIST)
    assert per_784 == _train_k("positions", MNIST)  # the same numbers on 784 positions
    k0, k_low, k_high = per_784
    assert k0 == 392 and k_low <= row["k_min"] and k_high >= row["k_max"]
