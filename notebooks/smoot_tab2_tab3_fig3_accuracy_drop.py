# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # SMOOT Tables II-III and Fig. 3: accuracy, AUC and K of Traditional, SGT and SMOOT
#
# Reproduces SMOOT (Karkehabadi et al.) **Table II** (MNIST), **Table III** (Fashion-MNIST) and
# **Fig. 3** (model accuracy drop when the most salient pixels are removed).
#
# * Each training method is run for `seeds` seeds on each dataset (docs/methods.md §3.3-3.5).
# * **Accuracy** is the final test accuracy on the full test split.
# * **AUC** is the area under the accuracy-drop curve (docs/methods.md §4.1): the top x % of pixels
#   by |gradient| are set to the background (raw 0) for x = 0, 10, ..., 100 and the accuracy (%)
#   is integrated over the removed fraction. **Lower AUC = the saliency map found the pixels the
#   model needs.**
# * **K** is the number of masked pixels (min / median / max over the training set at the end of
#   training): 0 for Traditional, fixed for SGT, per image for SMOOT.
#
# The paper's claim is AUC(SMOOT) < AUC(SGT) < AUC(Traditional) at equal or better accuracy.
# Numbers in brackets are 95 % t-intervals over seeds.

# %% tags=["parameters"]
profile = "cpu"
output_dir = None
datasets = {"fashion_mnist": {}, "mnist": {}}  # name -> training overrides
dataset_params = {}
training = {"model": "cnn2", "epochs": 100, "batch_size": 256, "optimizer": "adadelta", "lr": 1.0}
methods = {"traditional": {}, "sgt": {"k_fraction": 0.5}, "smoot": {"alpha": 0.95, "mu": 10.0}}
seeds = 3
eval_images = None  # test images used for the accuracy-drop curves (None = all)
levels = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
saliency = "grad"

# %%
from IPython.display import display

from saliency_lib import plots, studies
from saliency_lib.experiment import Experiment
from saliency_lib.runs import load_splits

exp = Experiment("smoot_tab2_tab3_fig3_accuracy_drop", profile, output_dir)
exp.record("settings", datasets=datasets, training=training, methods=methods, seeds=seeds,
           eval_images=eval_images, levels=levels, saliency=saliency)
PAPER_TABLE = {"mnist": "smoot_table2", "fashion_mnist": "smoot_table3"}

# %% [markdown]
# ## Train (or load) every run
#
# Runs are shared through the run store (`outputs/runs/`): a configuration trained by another
# notebook is loaded, not retrained.

# %%
runs = {}
for name, overrides in studies.normalise_datasets(datasets).items():
    configs = studies.setting_configs(name, overrides, training, methods, seeds, dataset_params)
    runs[name] = studies.train_all(configs)
    exp.record_runs(runs[name].values())

# %% [markdown]
# ## Accuracy-drop curves and the tables
#
# Saliency is computed once per image; every level is evaluated on the same images.

# %%
tables = {}
for name, ds_runs in runs.items():
    test = load_splits(next(iter(ds_runs.values())).config)[1]
    images = studies.eval_subset(test, eval_images)
    curves = studies.method_curves(ds_runs, images, levels=levels, saliency=saliency)
    per_seed = studies.per_seed_table(ds_runs, studies.curve_aucs(curves))
    summary = studies.summary_table(per_seed, ["accuracy", "auc", "k_min", "k_median", "k_max"])
    tables[name] = studies.paper_comparison(summary, PAPER_TABLE[name])
    exp.save_table(curves, f"curves_{name}")
    exp.save_table(per_seed, f"per_seed_{name}")
    exp.save_table(tables[name], f"table_{name}")
    exp.record("results", **{name: {"per_seed": per_seed, "summary": summary,
                                    "eval_images": len(images), "test_images": len(test)}})
    means = summary.set_index("method")
    exp.record("claims", **{
        f"auc_order_{name}": studies.ordering_claim(
            means["auc_mean"], ["smoot", "sgt", "traditional"], "AUC", True, name),
        f"smoot_accuracy_{name}": studies.ordering_claim(
            {"smoot": means["accuracy_mean"]["smoot"],
             "best other": means["accuracy_mean"].drop("smoot").max()}, ["smoot", "best other"],
            "accuracy", context=name) if "smoot" in means.index else {},
    })
    title = f"{name}: accuracy drop ({saliency})"
    fig = plots.plot_accuracy_drop(curves, hue="method", title=title)
    exp.save_figure(fig, f"fig3_accuracy_drop_{name}")
    display(fig)

# %% [markdown]
# ## Ours beside the paper
#
# `(ours)` is mean [95 % interval] over seeds in this profile's setting (see `training` above and
# `settings` in `metrics.json`); `(paper)` is the published number (100 epochs, full data).

# %%
# NBVAL_CHECK_OUTPUT
for name, table in tables.items():
    print(f"== {name} ({PAPER_TABLE[name]}) ==")
    print(table.to_string(index=False))
exp.write_metrics();
