"""Source of the SMOOT notebooks (run: python tools/notebooks_smoot.py)."""

from nbbuild import build

LEVELS = "[0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]"

build(
    "notebooks/smoot_tab2_tab3_fig3_accuracy_drop.ipynb",
    [
        (
            "md",
            """
# SMOOT Tables II-III and Fig. 3: accuracy, AUC and K of Traditional, SGT and SMOOT

Reproduces SMOOT (Karkehabadi et al.) **Table II** (MNIST), **Table III** (Fashion-MNIST) and
**Fig. 3** (model accuracy drop when the most salient pixels are removed).

* Each training method is run for `seeds` seeds on each dataset (docs/methods.md §3.3-3.5).
* **Accuracy** is the final test accuracy on the full test split.
* **AUC** is the area under the accuracy-drop curve (docs/methods.md §4.1): the top x % of pixels by |gradient|
  are set to the background (raw 0) for x = 0, 10, ..., 100 and the accuracy (%) is integrated
  over the removed fraction. **Lower AUC = the saliency map found the pixels the model needs.**
* **K** is the number of masked pixels (min / median / max over the training set at the end of
  training): 0 for Traditional, fixed for SGT, per image for SMOOT.

The paper's claim is AUC(SMOOT) < AUC(SGT) < AUC(Traditional) at equal or better accuracy.
Numbers in brackets are 95 % t-intervals over seeds.
""",
        ),
        (
            "params",
            f"""
profile = "cpu"
output_dir = None
datasets = {{"fashion_mnist": {{}}, "mnist": {{}}}}  # name -> training overrides
dataset_params = {{}}
training = {{"model": "cnn2", "epochs": 100, "batch_size": 256, "optimizer": "adadelta", "lr": 1.0}}
methods = {{"traditional": {{}}, "sgt": {{"k_fraction": 0.5}}, "smoot": {{"alpha": 0.95, "mu": 10.0}}}}
seeds = 3
eval_images = None  # test images used for the accuracy-drop curves (None = all)
levels = {LEVELS}
saliency = "grad"
""",
        ),
        (
            "code",
            """
from IPython.display import display

from saliency_lib import plots, studies
from saliency_lib.experiment import Experiment
from saliency_lib.runs import load_splits

exp = Experiment("smoot_tab2_tab3_fig3_accuracy_drop", profile, output_dir)
exp.record("settings", datasets=datasets, training=training, methods=methods, seeds=seeds,
           eval_images=eval_images, levels=levels, saliency=saliency)
PAPER_TABLE = {"mnist": "smoot_table2", "fashion_mnist": "smoot_table3"}
""",
        ),
        (
            "md",
            """
## Train (or load) every run

Runs are shared through the run store (`outputs/runs/`): a configuration trained by another
notebook is loaded, not retrained.
""",
        ),
        (
            "code",
            """
runs = {}
for name, overrides in studies.normalise_datasets(datasets).items():
    configs = studies.setting_configs(name, overrides, training, methods, seeds, dataset_params)
    runs[name] = studies.train_all(configs)
    exp.record_runs(runs[name].values())
""",
        ),
        (
            "md",
            """
## Accuracy-drop curves and the tables

Saliency is computed once per image; every level is evaluated on the same images.
""",
        ),
        (
            "code",
            """
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
    fig = plots.plot_accuracy_drop(curves, hue="method", title=f"{name}: accuracy drop ({saliency})")
    exp.save_figure(fig, f"fig3_accuracy_drop_{name}")
    display(fig)
""",
        ),
        (
            "md",
            """
## Ours beside the paper

`(ours)` is mean [95 % interval] over seeds in this profile's setting (see `training` above and
`settings` in `metrics.json`); `(paper)` is the published number (100 epochs, full data).
""",
        ),
        (
            "code",
            """
# NBVAL_CHECK_OUTPUT
for name, table in tables.items():
    print(f"== {name} ({PAPER_TABLE[name]}) ==")
    print(table.to_string(index=False))
exp.write_metrics();
""",
        ),
    ],
)

build(
    "notebooks/smoot_fig1_motivation.ipynb",
    [
        ("md", """
# SMOOT Fig. 1: masking the most salient pixels can *raise* a model's confidence

Reproduces the motivation study of SMOOT (Fig. 1, Section III): for a traditionally trained
2-layer CNN and each test image, the true-class probability while the top x % pixels by |gradient|
are masked (x = 0, 5, ..., 100; masked pixels set to the background, docs/methods.md §4.5).

* **Class I** images: the probability never rises by more than `epsilon` above its value at x = 0.
* **Class II** images: it does, i.e. some "important" pixels were hurting the prediction. The paper
  finds 16 % of CIFAR-10 test images are class II and argues a fixed mask size (SGT) cannot suit
  both classes, which motivates SMOOT's per-image K.

Read the left panel as the mean curve per class; the right panel splits class II by whether the
peak comes before or after 50 % masking.
"""),
        ("params", """
profile = "cpu"
output_dir = None
datasets = {"fashion_mnist": {}}
dataset_params = {}
training = {"model": "cnn2", "epochs": 100, "batch_size": 256, "optimizer": "adadelta", "lr": 1.0}
methods = {"traditional": {}}
seeds = 1
eval_images = None  # test images used (None = all)
levels = [0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65, 70, 75, 80, 85, 90, 95, 100]
epsilon = 0.01
"""),
        ("code", """
from IPython.display import display

from saliency_lib import metrics, plots, studies
from saliency_lib.experiment import Experiment
from saliency_lib.runs import load_splits

exp = Experiment("smoot_fig1_motivation", profile, output_dir)
exp.record("settings", datasets=datasets, training=training, seeds=seeds,
           eval_images=eval_images, levels=levels, epsilon=epsilon)
paper_share = studies.paper_numbers("smoot_motivation")["share_class_ii"]
"""),
        ("code", """
rows = []
for name, overrides in studies.normalise_datasets(datasets).items():
    runs = studies.train_all(studies.setting_configs(name, overrides, training, methods, seeds, dataset_params))
    exp.record_runs(runs.values())
    for (_, seed), run in runs.items():
        images = studies.eval_subset(load_splits(run.config)[1], eval_images)
        result = metrics.motivation_curves(run.model, images, levels=levels, epsilon=epsilon)
        rows.append({"dataset": name, "seed": seed, **result.summary})
        exp.save_table(result.classes.assign(seed=seed), f"classes_{name}_s{seed}")
        fig = plots.plot_motivation(result, title=f"{name}, traditional model, seed {seed}")
        exp.save_figure(fig, f"fig1_motivation_{name}_s{seed}")
        display(fig)
"""),
        ("code", """
import pandas as pd

summary = pd.DataFrame(rows)
exp.save_table(summary, "class_ii_share")
share = float(summary["share_class_ii"].mean())
exp.record("results", summary=summary, share_class_ii=share, paper_share_class_ii=paper_share)
exp.record("claims", class_ii_share={
    "claim": f"about {paper_share:.0%} of test images are class II (paper: CIFAR-10)",
    "holds": bool(abs(share - paper_share) <= 0.05),
    "detail": f"ours {share:.1%} on {', '.join(summary['dataset'].unique())} "
              f"(within 5 points of {paper_share:.0%} counts as holding)"})
"""),
        ("code", """
# NBVAL_CHECK_OUTPUT
cols = ["dataset", "seed", "n", "n_class_ii", "share_class_ii", "n_class_ii_peak_before_50"]
print(summary[cols].round(2).to_string(index=False))
print(f"paper: {paper_share:.2f} of CIFAR-10 test images are class II")
exp.write_metrics();
"""),
    ],
)

MAPS_PARAMS = """
profile = "cpu"
output_dir = None
datasets = {"fashion_mnist": {}, "mnist": {}}
dataset_params = {}
training = {"model": "cnn2", "epochs": 100, "batch_size": 256, "optimizer": "adadelta", "lr": 1.0}
methods = {"traditional": {}, "sgt": {"k_fraction": 0.5}, "smoot": {"alpha": 0.95, "mu": 10.0}}
seeds = 1
n_images = 8
gradient_images = 200
"""

build(
    "notebooks/smoot_fig2_sgt_fig2_saliency_maps.ipynb",
    [
        ("md", """
# SMOOT Fig. 2 and SGT Fig. 2: saliency maps and gradient distributions

Reproduces the qualitative comparison of SMOOT Fig. 2 and SGT Fig. 2 on MNIST and Fashion-MNIST:

* a grid of images (first row) and the |gradient| saliency map of the Traditional, SGT and SMOOT
  models (one row each, each map scaled to its own maximum; brighter = more salient);
* box plots of per-sample gradients scaled to [-1, 1] (SGT Fig. 2 right): saliency-guided training
  should give sparser maps, i.e. values concentrated near 0 with few large ones.

As a number for the visual claim, the table gives each model's **concentration**: the mean share
of |gradient| held by the top 10 % pixels (higher = sharper maps).
"""),
        ("params", MAPS_PARAMS),
        ("code", """
from IPython.display import display

from saliency_lib import plots, studies
from saliency_lib.experiment import Experiment
from saliency_lib.runs import load_splits

exp = Experiment("smoot_fig2_sgt_fig2_saliency_maps", profile, output_dir)
exp.record("settings", datasets=datasets, training=training, methods=methods, seeds=seeds,
           n_images=n_images, gradient_images=gradient_images)
"""),
        ("code", """
summaries = []
for name, overrides in studies.normalise_datasets(datasets).items():
    runs = studies.train_all(studies.setting_configs(name, overrides, training, methods, seeds, dataset_params))
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
"""),
        ("code", """
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
"""),
        ("code", """
# NBVAL_CHECK_OUTPUT
print(summary[["dataset", "method", "images", "concentration", "mean_abs"]].round(2).to_string(index=False))
exp.write_metrics();
"""),
    ],
)


def accuracy_k_notebook(path, title_md, name, params):
    build(
        path,
        [
            ("md", title_md),
            ("params", params),
            ("code", f"""
from IPython.display import display

from saliency_lib import plots, studies
from saliency_lib.experiment import Experiment
from saliency_lib.runs import load_splits

exp = Experiment("{name}", profile, output_dir)
exp.record("settings", datasets=datasets, training=training, methods=methods, seeds=seeds)
"""),
            ("md", """
## Train (or load) the runs, then accuracy and K per method
"""),
            ("code", """
tables, summaries = {}, {}
for label, overrides in studies.normalise_datasets(datasets).items():
    runs = studies.train_all(studies.setting_configs(label, overrides, training, methods, seeds, dataset_params))
    exp.record_runs(runs.values())
    per_seed = studies.per_seed_table(runs)
    summaries[label] = studies.summary_table(per_seed, ["accuracy", "k_min", "k_median", "k_max"])
    tables[label] = studies.paper_comparison(summaries[label], paper_table[label])
    exp.save_table(per_seed, f"per_seed_{label}")
    exp.save_table(tables[label], f"table_{label}")
    models = {m: run.model for (m, seed), run in runs.items() if seed == 0}
    test = load_splits(next(iter(runs.values())).config)[1]
    x, y = studies.first_images(test, n_images)
    fig = plots.plot_saliency_grid(x, studies.saliency_maps(models, x, y), titles=y.tolist())
    exp.save_figure(fig, f"saliency_maps_{label}")
    display(fig)
    grads, concentration = studies.gradient_summary(models, test, n=gradient_images)
    fig = plots.plot_gradient_distribution(grads, x="label")
    exp.save_figure(fig, f"gradient_distribution_{label}")
    display(fig)
    exp.record("results", **{label: {"per_seed": per_seed, "summary": summaries[label],
                                     "gradient_concentration": concentration}})
"""),
            ("code", """
claims = {}
for label, s in summaries.items():
    acc = s.set_index("method")["accuracy_mean"]
    if {"smoot", "sgt", "traditional"} <= set(acc.index):
        claims[f"smoot_best_accuracy_{label}"] = {
            "claim": f"SMOOT has the highest accuracy, then SGT, then Traditional ({label})",
            "holds": bool(acc["smoot"] > acc["sgt"] > acc["traditional"]),
            "detail": ", ".join(f"{m} {v:.2f}" for m, v in acc.items())}
exp.record("claims", **claims)
"""),
            ("code", """
# NBVAL_CHECK_OUTPUT
for label, table in tables.items():
    print(f"== {label} ({paper_table[label]}) ==")
    print(table.to_string(index=False))
exp.write_metrics();
"""),
        ],
    )


accuracy_k_notebook(
    "notebooks/smoot_tab4_fig4_caltech_resnet18.ipynb",
    """
# SMOOT Table IV and Fig. 4: ResNet-18 on Caltech-101

Reproduces SMOOT **Table IV** (accuracy and K of Traditional, SGT and SMOOT for an
ImageNet-pretrained ResNet-18 fine-tuned on Caltech-101) and **Fig. 4** (saliency maps and
per-sample gradient box plots). This needs the Caltech-101 download and a GPU: the `cpu` profile
does not run it (the report says "not run"); the `smoke` profile runs the same code on a tiny
synthetic RGB set to keep it working.

Read the table as ours (mean [95 % interval] over seeds) beside the paper. The paper's printed
SMOOT median K (236,885) exceeds the number of pixels; it is shown as printed.
""",
    "smoot_tab4_fig4_caltech_resnet18",
    """
profile = "paper"
output_dir = None
datasets = {"caltech101": {}}
dataset_params = {}
training = {"model": "resnet18", "pretrained": True, "epochs": 100, "batch_size": 128, "optimizer": "adadelta", "lr": 0.001}
methods = {"traditional": {}, "sgt": {"k_fraction": 0.5}, "smoot": {"alpha": 0.8, "mu": 10.0}}
seeds = 1
paper_table = {"caltech101": "smoot_table4"}
n_images = 6
gradient_images = 100
""",
)

accuracy_k_notebook(
    "notebooks/smoot_tab5_tab6_fig5_cifar_deit.ipynb",
    """
# SMOOT Tables V-VI and Fig. 5: DeiT-tiny on CIFAR-10 and CIFAR-100

Reproduces SMOOT **Table V** (CIFAR-10) and **Table VI** (CIFAR-100): accuracy and K of
Traditional, SGT and SMOOT for an ImageNet-pretrained DeiT-tiny (inputs resized to 224; masking
works on the 32 x 32 input, so K counts CIFAR pixels: 512 = 50 %), and **Fig. 5** (saliency maps and
gradient box plots). Needs the CIFAR download, the pretrained weights and a GPU: the `cpu` profile
does not run it; the `smoke` profile runs the code on a tiny synthetic set.
""",
    "smoot_tab5_tab6_fig5_cifar_deit",
    """
profile = "paper"
output_dir = None
datasets = {"cifar10": {}, "cifar100": {}}
dataset_params = {}
training = {"model": "deit_tiny", "pretrained": True, "epochs": 100, "batch_size": 256, "optimizer": "adadelta", "lr": 0.001}
methods = {"traditional": {}, "sgt": {"k_fraction": 0.5}, "smoot": {"alpha": 0.8, "mu": 10.0}}
seeds = 1
paper_table = {"cifar10": "smoot_table5", "cifar100": "smoot_table6"}
n_images = 6
gradient_images = 100
""",
)

build(
    "notebooks/summary.ipynb",
    [
        ("md", """
# Summary: every reproduced number beside the paper's

Runs last. Collects what the other notebooks wrote under `outputs/<profile>/` into
`outputs/<profile>/REPORT.md`: each paper claim marked **holds**, **does not hold** or **not run**,
and each table with our numbers (mean [95 % interval] over seeds) beside the published ones.
Nothing here is computed anew: it only reads the notebooks' `metrics.json` and tables.
"""),
        ("params", """
profile = "cpu"
output_dir = None
"""),
        ("code", """
from IPython.display import Markdown, display

from saliency_lib import report

path = report.build_report(profile)
entries = report.collect(profile)
"""),
        ("code", """
# NBVAL_CHECK_OUTPUT
print(report.claims_table(entries)[["paper item", "verdict"]].to_string(index=False))
"""),
        ("code", """
display(Markdown(path.read_text()))
"""),
    ],
)
