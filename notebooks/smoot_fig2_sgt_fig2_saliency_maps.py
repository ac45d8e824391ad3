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
# The figures show the seed-0 models. The papers' claims, in their words: SGT "leads to a
# reduction in visual saliency noise and sparser saliency maps" and its maps "highlight the object
# itself rather than the background" (SGT Fig. 2); SMOOT's map "aligns more closely with the
# target object for classification and exhibits a reduced number of erroneously identified salient
# pixels external to the object" (SMOOT Fig. 2, against SGT and Traditional). As numbers, every
# model of every seed gets, over `sparsity_images` test images, the mean **Gini index** of its
# |gradient| map (0 = uniform, near 1 = all mass on one pixel; the sparsity measure of the
# attribution literature) and the mean **share of its top 10 % positions on the object** (pixels
# that differ from the background). The claims are decided paired by seed
# (`saliency_lib.claims`); SMOOT's need its K to have spread (as in its tables' notebook).

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
    "sgt": {"k_fraction": 0.5},
    "smoot": {"alpha": 0.95, "mu": 10.0, "training": {"test_eval": "final_epoch"}},
}  # label -> method options ('method' if not the label; 'training': RunConfig fields)
seeds: int = 5  # number of training seeds (0, 1, ..., seeds - 1)
n_images: int = 8  # images in the saliency-map grid
gradient_images: int = 200  # images in the gradient box plots
sparsity_images: int = 500  # test images for the per-seed sparsity numbers
min_accuracy: dict[str, float] = {
    "fashion_mnist": 80.0,
    "mnist": 95.0,
}  # dataset -> Traditional test accuracy (%) the claims need

# %%
from saliency_lib import studies
from saliency_lib.experiment import Experiment
from saliency_lib.runs import load_splits

exp = Experiment("smoot_fig2_sgt_fig2_saliency_maps", profile, output_dir)
exp.record("settings", datasets=datasets, training=training, methods=methods, seeds=seeds,
           n_images=n_images, gradient_images=gradient_images, sparsity_images=sparsity_images,
           min_accuracy=min_accuracy)

# %%
summaries = []
grid = studies.run_grid(datasets=datasets, dataset_params=dataset_params, training=training,
                        methods=methods, seeds=seeds)
k_by_design = studies.smoot_k_design(grid)  # before training: can SMOOT's K spread far enough?
for name, configs in grid.items():
    runs = studies.train_all(configs)
    exp.record_runs(runs.values())
    models = {label: run.model for (label, seed), run in runs.items() if seed == 0}
    test = load_splits(next(iter(runs.values())).config)[1]
    figs = studies.method_map_figures(models, test, name, n_images, gradient_images)
    exp.show_figure(figs.saliency, f"fig2_saliency_maps_{name}",
                    f"SGT Fig. 2 / SMOOT Fig. 2 (maps): |gradient| of each training method on the "
                    f"first {n_images} {studies.dataset_title(name)} test images (seed 0)")
    exp.show_figure(figs.gradients, f"fig2_gradient_distribution_{name}",
                    f"SMOOT Fig. 2 (box plots): per-image gradients scaled to [-1, 1], "
                    f"{studies.dataset_title(name)}, seed 0", in_report=False)
    sparsity = studies.sparsity_per_seed(runs, test, sparsity_images, test.background)
    summaries.append(sparsity.assign(dataset=name))
    exp.record_claims(studies.map_claims(sparsity, studies.per_seed_table(runs), name,
                                         test.name, min_accuracy.get(name),
                                         k_by_design.get(name)))

# %%
import pandas as pd

summary = pd.concat(summaries, ignore_index=True)
exp.show_table(summary, "sparsity_per_seed",
               "Sparsity of |saliency| per image (Gini index, higher = sparser) and on-object "
               "share, mean per seed", floatfmt=".3f")
exp.record("results", sparsity_per_seed=summary)

# %%
# NBVAL_CHECK_OUTPUT
print(summary.round(3).to_string(index=False))
for record in exp.metrics.get("claims", {}).values():
    print(studies.claim_line(record))
exp.write_metrics();
