"""Source of the SGT notebooks (run: python tools/notebooks_sgt.py)."""

from nbbuild import build

LEVELS = "[0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]"
# Shared with the SMOOT Tables II-III notebook: identical settings give identical run ids.
COMMON_PARAMS = """
profile = "cpu"
output_dir = None
datasets = {"mnist": {}}  # name -> training overrides (SGT Figs. 3-4: MNIST, black background)
dataset_params = {}
training = {"model": "cnn2", "epochs": 100, "batch_size": 512, "optimizer": "adadelta", "lr": 1.0}
methods = {"traditional": {}, "sgt": {"k_fraction": 0.5}}
seeds = 1
"""

TRAIN_MD = """
## Train (or load) the Traditional and SGT models

Runs are shared through the run store (`outputs/runs/`): the same settings in the SMOOT
Tables II-III notebook give the same run ids, so a model trained there is loaded here.
"""

TRAIN_CODE = """
runs = {}
for name, overrides in studies.normalise_datasets(datasets).items():
    configs = studies.setting_configs(name, overrides, training, methods, seeds, dataset_params)
    runs[name] = studies.train_all(configs)
    exp.record_runs(runs[name].values())
"""

build(
    "notebooks/sgt_fig3_accuracy_drop_saliency_methods.ipynb",
    [
        (
            "md",
            """
# SGT Fig. 3: accuracy drop per saliency method, Traditional vs SGT

Reproduces SGT (Ismail et al. 2021) **Fig. 3**: the accuracy of a traditionally trained and a
saliency-guided (SGT) MNIST model when the features ranked highest by a saliency method are
removed. Saliency methods: Gradient (`grad`), Integrated Gradients (`ig`), DeepLIFT, SmoothGrad,
GradientSHAP (captum) and a `random` ranking as the baseline.

* For every test image the pixels are ranked once by |attribution| at the true label (channel
  mean, stable sort; docs/methods.md §4.1); for x = 0, 10, ..., 100 % the top x % are set to the **MNIST
  background** (raw 0, the known uninformative value) and the accuracy is measured.
* **AUC** = area under accuracy (%) over the removed fraction (0-100). A steeper drop (lower
  AUC) means the saliency method found the pixels the model needs: *lower = better*.
* IG and DeepLIFT use a uniform-noise baseline (as the SGT reference code), GradientSHAP
  uniform-noise baselines, SmoothGrad noise of 15 % of the input range.

**The paper's claim:** for every gradient-based method the SGT model's accuracy drops faster
than the traditional model's ("regardless of the saliency method used"), while the random
ranking gives the same curve for both.
""",
        ),
        (
            "params",
            COMMON_PARAMS
            + f"""
eval_images = None  # test images used for the curves (None: all)
levels = {LEVELS}
saliency_methods = ["grad", "ig", "deeplift", "smoothgrad", "gradshap", "random"]
saliency_options = {{"ig": {{"n_steps": 50}}, "smoothgrad": {{"nt_samples": 10}}, "gradshap": {{"n_samples": 5}}}}
random_tolerance = 3.0  # |AUC(sgt) - AUC(traditional)| that still counts as "the same" for random
""",
        ),
        (
            "code",
            """
from IPython.display import display

from saliency_lib import plots, studies
from saliency_lib.experiment import Experiment
from saliency_lib.runs import load_splits

exp = Experiment("sgt_fig3_accuracy_drop_saliency_methods", profile, output_dir)
exp.record("settings", datasets=datasets, dataset_params=dataset_params, training=training,
           methods=methods, seeds=seeds, eval_images=eval_images, levels=levels,
           saliency_methods=saliency_methods, saliency_options=saliency_options,
           fill="constant (dataset background)", random_tolerance=random_tolerance)
""",
        ),
        ("md", TRAIN_MD),
        ("code", TRAIN_CODE),
        (
            "md",
            """
## Accuracy-drop curves for every saliency method

Every curve is evaluated on the same seeded subset of test images; random rankings, noise
baselines and SmoothGrad noise are seeded.
""",
        ),
        (
            "code",
            """
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
    claims += studies.sgt_fig3_claims(tables[name], name, auc_per_seed,
                                      random_tolerance=random_tolerance, gains=gains[name])
    exp.save_table(curves, f"curves_{name}")
    exp.save_table(auc_per_seed, f"auc_per_seed_{name}")
    exp.save_table(tables[name], f"table_auc_{name}")
    exp.save_table(gains[name], f"table_gain_over_random_{name}")
    exp.record("results", **{name: {"auc": tables[name], "auc_per_seed": auc_per_seed,
                                    "gain_over_random": gains[name], "accuracy": accuracy,
                                    "eval_images": len(images), "test_images": len(test)}})
    fig = plots.plot_accuracy_drop(curves, hue="method", col="saliency",
                                   title=f"{name}: accuracy drop, traditional vs SGT (background fill)")
    exp.save_figure(fig, f"fig3_accuracy_drop_{name}")
    display(fig)
    fig = plots.plot_accuracy_drop(curves, hue="saliency", col="method", col_wrap=2,
                                   title=f"{name}: accuracy drop per training method")
    exp.save_figure(fig, f"fig3_by_training_{name}")
    display(fig)
exp.record_claims(claims)
""",
        ),
        (
            "md",
            """
## AUC table and the paper's claims

One row per saliency method: mean AUC over seeds of each training method and the difference
`sgt - traditional` (negative = SGT's accuracy drops faster, as the paper claims). For `random`
the difference should be near 0. The paper shows curves only (no AUC numbers).

The second table subtracts each model's own random baseline, `AUC(random) - AUC(method)`
(higher = the ranking matters more; SGT's time-series section compares to the random baseline
the same way): a model that is merely more fragile to any removal (or less accurate to begin
with) loses its advantage there. `holds` is computed from these numbers in this profile's
setting (see `settings` in `metrics.json`).
""",
        ),
        (
            "code",
            """
# NBVAL_CHECK_OUTPUT
for name, table in tables.items():
    print(f"== {name}: AUC (lower = faster drop) ==")
    print(table.to_string(index=False, float_format="%.2f"))
    print(f"== {name}: AUC(random) - AUC(method) (higher = the ranking matters more) ==")
    print(gains[name].to_string(index=False, float_format="%.2f"))
for c in claims:
    print(f"{c['id']}: holds={c['holds']} ({c['detail']})")
exp.write_metrics();
""",
        ),
    ],
)

build(
    "notebooks/sgt_fig4_feature_replacement.ipynb",
    [
        (
            "md",
            """
# SGT Fig. 4: feature replacement strategies (background, mean, ROAR)

Reproduces SGT (Ismail et al. 2021) **Fig. 4**: the gradient-ranked accuracy-drop curve of an
MNIST model with three ways of replacing the removed pixels (docs/methods.md §4.2):

* **background** (IID): the MNIST background (raw 0), the known uninformative value; the paper's
  ground truth on this dataset;
* **mean** (OOD): the image's mean pixel value, as most modification-based evaluations do; the
  masked images are out of the training distribution;
* **ROAR** (Hooker et al.): the top x % (ranked by the evaluated model's |gradient|) are replaced
  by the mean in the training *and* the test set, a fresh traditional model is retrained on the
  masked training set and tested on the masked test set.

**The paper's claim (traditional model):** neither the OOD nor the ROAR curve resembles the
IID curve, so modification-based evaluations are unreliable unless the uninformative
distribution is known. The paper's figure shows the traditional model only; we also evaluate the
SGT model and record whether its curves drop faster (lower AUC) under each replacement.
""",
        ),
        (
            "params",
            COMMON_PARAMS
            + f"""
eval_images = None  # test images for every curve, ROAR's test set included (None: all)
levels = {LEVELS}  # background and mean curves
saliency = "grad"
roar_levels = [0, 20, 40, 60, 80, 100]  # one retraining per level and evaluated model
roar_epochs = 100  # epochs of every ROAR retraining (other settings: the run's own)
roar_train_images = None  # training images for ROAR (None: the whole training split)
similar_tolerance = 5.0  # mean |accuracy gap| (points) up to which two curves count as similar
""",
        ),
        (
            "code",
            """
import pandas as pd
from IPython.display import display

from saliency_lib import plots, studies
from saliency_lib.experiment import Experiment
from saliency_lib.runs import load_splits

exp = Experiment("sgt_fig4_feature_replacement", profile, output_dir)
exp.record("settings", datasets=datasets, dataset_params=dataset_params, training=training,
           methods=methods, seeds=seeds, eval_images=eval_images, levels=levels,
           saliency=saliency, roar_levels=roar_levels, roar_epochs=roar_epochs,
           roar_train_images=roar_train_images, roar_fill="mean", roar_retrain="traditional",
           similar_tolerance=similar_tolerance)
""",
        ),
        ("md", TRAIN_MD),
        ("code", TRAIN_CODE),
        (
            "md",
            """
## Background and mean replacement, then ROAR

ROAR retrains one traditional model per level and evaluated model, with the run's training
settings (`training`) except `roar_epochs`, seeded with the run's seed; the unmasked 0 % level
is the same training for every evaluated model and is trained once.
""",
        ),
        (
            "code",
            """
tables, claims = {}, []
for name, ds_runs in runs.items():
    train, test = load_splits(next(iter(ds_runs.values())).config)
    images = studies.eval_subset(test, eval_images)
    roar_train = studies.eval_subset(train, roar_train_images)
    replaced = studies.replacement_curves(ds_runs, images, levels=levels, saliency=saliency)
    retrained = studies.roar_curves(ds_runs, roar_train, images, levels=roar_levels,
                                    retrain={"epochs": roar_epochs}, saliency=saliency)
    curves = pd.concat([replaced, retrained], ignore_index=True)
    auc_per_seed, tables[name] = studies.auc_matrix(curves, rows="replacement")
    claims += studies.sgt_fig4_claims(curves, tables[name], name, auc_per_seed,
                                      similar_tolerance=similar_tolerance)
    exp.save_table(curves, f"curves_{name}")
    exp.save_table(auc_per_seed, f"auc_per_seed_{name}")
    exp.save_table(tables[name], f"table_auc_{name}")
    exp.record("results", **{name: {"auc": tables[name], "auc_per_seed": auc_per_seed,
                                    "roar": retrained, "accuracy": studies.per_seed_table(ds_runs),
                                    "eval_images": len(images), "roar_train_images": len(roar_train)}})
    fig = plots.plot_accuracy_drop(curves, hue="replacement", col="method", col_wrap=2,
                                   title=f"{name}: accuracy drop ({saliency}) by replacement")
    exp.save_figure(fig, f"fig4_feature_replacement_{name}")
    display(fig)
    fig = plots.plot_accuracy_drop(curves, hue="method", col="replacement",
                                   title=f"{name}: traditional vs SGT per replacement")
    exp.save_figure(fig, f"fig4_by_replacement_{name}")
    display(fig)
exp.record_claims(claims)
""",
        ),
        (
            "md",
            """
## AUC table and the claims

One row per replacement: mean AUC over seeds per training method and `sgt - traditional`
(negative = SGT's accuracy drops faster). The `traditional` panel of the first figure is the
paper's Fig. 4. ROAR's 0 % point is a retrained model, not the evaluated one.
""",
        ),
        (
            "code",
            """
# NBVAL_CHECK_OUTPUT
for name, table in tables.items():
    print(f"== {name}: AUC (lower = faster drop) ==")
    print(table.to_string(index=False, float_format="%.2f"))
for c in claims:
    print(f"{c['id']}: holds={c['holds']} ({c['detail']})")
exp.write_metrics();
""",
        ),
    ],
)
