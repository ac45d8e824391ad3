# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # SGT Table 2: saliency precision and recall on the synthetic time-series benchmark
#
# Reproduces SGT (Ismail et al. 2021) **Table 2** (section 5.3): the benchmark of Ismail et al.
# 2020. Each dataset is a layout of an informative **box** in (time x feature) space (50 x 50,
# 1,000 train / 100 test samples; inside the box the positive class is shifted by +1, the
# negative by -1; Gaussian background). Each (architecture, saliency method) pair is trained
# traditionally and with SGT (bottom 50 % of the (time, feature) cells masked with uniform values
# in each feature's range, lambda 1).
#
# * **Training** as the benchmark's code: Adam, batch 50, stop after the first epoch whose train
#   or test accuracy reaches 99 % (`training.stop_at_acc`; at most `epochs`); the checkpoint with
#   the best test accuracy is interpreted, and only models with at least 90 % test accuracy
#   (`min_accuracy`) enter the means.
# * For every test sample the cells are ranked by |attribution| (min-max normalised; equal values
#   in a seeded random order); at 10 ... 90 % of the saliency mass the top cells are "removed"
#   and the **saliency-weighted precision and recall** of that set against the box are measured;
#   **AUP / AUR** are the areas under those curves (max 0.8).
# * **Diff(AUP), Diff(AUR)** = the pair's value minus a random baseline, SGT eqs. 7-8: *higher =
#   better*, <= 0 = no better than random. The random baseline is the benchmark's: per model, the
#   map of one randomly drawn saliency method, permuted along the feature axis, subtracted from
#   every method (`random_baseline="own"`: each method's own map permuted).
# * Pairs not computed are listed with the reason: DeepLIFT / DeepSHAP through an LSTM (captum
#   has no rule for its fused gates), and wherever DeepLIFT is not complete on the model (the
#   Transformer; the measured error is the reason). On the TCN DeepLIFT is complete.
#
# **The paper's claims:** (TCN, Integrated Gradients) under SGT is the best pair; SGT raises
# Diff(AUP) and Diff(AUR) for most pairs.

# %% tags=["parameters"]
from typing import Optional, Union

# the cpu profile's values (params/cpu/<notebook>.yaml): Run All equals it
profile: str = "cpu"  # profile of these values; outputs go to outputs/<profile>/
output_dir: Optional[str] = None  # set by the runner; None: outputs/<profile>/<notebook>/
datasets: Union[list[str], dict[str, dict]] = [
    "ts_middle", "ts_small_middle", "ts_moving_middle", "ts_rare_time", "ts_rare_feature",
    "ts_positional_time",
]  # datasets trained with every model
dataset_params: dict = {}  # loader options shared by every dataset (root, source, canvas_size, n)
architectures: dict[str, dict] = {
    "lstm_mnist": {},
    "lstm_cell_attention": {},
    "tcn": {},
    "transformer": {"epochs": 30},
}  # model -> training overrides; every dataset trains each model
training: dict = {
    "epochs": 150,
    "batch_size": 50,
    "optimizer": "adam",
    "lr": 0.001,
    "threads": 1,
    "stop_at_acc": 99.0,
}  # RunConfig fields of every run (threads: torch threads; stop_at_acc: stopping rule, %)
methods: dict[str, dict] = {
    "traditional": {},
    "sgt": {"k_fraction": 0.5, "lambda_kl": 1.0, "fill": "uniform_feature"},
}  # label -> training method options (key 'method' if not the label)
seeds: int = 3  # number of training seeds (0, 1, ..., seeds - 1)
saliency_methods: list[str] = [
    "grad", "ig", "deeplift", "gradshap", "deepshap", "smoothgrad",
]  # saliency methods compared (saliency_lib.saliency registry)
saliency_options: dict[str, dict] = {
    "ig": {"n_steps": 20},
    "gradshap": {"n_baselines": 5, "stdevs": 0.09},
    "deepshap": {"n_baselines": 5},
    "smoothgrad": {"nt_samples": 5},
}  # saliency method -> its options (n_steps, nt_samples, ...)
eval_samples: Optional[int] = 50  # test samples evaluated per layout (None: all)
min_accuracy: float = 90.0  # models under this test accuracy (%) are not interpreted
random_baseline: str = "benchmark"  # "benchmark": one random method's map permuted; "own"
ties: str = "random"  # order of equal saliency values: "random" (seeded), "first", "last"

# %%
import pandas as pd
from IPython.display import display

from saliency_lib import claims as claims_lib
from saliency_lib import studies
from saliency_lib.experiment import Experiment
from saliency_lib.studies import timeseries as ts

exp = Experiment("sgt_tab2_timeseries_benchmark", profile, output_dir)
exp.record("settings", datasets=datasets, dataset_params=dataset_params,
           architectures=architectures, training=training, methods=methods, seeds=seeds,
           saliency_methods=saliency_methods, saliency_options=saliency_options,
           eval_samples=eval_samples, min_accuracy=min_accuracy,
           random_baseline=random_baseline, ties=ties,
           unsupported={f"{a} {m}": r for (a, m), r in ts.UNSUPPORTED.items()})

# %% [markdown]
# ## Train (or load) every (dataset, architecture, training method, seed)
#
# Adam, batch 50, the stopping rule; the checkpoint with the best test accuracy is interpreted
# (as the benchmark). The table gives each run's epochs and interpreted checkpoint.

# %%
grid = studies.run_grid(datasets=datasets, dataset_params=dataset_params,
                        architectures=architectures, training=training, methods=methods,
                        seeds=seeds)
runs = {}
for (dataset_name, model), setting in grid.items():
    for (label, seed), run in studies.train_all(setting).items():
        runs[(dataset_name, model, label, seed)] = run
exp.record_runs(runs.values())
trained = pd.DataFrame([{"dataset": k[0], "architecture": k[1], "method": k[2], "seed": k[3],
                         "epochs": len(r.history), "best_epoch": r.best_epoch,
                         "best_test_acc": r.best_test_acc} for k, r in runs.items()])
exp.save_table(trained, "training_per_run")
display(trained.groupby(["architecture", "method"])[["epochs", "best_test_acc"]]
        .agg(["min", "median", "max"]))

# %% [markdown]
# ## Box precision / recall of every pair, per run
#
# One row per (dataset, architecture, training method, seed, saliency method).

# %%
scores = ts.evaluate_runs(runs, saliency_methods, saliency_options, eval_samples,
                          random_baseline=random_baseline, ties=ties)
per_seed = ts.per_seed_means(scores, min_accuracy)
accuracy = (scores.drop_duplicates(["dataset", "architecture", "method", "seed"])
            .pivot_table(index=["architecture", "dataset"], columns="method", values="accuracy",
                         aggfunc="mean").reset_index())
skipped = (scores.reindex(columns=[*scores.columns.drop("completeness_error", errors="ignore"),
                                    "completeness_error"])
           .loc[scores["skipped"].notna()].groupby(["architecture", "saliency"], sort=False)
           .agg(runs=("skipped", "size"), completeness_error_min=("completeness_error", "min"),
                completeness_error_max=("completeness_error", "max"), reason=("skipped", "first"))
           .reset_index())
exp.save_table(scores, "scores_per_run", floatfmt=".3f")
exp.save_table(per_seed, "per_seed_means", floatfmt=".3f")
exp.show_table(accuracy, "test_accuracy",
               "SGT Table 2: test accuracy per network and dataset (models under min_accuracy "
               "are left out of the Diff means)")
exp.show_table(skipped, "not_computed",
               "SGT Table 2: pairs not computed, with the reason (DeepLIFT's completeness error "
               "is |sum of attributions - logit difference| / mean |logit difference|)",
               floatfmt=".2g")

# %% [markdown]
# ## Table 2: Diff(AUP) and Diff(AUR), ours beside the paper's
#
# Mean over seeds of the mean over datasets (models under `min_accuracy` left out;
# `datasets_used` in `per_seed_means`). Columns `<saliency> <training>`; `paper ...` columns are
# the paper's Table 2 (its mean over all 10 datasets).

# %%
tables = {m: ts.table2(per_seed, m) for m in ("diff_aup", "diff_aur")}
for m, t in tables.items():
    exp.show_table(t, f"table2_{m}",
                   f"SGT Table 2: {'Diff(AUP)' if m == 'diff_aup' else 'Diff(AUR)'} per network "
                   "and saliency method, ours beside the paper's", floatfmt=".3f")
claims = ts.timeseries_claims("tab2", per_seed)
exp.record("results", scores=scores, per_seed=per_seed, accuracy=accuracy, trained=trained,
           table2_diff_aup=tables["diff_aup"], table2_diff_aur=tables["diff_aur"],
           skipped=skipped, claim_data={c["id"]: c["per_seed"] for c in claims})
exp.record_claims(claims)
fig = ts.plot_table2(per_seed, title="SGT Table 2: Diff(AUP) / Diff(AUR), mean over datasets")
exp.show_figure(fig, "table2_diff",
                "SGT Table 2 as a figure: Diff(AUP) and Diff(AUR), traditional vs SGT")

# %%
# NBVAL_CHECK_OUTPUT
with pd.option_context("display.width", 200, "display.max_columns", 40):
    for m, t in tables.items():
        print(f"== {m} ==")
        print(t.round(3).to_string(index=False))
if "completeness_error" in scores:
    done = scores[scores["skipped"].isna() & scores["completeness_error"].notna()]
    print("DeepLIFT-family pairs reported (complete within", ts.COMPLETENESS_TOL, "):",
          sorted(set(done["architecture"])))
for c in claims:
    print(claims_lib.record_line(c))
exp.write_metrics();
