# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # SGT Fig. 3: accuracy drop per saliency method, Traditional vs SGT
#
# Reproduces SGT (Ismail et al. 2021) **Fig. 3**: the accuracy of a traditionally trained and a
# saliency-guided (SGT) MNIST model when the features ranked highest by a saliency method are
# removed. Saliency methods: Gradient (`grad`), Integrated Gradients (`ig`), DeepLIFT, SmoothGrad,
# GradientSHAP (captum) and a `random` ranking as the baseline.
#
# * For every test image the pixels are ranked once by |attribution| at the true label (channel
#   mean, stable sort; docs/methods.md §4.1); for x = 0, 10, ..., 100 % the top x % are set to the
#   **MNIST background** (raw 0, the known uninformative value) and the accuracy is measured.
# * **AUC** = area under accuracy (%) over the removed fraction (0-100). A steeper drop (lower
#   AUC) means the saliency method found the pixels the model needs: *lower = better*.
# * IG and DeepLIFT use a uniform-noise baseline (as the SGT reference code), GradientSHAP
#   uniform-noise baselines, SmoothGrad noise of 15 % of the input range.
#
# **The paper's claims, in its words:** "the saliency guided training shows a steeper accuracy
# drop regardless of the saliency method used" (every gradient-based method: SGT's AUC below
# Traditional's), and, of SGT in general, "without degrading model performance" (SGT's final
# accuracy at most 1 point below Traditional's). The random ranking is each model's **control**: a
# model that loses accuracy faster whatever is removed drops faster under every ranking, so beside
# each verdict stands whether SGT's advantage remains after subtracting each model's own
# random-ranking AUC.

# %% tags=["parameters"]
from typing import Optional

# the cpu profile's values (params/cpu/<notebook>.yaml): Run All equals it
profile: str = "cpu"  # profile of these values; outputs go to outputs/<profile>/
output_dir: Optional[str] = None  # set by the runner; None: outputs/<profile>/<notebook>/
datasets: dict[str, dict] = {
    "mnist": {},
}  # label -> dataset and training overrides (model, subsets, epochs)
dataset_params: dict = {}  # loader options shared by every dataset (root, source, canvas_size, n)
training: dict = {
    "model": "cnn2",
    "epochs": 8,
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
eval_images: Optional[int] = 300  # test images used for the curves (None: all)
levels: list[int] = [
    0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100,
]  # masking levels: % of the features removed (0-100)
saliency_methods: list[str] = [
    "grad", "ig", "deeplift", "smoothgrad", "gradshap", "random",
]  # saliency methods compared (saliency_lib.saliency registry)
saliency_options: dict[str, dict] = {
    "ig": {"n_steps": 16},
    "smoothgrad": {"nt_samples": 5},
    "gradshap": {"n_samples": 5, "n_baselines": 10},
}  # saliency method -> its options (n_steps, nt_samples, ...)
min_accuracy: dict[str, float] = {"mnist": 95.0}  # dataset -> Traditional accuracy (%) needed

# %%
from saliency_lib import plots, studies
from saliency_lib.experiment import Experiment
from saliency_lib.runs import load_splits

exp = Experiment("sgt_fig3_accuracy_drop_saliency_methods", profile, output_dir)
exp.record("settings", datasets=datasets, dataset_params=dataset_params, training=training,
           methods=methods, seeds=seeds, eval_images=eval_images, levels=levels,
           saliency_methods=saliency_methods, saliency_options=saliency_options,
           fill="constant (dataset background)", min_accuracy=min_accuracy)

# %% [markdown]
# ## Train (or load) the Traditional and SGT models
#
# Runs are shared through the run store (`outputs/runs/`): the same settings in the SMOOT
# Tables II-III notebook give the same run ids, so a model trained there is loaded here.

# %%
runs = {}
grid = studies.run_grid(datasets=datasets, dataset_params=dataset_params, training=training,
                        methods=methods, seeds=seeds)
for name, configs in grid.items():
    runs[name] = studies.train_all(configs)
    exp.record_runs(runs[name].values())

# %% [markdown]
# ## Accuracy-drop curves for every saliency method
#
# Every curve is evaluated on the same seeded subset of test images; random rankings, noise
# baselines and SmoothGrad noise are seeded.

# %%
tables, gains, claims = {}, {}, []
for name, ds_runs in runs.items():
    test = load_splits(next(iter(ds_runs.values())).config)[1]
    images = studies.eval_subset(test, eval_images)
    curves = studies.saliency_method_curves(ds_runs, images, levels=levels,
                                            saliency_methods=saliency_methods,
                                            options=saliency_options, fill="constant")
    auc_per_seed, tables[name] = studies.auc_matrix(curves, rows="saliency")
    gains[name] = studies.auc_gain_over(tables[name], baseline="random")
    accuracy = studies.per_seed_table(ds_runs)
    trained = studies.trained_precondition(accuracy, min_accuracy.get(name))
    claims += studies.sgt_fig3_claims(auc_per_seed, name, preconditions=trained)
    claims.append(studies.accuracy_claim("sgt_accuracy_kept", accuracy, "sgt", "traditional",
                                         name, trained))
    exp.save_table(curves, f"curves_{name}")
    exp.save_table(auc_per_seed, f"auc_per_seed_{name}")
    title = studies.dataset_title(name)
    exp.show_table(tables[name], f"table_auc_{name}",
                   f"SGT Fig. 3 as numbers ({title}): AUC of the accuracy-drop curve per saliency "
                   "method, mean over seeds (lower = accuracy drops faster)")
    exp.show_table(gains[name], f"table_gain_over_random_{name}",
                   f"SGT Fig. 3 ({title}): AUC(random) - AUC(method), each model against its "
                   "own random ranking (higher = the ranking matters more)")
    exp.record("results", **{name: {"auc": tables[name], "auc_per_seed": auc_per_seed,
                                    "gain_over_random": gains[name], "accuracy": accuracy,
                                    "eval_images": len(images), "test_images": len(test)}})
    fig = plots.plot_accuracy_drop(
        curves, hue="method", col="saliency",
        title=f"{title}: accuracy drop, traditional vs SGT (removed pixels set to background)",
    )
    exp.show_figure(fig, f"fig3_accuracy_drop_{name}",
                    f"SGT Fig. 3 ({title}): test accuracy as the most salient pixels are removed, "
                    "one panel per saliency method, traditional vs SGT")
    fig = plots.plot_accuracy_drop(curves, hue="saliency", col="method", col_wrap=2,
                                   title=f"{title}: accuracy drop per training method")
    exp.show_figure(fig, f"fig3_by_training_{name}",
                    f"SGT Fig. 3 regrouped ({title}): the saliency methods side by side, one "
                    "panel per training method", in_report=False)
exp.record_claims(claims)

# %% [markdown]
# ## AUC table and the paper's claims
#
# One row per saliency method: mean AUC over seeds of each training method and the difference
# `sgt - traditional` (negative = SGT's accuracy drops faster, as the paper claims). The paper
# shows curves only (no AUC numbers).
#
# The second table subtracts each model's own random baseline, `AUC(random) - AUC(method)`
# (higher = the ranking matters more; SGT's time-series section compares to the random baseline
# the same way): a model that is merely more fragile to any removal (or less accurate to begin
# with) loses its advantage there. Each claim is decided per saliency method on the per-seed AUCs,
# paired by seed (`saliency_lib.claims`), with this control's verdict beside it.

# %%
# NBVAL_CHECK_OUTPUT
for name, table in tables.items():
    print(f"== {name}: AUC (lower = faster drop) ==")
    print(table.to_string(index=False, float_format="%.2f"))
    print(f"== {name}: AUC(random) - AUC(method) (higher = the ranking matters more) ==")
    print(gains[name].to_string(index=False, float_format="%.2f"))
for c in claims:
    print(studies.claim_line(c))
exp.write_metrics();
