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
# **The paper's claim (qualitative):** the maps are visibly cleaner (less noise off the digit)
# with SGT, across networks and saliency methods. No number is judged here; compare the rows.

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
seeds: int = 1  # number of training seeds (0, 1, ..., seeds - 1)
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

# %%
# NBVAL_CHECK_OUTPUT
for row in accuracy:
    print(f"{row['architecture']} {row['method']}: best test accuracy {row['best_accuracy']:.1f} %")
for (arch, sal, meth), value in maps.items():
    if isinstance(value, str):
        print(f"not computed: {arch} {sal} {meth}: {value}")
exp.record_claims([])
exp.write_metrics();
