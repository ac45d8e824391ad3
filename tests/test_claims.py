"""Verdict rules on constructed per-seed values (saliency_lib/claims)."""

import math

import pytest

from saliency_lib import claims
from saliency_lib.claims import Precondition, Verdict, combine, decide


def test_holds_when_interval_on_claimed_side():
    d = decide([10.0, 11.0, 12.0], [8.0, 9.2, 9.9], "greater")
    assert d.verdict is Verdict.HOLDS
    assert d.ci_low > 0 and d.resolvable > 0
    assert math.isclose(d.mean_diff, (2.0 + 1.8 + 2.1) / 3)


def test_less_mirrors_greater():
    assert decide([8.0, 9.2, 9.9], [10.0, 11.0, 12.0], "less").verdict is Verdict.HOLDS
    assert decide([10.0, 11.0, 12.0], [8.0, 9.2, 9.9], "less").verdict is Verdict.DOES_NOT_HOLD


def test_does_not_hold_when_interval_on_other_side():
    d = decide([1.0, 1.1, 0.9, 1.0], [2.0, 2.2, 2.1, 1.9], "greater")
    assert d.verdict is Verdict.DOES_NOT_HOLD
    assert d.ci_high < 0


def test_inconclusive_when_interval_straddles_zero():
    d = decide([1.0, 3.0, 2.0], [2.0, 1.0, 2.5], "greater")
    assert d.verdict is Verdict.INCONCLUSIVE
    assert d.ci_low < 0 < d.ci_high
    assert "straddles" in d.reason


def test_fewer_than_three_seeds_never_decides():
    for a, b in (([5.0, 6.0], [1.0, 1.1]), ([1.0, 1.1], [5.0, 6.0]), ([5.0], [1.0])):
        d = decide(a, b, "greater")
        assert d.verdict is Verdict.INCONCLUSIVE
        assert "3 needed" in d.reason
        assert math.isnan(d.ci_low) and math.isnan(d.resolvable)


def test_non_inferiority_margin():
    # a is 0.5 below b on average, tightly: within a 1-point margin -> holds
    a, b = [90.0, 90.1, 89.9, 90.0], [90.5, 90.7, 90.4, 90.5]
    assert decide(a, b, "greater").verdict is Verdict.DOES_NOT_HOLD
    assert decide(a, b, "at_least", margin=1.0).verdict is Verdict.HOLDS
    # 2 points below, tightly: outside the margin -> does not hold
    a2 = [88.5, 88.6, 88.4, 88.5]
    assert decide(a2, b, "at_least", margin=1.0).verdict is Verdict.DOES_NOT_HOLD
    with pytest.raises(ValueError, match="positive margin"):
        decide(a, b, "at_least")


def test_equivalence_margin():
    a, b = [20.0, 20.5, 19.8], [20.2, 20.1, 20.0]
    assert decide(a, b, "equivalent", margin=3.0).verdict is Verdict.HOLDS
    far = [30.0, 30.5, 29.8]
    assert decide(far, b, "equivalent", margin=3.0).verdict is Verdict.DOES_NOT_HOLD


def test_unmet_precondition_is_not_testable_whatever_the_numbers():
    pre = Precondition("K spread", 21.0, minimum=176.5, unit=" positions")
    d = decide([10.0, 11.0, 12.0], [1.0, 1.0, 1.0], "greater", preconditions=[pre])
    assert d.verdict is Verdict.NOT_TESTABLE
    assert "K spread = 21" in d.reason and "176.50" in d.reason
    met = Precondition("K spread", 300.0, minimum=176.5)
    assert (
        decide([10.0, 11.0, 12.0], [1.0, 1.0, 1.0], "greater", preconditions=[met]).verdict
        is Verdict.HOLDS
    )
    assert not Precondition("x", float("nan"), minimum=0).met


def test_identical_values_are_inconclusive_not_a_failure():
    d = decide([0.875] * 3, [0.875] * 3, "greater")
    assert d.verdict is Verdict.INCONCLUSIVE
    assert "identical" in d.reason


def test_combine_takes_the_weakest():
    h = decide([10.0, 11.0, 12.0], [8.0, 9.2, 9.9], "greater")
    i = decide([1.0, 3.0, 2.0], [2.0, 1.0, 2.5], "greater")
    n = decide([1.0, 3.0, 2.0], [2.0, 1.0, 2.5], "greater",
               preconditions=[Precondition("p", 0.0, minimum=1.0)])  # fmt: skip
    assert combine([h, h]).verdict is Verdict.HOLDS
    assert combine([h, i]).verdict is Verdict.INCONCLUSIVE
    assert combine([h, i, n]).verdict is Verdict.NOT_TESTABLE
    assert combine([]).verdict is Verdict.NOT_RUN


def test_paired_values_must_match():
    with pytest.raises(ValueError, match="equal length"):
        decide([1.0, 2.0, 3.0], [1.0, 2.0], "greater")


def test_evaluate_records_claim_data_and_paper_numbers():
    r = claims.evaluate("smoot_auc_below_sgt", [15.0, 16.0, 17.0], [18.0, 19.5, 20.0],
                        setting="fashion_mnist")  # fmt: skip
    assert r["verdict"] == "holds"
    assert r["paper"] == [36.18, 39.91]
    assert r["paper_item"] == "SMOOT Tables II-III"
    assert r["id"] == "smoot_auc_below_sgt:fashion_mnist"
    assert r["resolvable"] > 0
    assert "holds" in claims.record_line(r)


def test_absolute_number_on_other_data_is_not_testable():
    r = claims.evaluate("smoot_class_ii_share", [0.31], [0.16], setting="fashion_mnist")
    assert r["verdict"] == "not testable here"
    assert "CIFAR-10" in r["reason"]


def test_unknown_claim_lists_known_ids():
    with pytest.raises(KeyError, match="smoot_auc_below_sgt"):
        claims.evaluate("nope", [1.0], [2.0])


def test_paired_aligns_seeds():
    import pandas as pd

    t = pd.DataFrame({"method": ["a", "a", "b", "b", "b"], "seed": [1, 0, 0, 1, 2],
                      "v": [11.0, 10.0, 20.0, 21.0, 22.0]})  # fmt: skip
    assert claims.paired(t, "v", "a", "b") == ([10.0, 11.0], [20.0, 21.0])


def test_the_same_nonzero_difference_in_every_seed_is_inconclusive():
    """A discrete measure can give the same paired difference in all seeds: the t interval then
    has no width and decides nothing (it would say "holds" with a resolvable difference of 0)."""
    d = decide([0.625, 0.75, 0.5], [0.5, 0.625, 0.375], "greater")
    assert d.verdict == Verdict.INCONCLUSIVE and math.isnan(d.resolvable)
    assert "the same difference in every seed" in d.reason and "+0.125" in d.reason
    assert d.to_dict()["resolvable"] is None and combine([d, d]).verdict == Verdict.INCONCLUSIVE
    # the same up to float rounding (0.3 - 0.1 != 0.2 - 0.0): still no spread
    d = decide([0.3, 0.5, 0.7], [0.1, 0.3, 0.5], "greater")
    assert len({x - y for x, y in zip([0.3, 0.5, 0.7], [0.1, 0.3, 0.5], strict=True)}) > 1
    assert d.verdict == Verdict.INCONCLUSIVE and "the same difference" in d.reason
    # identical in every seed: nothing resolved either (not "resolvable 0")
    d = decide([0.5, 0.25, 0.75], [0.5, 0.25, 0.75], "greater")
    assert "identical in every seed" in d.reason and d.to_dict()["resolvable"] is None
    d = decide([0.625, 0.75, 0.5], [0.5, 0.625, 0.37], "greater")  # a little spread: decided
    assert d.verdict == Verdict.HOLDS and d.resolvable > 0
