# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # SMOOT Fig. 1: masking the most salient pixels can *raise* a model's confidence
#
# Reproduces the motivation study of SMOOT (Fig. 1, Section III): for a traditionally trained
# 2-layer CNN and each test image, the true-class probability while the top x % pixels by |gradient|
# are masked (x = 0, 5, ..., 100; masked pixels set to the background, docs/methods.md §4.5).
#
# * **Class I** images: the probability never rises by more than `epsilon` above its value at
#   x = 0.
# * **Class II** images: it does, i.e. some "important" pixels were hurting the prediction. The
#   paper finds 16 % of CIFAR-10 test images are class II and argues a fixed mask size (SGT)
#   cannot suit both classes, which motivates SMOOT's per-image K.
#
# Read the left panel as the mean curve per class; the right panel splits class II by whether the
# peak comes before or after 50 % masking.

# %% tags=["parameters"]
from typing import Optional

# the cpu profile's values (params/cpu/<notebook>.yaml): Run All equals it
profile: str = "cpu"  # profile of these values; outputs go to outputs/<profile>/
output_dir: Optional[str] = None  # set by the runner; None: outputs/<profile>/<notebook>/
datasets: dict[str, dict] = {
    "fashion_mnist": {"train_subset": 2000, "test_subset": 5000, "epochs": 40},
}  # label -> dataset and training overrides (model, subsets, epochs)
dataset_params: dict = {}  # loader options shared by every dataset (root, source, canvas_size, n)
training: dict = {
    "model": "cnn2",
    "epochs": 40,
    "batch_size": 256,
    "optimizer": "adadelta",
    "lr": 1.0,
    "threads": 1,
}  # RunConfig fields of every run (threads: torch threads while training, fixed)
methods: dict[str, dict] = {
    "traditional": {"training": {"test_eval": "final_epoch"}},
}  # label -> method options ('method' if not the label; 'training': RunConfig fields)
seeds: int = 5  # number of training seeds (0, 1, ..., seeds - 1)
eval_images: Optional[int] = 1000  # test images used for the curves (None: all)
levels: list[int] = [
    0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65, 70, 75, 80, 85, 90, 95, 100,
]  # masking levels: % of the features removed (0-100)
epsilon: float = 0.01  # Class I: the probability never rises more than this above its start

# %%
from saliency_lib import claims, metrics, plots, studies
from saliency_lib.experiment import Experiment
from saliency_lib.runs import load_splits

exp = Experiment("smoot_fig1_motivation", profile, output_dir)
exp.record("settings", datasets=datasets, training=training, seeds=seeds,
           eval_images=eval_images, levels=levels, epsilon=epsilon)
paper_share = studies.paper_numbers("smoot_motivation")["share_class_ii"]

# %%
rows = []
grid = studies.run_grid(datasets=datasets, dataset_params=dataset_params, training=training,
                        methods=methods, seeds=seeds)
for name, configs in grid.items():
    runs = studies.train_all(configs)
    exp.record_runs(runs.values())
    for (_, seed), run in runs.items():
        images = studies.eval_subset(load_splits(run.config)[1], eval_images)
        result = metrics.motivation_curves(run.model, images, levels=levels, epsilon=epsilon)
        rows.append({"dataset": name, "seed": seed, **result.summary})
        exp.save_table(result.classes.assign(seed=seed), f"classes_{name}_s{seed}")
        fig = plots.plot_motivation(
            result, title=f"{studies.dataset_title(name)}, traditionally trained CNN, seed {seed}")
        exp.show_figure(fig, f"fig1_motivation_{name}_s{seed}",
                        f"SMOOT Fig. 1: true-class probability as the top-gradient pixels are "
                        f"masked, class I vs class II images ({studies.dataset_title(name)}, "
                        f"seed {seed})", in_report=seed == 0)

# %%
import pandas as pd

summary = pd.DataFrame(rows)
exp.show_table(summary, "class_ii_share",
               "SMOOT Fig. 1: share of class II images per seed (the paper: 16 % of CIFAR-10)")
share = float(summary["share_class_ii"].mean())
exp.record("results", summary=summary, share_class_ii=share, paper_share_class_ii=paper_share)
# the paper's 16 % is a number about CIFAR-10: on other data it is measured, not tested
for name, g in summary.groupby("dataset", sort=False):
    exp.record_claims([claims.evaluate(
        "smoot_class_ii_share", g["share_class_ii"], [paper_share] * len(g), name,
        on_paper_data=(name == "cifar10"))])

# %%
# NBVAL_CHECK_OUTPUT
cols = ["dataset", "seed", "n", "n_class_ii", "share_class_ii", "n_class_ii_peak_before_50"]
print(summary[cols].round(2).to_string(index=False))
print(f"paper: {paper_share:.2f} of CIFAR-10 test images are class II")
for record in exp.metrics.get("claims", {}).values():
    print(studies.claim_line(record))
exp.write_metrics();
