# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # SGT Fig. 5: saliency maps of MNIST read as a multivariate time series
#
# Reproduces SGT (Ismail et al. 2021) **Fig. 5** (section 5.3). Each MNIST image is a time
# series: the 28 image rows are time steps, the 28 columns are features. Time-series networks
# (LSTM, TCN, and in the paper profile LSTM with input-cell attention and a Transformer) are
# trained traditionally and with SGT (bottom 50 % of the (time, feature) cells masked with
# uniform values within each feature's range, lambda 1).
#
# * Each panel is |attribution| at the true label, min-max normalised per sample; time runs
#   down the vertical axis. Row 1: traditional training, row 2: SGT (as the paper's figure).
# * Pairs not computed show "not computed": DeepLIFT / DeepSHAP through an LSTM (captum has no
#   rule for its fused gates) and wherever DeepLIFT is not complete on the network (the
#   Transformer's attention; the reason, with the measured error, is printed at the end).
#
# **The paper's claim, in its words:** "There is a visible improvement in saliency quality across
# different networks when saliency guided training is used." As a number (ours, the paper gives
# none): for every network, saliency method and seed, the share of each map's top 10 % cells that
# lie on the digit (non-background pixels), mean over `share_images` test images; SGT against
# Traditional, paired by seed, for every (network, saliency method) pair ("across different
# networks": every pair must hold).

# %% tags=["parameters"]
from typing import Optional, Union

# the cpu profile's values (params/cpu/<notebook>.yaml): Run All equals it
profile: str = "cpu"  # profile of these values; outputs go to outputs/<profile>/
output_dir: Optional[str] = None  # set by the runner; None: outputs/<profile>/<notebook>/
datasets: Union[list[str], dict[str, dict]] = [
    "mnist_sequence",
]  # datasets trained with every model
dataset_params: dict = {}  # loader options shared by every dataset (root, source, canvas_size, n)
architectures: dict[str, dict] = {
    "lstm_mnist": {},
    "tcn_mnist": {},
}  # model -> training overrides; every dataset trains each model
training: dict = {
    "epochs": 4,
    "batch_size": 64,
    "optimizer": "adam",
    "lr": 0.002,
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
examples: int = 3  # test images shown (the first of each of these digits' classes)
share_images: int = 100  # test images for the share of top cells on the digit (the claim)

# %%
import pandas as pd
import torch

from saliency_lib import studies
from saliency_lib.experiment import Experiment
from saliency_lib.runs import load_splits
from saliency_lib.studies import timeseries as ts

exp = Experiment("sgt_fig5_mnist_sequence_maps", profile, output_dir)
exp.record("settings", datasets=datasets, dataset_params=dataset_params,
           architectures=architectures, training=training, methods=methods, seeds=seeds,
           saliency_methods=saliency_methods, saliency_options=saliency_options,
           examples=examples)

# %% [markdown]
# ## Train (or load) the networks
#
# The best-test-accuracy checkpoint of each run is used (its accuracy is in the table).

# %%
grid = studies.run_grid(datasets=datasets, dataset_params=dataset_params,
                        architectures=architectures, training=training, methods=methods,
                        seeds=seeds)
runs = {}
for (dataset_name, model), setting in grid.items():
    for (label, seed), run in studies.train_all(setting).items():
        runs[(dataset_name, model, label, seed)] = run
exp.record_runs(runs.values())
accuracy = [{"architecture": k[1], "method": k[2], "seed": k[3],
             "best_accuracy": r.best_test_acc, "epochs": len(r.history)}
            for k, r in runs.items()]
exp.show_table(pd.DataFrame(accuracy), "test_accuracy",
               "SGT Fig. 5: best test accuracy of each network on MNIST read as a time series")

# %% [markdown]
# ## Saliency maps, traditional (top row) vs SGT (bottom row)
#
# One figure per example image; columns are (architecture, saliency method) pairs.

# %%
test = load_splits(next(iter(runs.values())).config)[1]
idx = torch.stack([torch.nonzero(test.y == c)[0, 0] for c in range(examples)])
x, y = test.x[idx], test.y[idx]
maps = ts.example_maps(runs, x, y, saliency_methods, saliency_options)
for i in range(examples):
    digit = int(y[i])
    fig = ts.plot_map_grid(maps, sample=i, title=f"MNIST as a time series, digit {digit}")
    exp.show_figure(fig, f"fig5_maps_digit{digit}",
                    f"SGT Fig. 5: saliency maps of digit {digit} read row by row as a time "
                    "series, traditional (top row) vs SGT (bottom row), per network and "
                    "saliency method", in_report=i < 2)
exp.record("results", accuracy=accuracy, example_indices=idx,
           not_computed={f"{a} {s} {m}": v for (a, s, m), v in maps.items() if isinstance(v, str)})

# %% [markdown]
# ## How much of each map lies on the digit
#
# Per network, saliency method and seed: the share of the top 10 % cells on the digit, mean over
# `share_images` seeded test images (the digit covers about a fifth of the image: a map spread at
# random scores about 0.2).

# %%
shares = ts.digit_shares(runs, *studies.first_images(studies.eval_subset(test, share_images),
                                                     share_images), saliency_methods,
                         saliency_options)
table = shares.pivot_table(index=["architecture", "saliency"], columns="method",
                           values="share").reset_index()
exp.show_table(table, "digit_share", "SGT Fig. 5 as a number: share of each map's top 10 % "
               "cells on the digit, mean over seeds and test images (higher = on the digit)",
               floatfmt=".3f")
exp.record("results", digit_shares=shares)
exp.record_claims(ts.fig5_claims(shares))

# %%
# NBVAL_CHECK_OUTPUT
for row in accuracy:
    print(f"{row['architecture']} {row['method']}: best test accuracy {row['best_accuracy']:.1f} %")
for (arch, sal, meth), value in maps.items():
    if isinstance(value, str):
        print(f"not computed: {arch} {sal} {meth}: {value}")
for record in exp.metrics.get("claims", {}).values():
    print(studies.claim_line(record))
exp.write_metrics();
