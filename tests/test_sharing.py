"""What the cpu profile's notebooks share (docs/performance.md, "Work shared between
notebooks"): a run that several notebooks use is trained once, because their parameters give it
the same run id. These tests read the planner (no training) and fail when an edit to a params
file quietly splits a shared run in two."""

from __future__ import annotations

from collections import defaultdict

import pytest

from saliency_lib.pipeline.plan import plan

#: (dataset, method) -> the notebooks whose runs of that family must be the same runs.
SHARED = {
    ("fashion_mnist", "sgt"): {
        "hlgm_fig2_5_tab2_accuracy",
        "hlgm_fig6_saliency_maps",
        "smoot_tab2_tab3_fig3_accuracy_drop",
        "smoot_fig2_sgt_fig2_saliency_maps",
        "sgt_fig2bc_maps_gradient_means",
    },
    ("fashion_mnist", "traditional"): {
        "smoot_tab2_tab3_fig3_accuracy_drop",
        "smoot_fig1_motivation",
        "smoot_fig2_sgt_fig2_saliency_maps",
        "sgt_fig2bc_maps_gradient_means",
    },
    ("mnist", "traditional"): {
        "sgt_fig3_accuracy_drop_saliency_methods",
        "sgt_fig4_feature_replacement",
        "sgt_fig2bc_maps_gradient_means",
    },
    ("mnist", "sgt"): {
        "sgt_fig3_accuracy_drop_saliency_methods",
        "sgt_fig4_feature_replacement",
        "sgt_fig2bc_maps_gradient_means",
    },
}
#: RunConfig fields that change what is recorded about a run but not its trained weights.
WEIGHT_NEUTRAL = ("test_eval",)


@pytest.fixture(scope="module")
def cpu_plan(tmp_path_factory):
    return plan("cpu", store=tmp_path_factory.mktemp("store"))


@pytest.mark.parametrize("family", sorted(SHARED), ids="-".join)
def test_a_shared_family_is_one_set_of_runs(cpu_plan, family):
    dataset, method = family
    runs = [
        r
        for r in cpu_plan
        if r.config.dataset == dataset
        and r.config.method == method
        and r.config.model == "cnn2"
        and SHARED[family] & set(r.notebooks)
    ]
    assert runs, f"no {method} run on {dataset} in the cpu profile"
    for r in runs:
        missing = SHARED[family] - set(r.notebooks)
        assert not missing, f"{r.run_id} is not used by {sorted(missing)}: trained twice?"
    assert len({r.config.seed for r in runs}) == len(runs), "two runs of one seed"


def test_sgt_fig2bc_trains_nothing_of_its_own(cpu_plan):
    own = [r.run_id for r in cpu_plan if r.notebooks == ["sgt_fig2bc_maps_gradient_means"]]
    assert not own, f"runs only sgt_fig2bc uses (its params say it trains nothing): {own}"


def test_no_two_runs_differ_only_in_what_leaves_the_weights_alone(cpu_plan):
    groups = defaultdict(list)
    for r in cpu_plan:
        identity = r.config.identity()
        for name in WEIGHT_NEUTRAL:
            identity.pop(name, None)
        groups[repr(sorted(identity.items()))].append(r)
    twins = [[(r.run_id, r.notebooks) for r in g] for g in groups.values() if len(g) > 1]
    assert not twins, f"the same model trained twice (they differ in {WEIGHT_NEUTRAL}): {twins}"
