# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # HLGM Fig. 6: saliency maps of the Baseline, SGT and HLGM models
#
# Reproduces HLGM **Fig. 6**: the saliency maps of the regular (baseline), SGT and HLGM models on
# a few test images. The models are the seed-0 runs of `hlgm_fig2_5_tab2_accuracy` (identical
# run parameters, so the run store shares them: whichever notebook runs first trains them), with
# their final (last-epoch) weights.
#
# **How to read the grid.** First row: the test images (a seeded random choice; title = true
# class). Then one row per model: |gradient| of the true class's log-probability with respect to
# the input (docs/methods.md §4), each map scaled to its own maximum (brighter = more salient).
#
# **The paper's claim** (Fig. 6 caption): HLGM has higher gradients on the main object than the
# regular and SGT models. On data with a known background (Fashion-MNIST: raw 0) this is checked
# as a number: the object is every non-background pixel, and the table gives the share of each
# model's top 5 % / 10 % |gradient| positions on the object, over `object_images` test images
# (`object share of image` = the share a random map would get). On CIFAR (paper profile) there is
# no such background and `object_fractions` is empty: the figure only.

# %% tags=["parameters"]
from typing import Optional

# the cpu profile's values (params/cpu/<notebook>.yaml): Run All equals it
profile: str = "cpu"  # profile of these values; outputs go to outputs/<profile>/
output_dir: Optional[str] = None  # set by the runner; None: outputs/<profile>/<notebook>/
datasets: dict[str, dict] = {
    "cnn2_fashion_mnist": {
        "dataset": "fashion_mnist",
        "model": "cnn2",
        "train_subset": 2000,
        "test_subset": 5000,
    },
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
# every HLGM run also trains its baseline: traditional training continued from
# the HLGM run's phase-1 checkpoint (label 'baseline', added by the grid)
methods: dict[str, dict] = {
    "sgt": {"k_fraction": 0.5},
    "hlgm": {
        "patience": 3,
        "monitor": "test_acc",
        "min_delta": 0.1,
        "episode_size": 5,
        "k_top_start": 0.2,
        "k_top_step": 0.02,
        "k_bottom": 0.5,
    },
}  # label -> training method options (key 'method' if not the label)
seeds: int = 5  # number of training seeds (0, 1, ..., seeds - 1)
n_images: int = 8  # images in the saliency-map grid
object_images: Optional[int] = 1000  # test images for the on-object share (None: all)
object_fractions: list[float] = [0.05, 0.1]  # top shares of positions checked on the object (0-1)

# %%
import pandas as pd

from saliency_lib import plots, studies
from saliency_lib.experiment import Experiment
from saliency_lib.runs import load_splits

exp = Experiment("hlgm_fig6_saliency_maps", profile, output_dir)
exp.record("settings", datasets=datasets, dataset_params=dataset_params, training=training,
           methods=methods, seeds=seeds, n_images=n_images, object_images=object_images,
           object_fractions=object_fractions)

# %%
tables, claims = [], []
grid = studies.run_grid(datasets=datasets, dataset_params=dataset_params, training=training,
                        methods=methods, seeds=seeds)
for name, configs in grid.items():
    runs = studies.train_all(configs)
    exp.record_runs(runs.values())
    print(f"{name}: {studies.hlgm_plateau_caption(runs[('hlgm', 0)])}")
    models = {m: runs[(m, 0)].model for m in studies.HLGM_METHODS if (m, 0) in runs}
    test = load_splits(runs[("hlgm", 0)].config)[1]
    x, y = studies.dataset_images(studies.eval_subset(test, n_images))
    data_name = runs[("hlgm", 0)].config.dataset
    fig = plots.plot_saliency_grid(x, studies.saliency_maps(models, x, y),
                                   titles=studies.class_titles(data_name, y))
    exp.show_figure(fig, f"fig6_saliency_maps_{name}",
                    f"HLGM Fig. 6 ({name}): |gradient| maps of the baseline, SGT and HLGM on "
                    f"{studies.dataset_title(data_name)} test images (seed 0)")
    if object_fractions:
        xo, yo = studies.dataset_images(studies.eval_subset(test, object_images))
        per_seed = []
        for seed in range(seeds):
            seed_models = {m: runs[(m, seed)].model for m in studies.HLGM_METHODS
                           if (m, seed) in runs}
            maps = studies.saliency_maps(seed_models, xo, yo)
            part = studies.object_share(maps, xo, test.background, object_fractions)
            per_seed.append(part.assign(seed=seed))
        shares = pd.concat(per_seed, ignore_index=True)
        plateaus = {seed: studies.hlgm_plateau_info(runs[("hlgm", seed)]) for seed in range(seeds)}
        table = studies.object_share_table(shares)
        claims += studies.object_share_claims(shares, name, plateaus=plateaus)
        share = part.attrs["object_share_of_image"]
        tables.append(table.assign(setting=name, **{"object share of image": share}))

# %% [markdown]
# ## On-object share of the top gradients (a number for Fig. 6)
#
# Mean and median over images (and seeds) of the share of each model's top x % |gradient|
# positions that are object pixels; higher = the model's strongest gradients sit on the object.
# The claims compare HLGM with each other model, paired by seed (`saliency_lib.claims`).

# %%
object_table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
if tables:
    exp.show_table(object_table, "table_object_share",
                   "HLGM Fig. 6 as a number: share of each model's top x % |gradient| positions "
                   "that lie on the object (higher = on the object)")
exp.record("results", object_share=object_table)
exp.record_claims(claims)

# %%
# NBVAL_CHECK_OUTPUT
print(
    object_table.round(2).to_string(index=False)
    if tables
    else "figure only (no known background)"
)
for c in claims:
    print(studies.claim_line(c))
exp.write_metrics();
