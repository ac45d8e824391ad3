"""Verdict rules on constructed per-seed values (saliency_lib/claims)."""

import math

import numpy as np
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
    assert r["paper_item"] == "SMOOT Fig. 3" and r["source"] == "SMOOT"
    assert r["paper_effect"] == pytest.approx(36.18 - 39.91)
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


def test_the_same_difference_in_every_seed_without_finer_data_is_inconclusive():
    """A discrete measure can give the same paired difference in all seeds: the t interval then
    has no width and decides nothing; without per-image values the record says what would."""
    d = decide([0.625, 0.75, 0.5], [0.5, 0.625, 0.375], "greater")
    assert d.verdict == Verdict.INCONCLUSIVE and math.isnan(d.resolvable)
    assert "the same difference in every seed" in d.reason and "+0.125" in d.reason
    assert "per-image values would decide" in d.reason
    # the same up to float rounding (0.3 - 0.1 != 0.2 - 0.0): still no spread
    d = decide([0.3, 0.5, 0.7], [0.1, 0.3, 0.5], "greater")
    assert len({x - y for x, y in zip([0.3, 0.5, 0.7], [0.1, 0.3, 0.5], strict=True)}) > 1
    assert d.verdict == Verdict.INCONCLUSIVE and "the same difference" in d.reason
    # identical in every seed: nothing resolved either (not "resolvable 0")
    d = decide([0.5, 0.25, 0.75], [0.5, 0.25, 0.75], "greater")
    assert "identical in every seed" in d.reason and d.to_dict()["resolvable"] is None
    d = decide([0.625, 0.75, 0.5], [0.5, 0.625, 0.37], "greater")  # a little spread: decided
    assert d.verdict == Verdict.HOLDS and d.resolvable > 0


def _sib_units(rng, n_images, shift, seeds):
    """Per-image SIB-like values (multiples of 1/16) of two models per seed whose medians are the
    same in every seed (``a``'s values are ``b``'s moved up by ``shift`` sixteenths, the same
    multisets each seed) while the per-image pairing differs from seed to seed."""
    b_values = np.sort(rng.integers(4, 12, size=n_images) / 16)
    a_values = b_values + shift / 16
    out = []
    for _ in range(seeds):
        order = rng.permutation(n_images)
        paired = order.copy()
        swap = rng.choice(n_images, size=n_images // 5, replace=False)
        paired[swap] = rng.permutation(paired[swap])  # a fifth of the images paired at random
        out.append((a_values[order], b_values[paired]))
    return out


def test_a_constant_difference_is_decided_on_the_images_never_weaker_than_a_noisy_one():
    """Rule 5 of the claims issue: a constant paired difference (a discrete median, the same in
    every seed) is decided on the per-image values within the seeds, and with a clear effect it
    holds, as a spread difference of the same sign and size does."""
    rng = np.random.default_rng(0)
    units = _sib_units(rng, 400, 3, 3)
    a = [float(np.median(u[0])) for u in units]
    b = [float(np.median(u[1])) for u in units]
    assert len({x - y for x, y in zip(a, b, strict=True)}) == 1  # the constructed constant case
    const = decide(a, b, "greater", units=units, statistic=np.median)
    spread = decide([0.169 + 0.6, 0.163 + 0.6, 0.188 + 0.6], [0.6] * 3, "greater")
    assert spread.verdict == Verdict.HOLDS
    assert const.verdict == Verdict.HOLDS and const.interval == "bootstrap"
    assert const.ci_low > 0 and "bootstrap" in const.reason
    # the same call twice: the same interval (the bootstrap's generator is seeded)
    again = decide(a, b, "greater", units=units, statistic=np.median)
    assert (again.ci_low, again.ci_high) == (const.ci_low, const.ci_high)
    # no effect in the images: the bootstrap interval straddles 0
    flat = [(u[1].copy(), u[1]) for u in units]
    flat_a = [float(np.median(x)) for x, _ in flat]
    none = decide(flat_a, b, "greater", units=flat, statistic=np.median)
    assert none.verdict != Verdict.HOLDS


def test_p_value_matches_the_interval_decision():
    rng = np.random.default_rng(1)
    for direction, margin in (("greater", 0.0), ("less", 0.0), ("at_least", 1.0),
                              ("exceeds", 0.5), ("equivalent", 2.0)):  # fmt: skip
        for _ in range(40):
            n = int(rng.integers(3, 7))
            b = rng.normal(0, 1, n)
            a = b + rng.normal(rng.normal(0, 1.5), rng.uniform(0.2, 2), n)
            d = decide(a, b, direction, margin)
            decided = d.verdict in (Verdict.HOLDS, Verdict.DOES_NOT_HOLD)
            assert decided == (d.p_value < 0.05), (direction, d.reason, d.p_value)


def test_detectable_effect_has_80_percent_power():
    """The smallest effect reported as detectable is decided as *holds* in about 80 % of
    simulated paired experiments with that true effect and spread (3 seeds: about 3.3 sd)."""
    from saliency_lib.claims.verdicts import detectable_effect

    d3 = detectable_effect(1.0, 3, "greater")
    assert 3.0 < d3 < 3.6
    assert detectable_effect(1.0, 5, "greater") < d3 / 1.8  # 5 seeds: about half
    rng = np.random.default_rng(2)
    for n in (3, 5):
        delta = detectable_effect(1.0, n, "greater")
        wins = sum(decide(rng.normal(delta, 1.0, n), np.zeros(n), "greater").verdict
                   == Verdict.HOLDS for _ in range(4000))  # fmt: skip
        assert abs(wins / 4000 - 0.8) < 0.03, (n, wins)
    # a non-inferiority claim: the detectable true difference sits above -margin
    assert detectable_effect(1.0, 5, "at_least", 1.0) == pytest.approx(
        -1.0 + detectable_effect(1.0, 5, "greater")
    )


def test_exceeds_needs_the_whole_interval_above_the_margin():
    a, b = [2.1, 2.4, 2.2, 2.3], [0.0, 0.1, 0.0, 0.1]
    assert decide(a, b, "exceeds", margin=1.0).verdict is Verdict.HOLDS
    assert decide(a, b, "exceeds", margin=3.0).verdict is Verdict.DOES_NOT_HOLD
    with pytest.raises(ValueError, match="positive margin"):
        decide(a, b, "exceeds")


def test_holm_keeps_only_what_survives_the_family():
    from saliency_lib.claims.verdicts import holm

    # m = 4: thresholds 0.0125, 0.0167, 0.025, 0.05 in order of p
    assert holm([0.01, 0.04, 0.015, 0.3]) == [True, False, True, False]
    assert holm([0.01, float("nan"), 0.02]) == [True, False, True]
    assert holm([0.06]) == [False]


def _rec(claim_id, verdict, setting="s", **kw):
    d = {
        "holds": ([3.0, 3.1, 3.3], [1.0, 1.0, 1.0]),
        "inconclusive": ([1.0, 3.0, 2.0], [2.0, 1.0, 2.5]),
        "does not hold": ([1.0, 1.1, 1.3], [3.0, 3.0, 3.0]),
    }[verdict]
    if claims.get_claim(claim_id).direction == "less":
        d = d[::-1]
    r = claims.evaluate(claim_id, *d, setting=setting, **kw)
    assert r["verdict"] == verdict
    return r


def test_a_conjunction_holds_only_if_every_part_holds():
    from saliency_lib.claims.summary import family_wise, summary_rows

    parts = [_rec("sgt_auc_below_traditional", "holds"), _rec("smoot_auc_below_sgt", "holds")]
    row = next(
        r for r in summary_rows(family_wise(parts)) if r["claim_id"] == "smoot_fig3_ordering"
    )
    assert row["verdict"] == "holds" and "2 parts: 2 holds" in row["ours"]
    parts[1] = _rec("smoot_auc_below_sgt", "inconclusive")
    row = next(r for r in summary_rows(parts) if r["claim_id"] == "smoot_fig3_ordering")
    assert row["verdict"] == "inconclusive" and "deciding part" in row["ours"]
    parts[0] = _rec("sgt_auc_below_traditional", "does not hold")
    row = next(r for r in summary_rows(parts) if r["claim_id"] == "smoot_fig3_ordering")
    assert row["verdict"] == "does not hold"
    # "regardless of the saliency method": several records of one claim, decided together
    recs = [_rec("sgt_fig3_steeper_drop", "holds", f"mnist, {m}") for m in ("grad", "ig")]
    recs.append(_rec("sgt_fig3_steeper_drop", "inconclusive", "mnist, deeplift"))
    row = next(r for r in summary_rows(recs) if r["claim_id"] == "sgt_fig3_steeper_drop")
    assert row["verdict"] == "inconclusive" and "mnist, deeplift" in row["ours"]
    # a claim no notebook recorded is "not run" with what it needs
    row = next(r for r in summary_rows(recs) if r["claim_id"] == "smoot_caltech_accuracy")
    assert row["verdict"] == "not run" and "Caltech-101" in row["reason"]


def test_a_control_row_sits_beside_the_claim_it_qualifies():
    """SGT's models also drop faster under a random ranking: the claim holds on the saliency
    ranking, the control (the drop beyond each model's random-ranking drop) does not."""
    import pandas as pd

    from saliency_lib.claims.summary import summary_rows
    from saliency_lib.studies import drop_claims

    rows = []
    for seed, (t, s, tr, sr) in enumerate([(24, 17, 73, 62), (23, 15, 72, 61), (25, 19, 75, 64)]):
        rows += [{"saliency": "grad", "method": "traditional", "seed": seed, "auc": t},
                 {"saliency": "grad", "method": "sgt", "seed": seed, "auc": s},
                 {"saliency": "random", "method": "traditional", "seed": seed, "auc": tr},
                 {"saliency": "random", "method": "sgt", "seed": seed, "auc": sr}]  # fmt: skip
    (rec,) = drop_claims("sgt_fig3_steeper_drop", pd.DataFrame(rows), "sgt", "traditional", "mnist")
    assert rec["verdict"] == "holds"
    assert rec["control"]["verdict"] == "does not hold"  # gains 45-46 vs 49-50
    gains_sgt, gains_trad = [62 - 17, 61 - 15, 64 - 19], [73 - 24, 72 - 23, 75 - 25]
    assert rec["control"]["mean_diff"] == pytest.approx(np.mean(gains_sgt) - np.mean(gains_trad))
    row = next(r for r in summary_rows([rec]) if r["claim_id"] == "sgt_fig3_steeper_drop")
    assert row["verdict"] == "holds" and row["control"].startswith("does not hold")


def test_catalogue_integrity():
    """Every paper claim has a quote and its location; parts and controls exist; the papers'
    numbers in the catalogue are those of paper_numbers.yaml (one source)."""
    from saliency_lib.claims import CLAIMS, paper_numbers

    for c in CLAIMS.values():
        assert c.quote and c.location and c.quantity, c.id
        if c.kind == "paper":
            assert not c.quote.startswith("(") and "paraphrase" not in c.quote, c.id
        else:
            assert c.quote.startswith("(our"), c.id
        for p in c.parts:
            assert CLAIMS[p].part_of == c.id
    t3 = paper_numbers("smoot_table3")["rows"]
    assert CLAIMS["smoot_auc_below_sgt"].paper["fashion_mnist"] == (
        t3["smoot"]["auc"],
        t3["sgt"]["auc"],
    )
    hl = paper_numbers("hlgm_table2")["rows"]["cnn2_cifar100"]
    assert CLAIMS["hlgm_gain_range"].paper["cnn2_cifar100"] == (hl["hlgm"], hl["baseline"])


def test_changes_after_results_are_recorded_with_their_reasons():
    changes = claims.changes()
    assert len(changes) >= 5
    for c in changes:
        assert {"date", "what", "old", "new", "why"} <= set(c)
