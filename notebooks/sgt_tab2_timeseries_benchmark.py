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
# * For every test sample the cells are ranked by |attribution| (min-max normalised); at
#   10 ... 90 % of the saliency mass the top cells are "removed" and the **saliency-weighted
#   precision and recall** of that set against the box are measured; **AUP / AUR** are the areas
#   under those curves (max 0.8).
# * **Diff(AUP), Diff(AUR)** = the pair's value minus a random baseline (the same map permuted
#   along the feature axis), SGT eqs. 7-8: *higher = better*, <= 0 = no better than random.
# * Pairs captum cannot compute (DeepLIFT / DeepSHAP through an LSTM) are listed with the reason
#   and left out, not approximated.
#
# **The paper's claims:** (TCN, Integrated Gradients) under SGT is the best pair; SGT raises
# Diff(AUP) and Diff(AUR) for most pairs.

# %% tags=["parameters"]
from typing import Optional, Union

# the cpu profile's values (params/cpu/<notebook>.yaml): Run All equals it
profile: str = "cpu"  # profile of these values; outputs go to outputs/<profile>/
output_dir: Optional[str] = None  # set by the runner; None: outputs/<profile>/<notebook>/
datasets: Union[list[str], dict[str, dict]] = [
    "ts_middle", "ts_rare_feature",
]  # datasets trained with every model
dataset_params: dict = {}  # loader options shared by every dataset (root, source, canvas_size, n)
architectures: dict[str, dict] = {
    "lstm": {"epochs": 20},
    "lstm_cell_attention": {"epochs": 10},
    "tcn": {"epochs": 8},
}  # model -> training overrides; every dataset trains each model
training: dict = {
    "epochs": 20,
    "batch_size": 50,
    "optimizer": "adam",
    "lr": 0.001,
    "threads": 1,
}  # RunConfig fields of every run (threads: torch threads while training, fixed)
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
eval_samples: Optional[int] = None  # test samples evaluated (None: all)
min_accuracy: float = 90.0  # models under this test accuracy (%) are not interpreted

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
           unsupported={f"{a} {m}": r for (a, m), r in ts.UNSUPPORTED.items()})

# %% [markdown]
# ## Train (or load) every (dataset, architecture, training method, seed)
#
# Adam, batch 50; the checkpoint with the best test accuracy is interpreted (as the benchmark).

# %%
grid = studies.run_grid(datasets=datasets, dataset_params=dataset_params,
                        architectures=architectures, training=training, methods=methods,
                        seeds=seeds)
runs = {}
for (dataset_name, model), setting in grid.items():
    for (label, seed), run in studies.train_all(setting).items():
        runs[(dataset_name, model, label, seed)] = run
exp.record_runs(runs.values())

# %% [markdown]
# ## Box precision / recall of every pair, per run
#
# One row per (dataset, architecture, training method, seed, saliency method).

# %%
scores = ts.evaluate_runs(runs, saliency_methods, saliency_options, eval_samples)
per_seed = ts.per_seed_means(scores, min_accuracy)
accuracy = (scores.drop_duplicates(["dataset", "architecture", "method", "seed"])
            .pivot_table(index=["architecture", "dataset"], columns="method", values="accuracy",
                         aggfunc="mean").reset_index())
skipped = scores[scores["skipped"].notna()][["architecture", "saliency", "skipped"]]
skipped = skipped.drop_duplicates()
exp.save_table(scores, "scores_per_run", floatfmt=".3f")
exp.save_table(per_seed, "per_seed_means", floatfmt=".3f")
exp.show_table(accuracy, "test_accuracy",
               "SGT Table 2: test accuracy per network and dataset (models under min_accuracy "
               "are left out of the Diff means)")
display(skipped)

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
exp.record("results", scores=scores, per_seed=per_seed, accuracy=accuracy,
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
for c in claims:
    print(claims_lib.record_line(c))
exp.write_metrics();
