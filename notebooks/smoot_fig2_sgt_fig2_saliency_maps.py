# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # SMOOT Fig. 2 and SGT Fig. 2: saliency maps and gradient distributions
#
# Reproduces the qualitative comparison of SMOOT Fig. 2 and SGT Fig. 2 on MNIST and Fashion-MNIST:
#
# * a grid of images (first row) and the |gradient| saliency map of the Traditional, SGT and SMOOT
#   models (one row each, each map scaled to its own maximum; brighter = more salient);
# * box plots of per-sample gradients scaled to [-1, 1] (SGT Fig. 2 right): saliency-guided training
#   should give sparser maps, i.e. values concentrated near 0 with few large ones.
#
# As a number for the visual claim, the table gives each model's **concentration**: the mean share
# of |gradient| held by the top 10 % pixels (higher = sharper maps).

# %% tags=["parameters"]
profile = "cpu"
output_dir = None
datasets = {"fashion_mnist": {}, "mnist": {}}
dataset_params = {}
training = {"model": "cnn2", "epochs": 100, "batch_size": 256, "optimizer": "adadelta", "lr": 1.0}
methods = {"traditional": {}, "sgt": {"k_fraction": 0.5}, "smoot": {"alpha": 0.95, "mu": 10.0}}
seeds = 1
n_images = 8
gradient_images = 200

# %%
from IPython.display import display

from saliency_lib import plots, studies
from saliency_lib.experiment import Experiment
from saliency_lib.runs import load_splits

exp = Experiment("smoot_fig2_sgt_fig2_saliency_maps", profile, output_dir)
exp.record("settings", datasets=datasets, training=training, methods=methods, seeds=seeds,
           n_images=n_images, gradient_images=gradient_images)

# %%
summaries = []
for name, overrides in studies.normalise_datasets(datasets).items():
    configs = studies.setting_configs(name, overrides, training, methods, seeds, dataset_params)
    runs = studies.train_all(configs)
    exp.record_runs(runs.values())
    models = {label: run.model for (label, seed), run in runs.items() if seed == 0}
    test = load_splits(next(iter(runs.values())).config)[1]
    x, y = studies.first_images(test, n_images)
    fig = plots.plot_saliency_grid(x, studies.saliency_maps(models, x, y), titles=y.tolist())
    exp.save_figure(fig, f"fig2_saliency_maps_{name}")
    display(fig)
    grads, summary = studies.gradient_summary(models, test, n=gradient_images)
    fig = plots.plot_gradient_distribution(grads, x="label")
    exp.save_figure(fig, f"fig2_gradient_distribution_{name}")
    display(fig)
    summaries.append(summary.assign(dataset=name))

# %%
import pandas as pd

summary = pd.concat(summaries, ignore_index=True)
exp.save_table(summary, "gradient_concentration")
exp.record("results", gradient_concentration=summary)
claims = {}
for name, g in summary.groupby("dataset"):
    c = g.set_index("method")["concentration"]
    for m in ("sgt", "smoot"):
        if m in c and "traditional" in c:
            claims[f"{m}_sharper_maps_{name}"] = {
                "claim": f"{m.upper()} saliency maps are sharper than Traditional ({name})",
                "holds": bool(c[m] > c["traditional"]),
                "detail": f"top-10% |gradient| share {c[m]:.3f} vs {c['traditional']:.3f}"}
exp.record("claims", **claims)

# %%
# NBVAL_CHECK_OUTPUT
columns = ["dataset", "method", "images", "concentration", "mean_abs"]
print(summary[columns].round(2).to_string(index=False))
exp.write_metrics();
