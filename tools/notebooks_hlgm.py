"""Source of the HLGM notebooks (run: python tools/notebooks_hlgm.py).

The three notebooks share one run grid: notebook 1 (Figs. 2-5, Table II) and notebook 2 (Fig. 6)
have identical run parameters, so the run store trains the runs once; notebook 3 (Figs. 7-8,
Table III) trains the same three methods on a box-annotated set.
"""

from nbbuild import build

# The run grid, as in the cpu profile (params/cpu/*.yaml inject the same values; params/paper
# has HLGM Table I).
RUN_PARAMS = """
profile = "cpu"
output_dir = None
# label -> {"dataset", "model", other training overrides}; the label keys the paper's numbers
datasets = {"cnn2_fashion_mnist": {"dataset": "fashion_mnist", "model": "cnn2", "train_subset": 2000, "test_subset": 2000}}
dataset_params = {}
training = {"model": "cnn2", "epochs": 15, "batch_size": 256, "optimizer": "adadelta", "lr": 1.0}
# baseline = traditional continuation of each HLGM run from its phase-1 checkpoint (added below)
methods = {"sgt": {"k_fraction": 0.5}, "hlgm": {"patience": 2, "monitor": "test_acc", "episode_size": 2, "k_top_start": 0.2, "k_top_step": 0.02, "k_bottom": 0.5}}
seeds = 1
"""

TRAIN = """
runs, plateaus = {}, {}
for name, overrides in studies.normalise_datasets(datasets).items():
    configs = studies.setting_configs(name, overrides, training, methods, seeds, dataset_params)
    runs[name] = studies.train_all(studies.with_hlgm_baselines(configs))  # baseline after its HLGM run
    exp.record_runs(runs[name].values())
    plateaus[name] = {seed: studies.hlgm_plateau_info(run) for (label, seed), run in runs[name].items() if label == "hlgm"}
    for (label, seed), run in runs[name].items():
        if label == "hlgm":
            print(f"{name} seed {seed}: {studies.hlgm_plateau_caption(run)}")
"""

ACCURACY_FIGURES = """
for name, ds_runs in runs.items():
    for (label, seed), run in ds_runs.items():
        if label != "hlgm":
            continue
        continued = [h for h in ds_runs[(studies.HLGM_BASELINE, seed)].history if h["epoch"] > (run.plateau_epoch or 0)]
        fig = plots.plot_hlgm_accuracy(run.history, continued or None,
                                       title=f"{name}, seed {seed}\\n{studies.hlgm_plateau_caption(run)}")
        exp.save_figure(fig, f"{FIGURE_PREFIX}_{name}_s{seed}")
        display(fig)
        plt.close(fig)
"""

# --------------------------------------------------------------------------- notebook 1
build(
    "notebooks/hlgm_fig2_5_tab2_accuracy.ipynb",
    [
        ("md", """
# HLGM Figs. 2-5 and Table II: accuracy of HLGM, its traditional continuation and SGT

Reproduces HLGM (Karkehabadi et al.) **Figs. 2-5** (train and test accuracy per epoch of an
HLGM run, with its phases shaded) and **Table II** (test accuracy of Baseline / SGT / HLGM).

* **HLGM** (Algorithm 2, docs/methods.md §3.6): traditional training until the monitored quantity has not
  improved for `patience` epochs (phase 1, the "plateau"), then episodes of `episode_size`
  epochs: *regularize* epochs mask the **top** k_t of the pixel positions by input gradient
  (k_t = 20 %, 2 points less after every regularize epoch), *denoise* epochs mask the **bottom**
  50 %; the first episode has one denoise epoch, each later one one more. Loss in phase 2:
  cross-entropy + KL(clean || masked), as SGT.
* **Baseline**: traditional training *continued from HLGM's phase-1 checkpoint* for the same
  total epochs (the paper's black line), so HLGM and baseline share phase 1 exactly.
* **SGT**: saliency-guided training (bottom 50 % masked) from scratch for the same epochs.

**How to read the figures.** Grey = traditional (phase 1), purple = regularize, yellow =
denoise. Blue = HLGM's training accuracy (on the masked-training batches' clean pass), red = its
test accuracy, black dashed = the test accuracy of the continued traditional training from the
first phase-2 epoch on. The title says at which epoch phase 1 ended, or plainly that it did not
(then HLGM *is* the baseline and the comparison is empty).

**Table II.** The paper compares the *best-epoch* test accuracy ("the max test accuracy ...
regardless of which epoch") and the *final* one (end of training); both are reported here,
mean [95 % t-interval] over seeds when seeds > 1, beside the paper's single number (which does
not say which of the two it is). The paper's claims: HLGM beats the baseline (both comparisons)
and SGT.
"""),
        ("params", RUN_PARAMS),
        ("code", """
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import display

from saliency_lib import plots, studies
from saliency_lib.experiment import Experiment

exp = Experiment("hlgm_fig2_5_tab2_accuracy", profile, output_dir)
exp.record("settings", datasets=datasets, dataset_params=dataset_params, training=training,
           methods=methods, seeds=seeds)
FIGURE_PREFIX = "fig2_5_accuracy"
"""),
        ("md", """
## Train (or load) the runs

For every setting and seed: SGT, HLGM, then the baseline (it starts from the HLGM run's phase-1
checkpoint, so it is trained after it). Runs are shared through the run store
(`outputs/runs/`); `hlgm_fig6_saliency_maps` uses the same runs.
"""),
        ("code", TRAIN),
        ("md", """
## Figs. 2-5: accuracy per epoch, phases shaded

One figure per setting and seed (the paper: Fig. 2 CNN CIFAR-10, Fig. 3 DeiT-tiny CIFAR-10,
Fig. 4 CNN and ResNet-18 CIFAR-100, Fig. 5 DeiT-tiny CIFAR-100).
"""),
        ("code", ACCURACY_FIGURES),
        ("md", """
## Table II and the paper's claims

`best` = highest test accuracy over all epochs, `final` = test accuracy after the last epoch,
both on the same test images (see `settings` in `metrics.json`). A claim holds when HLGM's mean
is strictly higher; the detail gives the numbers and the seeds.
"""),
        ("code", """
tables, claims = [], []
for name, ds_runs in runs.items():
    per_seed = studies.per_seed_table(ds_runs)
    tables.append(studies.hlgm_accuracy_table(per_seed, name))
    claims += studies.hlgm_accuracy_claims(per_seed, name, plateaus[name])
    exp.save_table(per_seed, f"per_seed_{name}")
    exp.record("results", **{name: {
        "per_seed": per_seed, "plateau": plateaus[name],
        "history": {f"{label}_s{seed}": run.history for (label, seed), run in ds_runs.items()}}})
table2 = pd.concat(tables, ignore_index=True)
exp.save_table(table2, "table2_accuracy")
exp.record("results", table2=table2)
exp.record_claims(claims)
display(table2)
"""),
        ("code", """
# NBVAL_CHECK_OUTPUT
print(table2.to_string(index=False))
for c in claims:
    print(studies.claim_line(c))
exp.write_metrics();
"""),
    ],
)

# --------------------------------------------------------------------------- notebook 2
build(
    "notebooks/hlgm_fig6_saliency_maps.ipynb",
    [
        ("md", """
# HLGM Fig. 6: saliency maps of the Baseline, SGT and HLGM models

Reproduces HLGM **Fig. 6**: the saliency maps of the regular (baseline), SGT and HLGM models on
a few test images. The models are the seed-0 runs of `hlgm_fig2_5_tab2_accuracy` (identical
run parameters, so the run store shares them: whichever notebook runs first trains them), with
their final (last-epoch) weights.

**How to read the grid.** First row: the test images (a seeded random choice; title = true
class). Then one row per model: |gradient| of the true class's log-probability with respect to
the input (docs/methods.md §4), each map scaled to its own maximum (brighter = more salient).

**The paper's claim** (Fig. 6 caption): HLGM has higher gradients on the main object than the
regular and SGT models. On data with a known background (Fashion-MNIST: raw 0) this is checked
as a number: the object is every non-background pixel, and the table gives the share of each
model's top 5 % / 10 % |gradient| positions on the object, over `object_images` test images
(`object share of image` = the share a random map would get). On CIFAR (paper profile) there is
no such background and `object_fractions` is empty: the figure only.
"""),
        ("params", RUN_PARAMS + """n_images = 8  # images in the grid
# test images for the on-object share (None: all of them)
object_images = 1000
# top shares of positions checked (an empty list: no check)
object_fractions = [0.05, 0.1]
"""),
        ("code", """
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import display

from saliency_lib import plots, studies
from saliency_lib.experiment import Experiment
from saliency_lib.runs import load_splits

exp = Experiment("hlgm_fig6_saliency_maps", profile, output_dir)
exp.record("settings", datasets=datasets, dataset_params=dataset_params, training=training,
           methods=methods, seeds=seeds, n_images=n_images, object_images=object_images,
           object_fractions=object_fractions)
"""),
        ("code", """
tables, claims = [], []
for name, overrides in studies.normalise_datasets(datasets).items():
    configs = studies.setting_configs(name, overrides, training, methods, seeds, dataset_params)
    runs = studies.train_all(studies.with_hlgm_baselines(configs))
    exp.record_runs(runs.values())
    print(f"{name}: {studies.hlgm_plateau_caption(runs[('hlgm', 0)])}")
    models = {m: runs[(m, 0)].model for m in studies.HLGM_METHODS if (m, 0) in runs}
    test = load_splits(runs[("hlgm", 0)].config)[1]
    x, y = studies.dataset_images(studies.eval_subset(test, n_images))
    fig = plots.plot_saliency_grid(x, studies.saliency_maps(models, x, y), titles=y.tolist())
    exp.save_figure(fig, f"fig6_saliency_maps_{name}")
    display(fig)
    plt.close(fig)
    if object_fractions:
        xo, yo = studies.dataset_images(studies.eval_subset(test, object_images))
        shares = studies.object_share(studies.saliency_maps(models, xo, yo), xo, test.background,
                                      object_fractions)
        table = studies.object_share_table(shares)
        claims += studies.object_share_claims(table, name)
        tables.append(table.assign(setting=name, **{"object share of image": shares.attrs["object_share_of_image"]}))
"""),
        ("md", """
## On-object share of the top gradients (a number for Fig. 6)

Mean and median over images of the share of each model's top x % |gradient| positions that are
object pixels; higher = the model's strongest gradients sit on the object.
"""),
        ("code", """
object_table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
if tables:
    exp.save_table(object_table, "table_object_share")
exp.record("results", object_share=object_table)
exp.record_claims(claims)
display(object_table)
"""),
        ("code", """
# NBVAL_CHECK_OUTPUT
print(object_table.round(2).to_string(index=False) if tables else "figure only (no known background)")
for c in claims:
    print(studies.claim_line(c))
exp.write_metrics();
"""),
    ],
)

# --------------------------------------------------------------------------- notebook 3
SIB_PARAMS = """
profile = "cpu"
output_dir = None
# label -> {"dataset", "model", other training overrides}
datasets = {"cnn2_cluttered_fashion_mnist": {"dataset": "cluttered_fashion_mnist", "model": "cnn2", "test_subset": 500}}
dataset_params = {"canvas_size": 40, "num_distractors": 6, "distractor_size": 6, "n": 1000}
training = {"model": "cnn2", "epochs": 14, "batch_size": 64, "optimizer": "adadelta", "lr": 1.0}
# baseline = traditional continuation of each HLGM run from its phase-1 checkpoint (added below)
methods = {"sgt": {"k_fraction": 0.5}, "hlgm": {"patience": 2, "monitor": "test_acc", "episode_size": 2, "k_top_start": 0.2, "k_top_step": 0.02, "k_bottom": 0.5}}
seeds = 1
fractions = [0.005, 0.01, 0.02, 0.05, 0.1]  # SIB(0.5), SIB(1), SIB(2), SIB(5), SIB(10)
sib_split = "test"  # split whose boxed images are scored (test | train)
# images of that split used (None: all with a box)
sib_images = None
box_columns = ["SIB(1)", "SIB(5)"]  # Fig. 7 box plots
scatter_columns = ["SIB(1)", "SIB(5)"]  # Fig. 8 scatter, one figure each
scatter_images = 120
n_images = 6  # saliency-map grid
"""

build(
    "notebooks/hlgm_fig7_8_tab3_sib.ipynb",
    [
        ("md", """
# HLGM Figs. 7-8 and Table III: saliency in the box (SIB)

Reproduces HLGM **Table III** (median SIB(x) for x = 0.5, 1, 2, 5, 10 %), the box plots of
SIB(1) and SIB(5) (here **Fig. 7**; the paper's Fig. 8, left) and the scatter of 120 random test
images sorted by the baseline's SIB (here **Fig. 8**; the paper's Fig. 8, right).

**SIB(x)** (docs/methods.md §4.3): for an image with a box, the share of its top x % positions by |gradient|
(true class, channel mean, stable sort) that lie inside the object's box. 1 = all of the
model's strongest gradients are on the object; a map with its top positions spread at random
gets the box's share of the image (`box share` below).

**Data and models.** The paper: Oxford-IIIT Pet (head boxes), ImageNet-pretrained ResNet-18
(paper profile). Offline (cpu profile): the cluttered localisation set (docs/methods.md §2.3), one
Fashion-MNIST item at a random place on a larger canvas with distractor patches cropped from
other items, all outside the item's tight box; a model that looks at the item rather than at
the clutter scores higher. Three models per seed, the methods of `hlgm_fig2_5_tab2_accuracy`
(settings in the parameters and their params file): **baseline** (traditional continuation from
HLGM's phase-1 checkpoint), **SGT**, **HLGM**; their accuracy and the phase-1 plateau come
first, since the SIB of a model that has not learned the task means little. SIB uses the final
(last-epoch) weights. Medians of SIB(x) move in steps of 1/k (k = top positions: 8 for 0.5 % of
a 40x40 canvas), so ties are common at small x; `sib_per_seed_*.csv` also has the means.

**The paper's claim:** HLGM has the highest median SIB at every x (Table III).
"""),
        ("params", SIB_PARAMS),
        ("code", """
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import display

from saliency_lib import plots, studies
from saliency_lib.experiment import Experiment
from saliency_lib.runs import load_splits

exp = Experiment("hlgm_fig7_8_tab3_sib", profile, output_dir)
exp.record("settings", datasets=datasets, dataset_params=dataset_params, training=training,
           methods=methods, seeds=seeds, fractions=fractions, sib_split=sib_split,
           sib_images=sib_images, scatter_images=scatter_images)
FIGURE_PREFIX = "accuracy"
"""),
        ("md", """
## Train (or load) the runs; their accuracy

Shaded accuracy figures as in Figs. 2-5 (grey traditional, purple regularize, yellow denoise;
black dashed = the continued traditional training).
"""),
        ("code", TRAIN),
        ("code", ACCURACY_FIGURES),
        ("code", """
accuracy = pd.concat([studies.hlgm_accuracy_table(studies.per_seed_table(r), name, paper_key=None)
                      for name, r in runs.items()], ignore_index=True)
exp.save_table(accuracy, "accuracy")
exp.record("results", accuracy=accuracy, plateau=plateaus)
display(accuracy)
"""),
        ("md", """
## SIB of every model; Table III, Figs. 7-8

Every model is scored on the same images. The figures show seed 0; the table gives, per model,
the median over images (mean [95 % interval] of the per-seed medians when seeds > 1) beside the
paper's Oxford-IIIT Pet medians.
"""),
        ("code", """
sib_tables, claims = [], []
for name, ds_runs in runs.items():
    data = load_splits(ds_runs[("hlgm", 0)].config)[0 if sib_split == "train" else 1]
    data = studies.eval_subset(data, sib_images)
    box_share = studies.box_area_share(data)
    sibs = studies.sib_by_run(ds_runs, data, fractions)
    per_seed = studies.sib_per_seed(sibs)
    sib_tables.append(studies.hlgm_sib_table(per_seed).assign(setting=name, **{"box share": box_share.median()}))
    claims += studies.hlgm_sib_claims(per_seed, name)
    exp.save_table(per_seed, f"sib_per_seed_{name}")
    exp.save_table(pd.concat({f"{m}_s{s}": df for (m, s), df in sibs.items()}, names=["model", "image"]).reset_index(),
                   f"sib_per_image_{name}", floatfmt=".3f")
    exp.record("results", **{f"sib_{name}": {"per_seed": per_seed, "images": len(box_share),
                                              "excluded_without_box": len(data) - len(box_share),
                                              "box_share_median": box_share.median()}})
    seed0 = {m: sibs[(m, 0)] for m in studies.HLGM_METHODS if (m, 0) in sibs}
    print(f"{name}: {len(box_share)} {sib_split} images with a box, median box share {box_share.median():.2f}")
    fig = plots.plot_sib_boxplots(seed0, box_columns)
    fig.suptitle(f"{name}: SIB per image (seed 0; dotted: median box share = random map)")
    for ax in fig.axes:
        ax.axhline(box_share.median(), color="grey", ls=":")
    exp.save_figure(fig, f"fig7_sib_boxplots_{name}")
    display(fig)
    plt.close(fig)
    for column in scatter_columns:
        fig = plots.plot_sib_scatter(seed0, column, baseline=studies.HLGM_BASELINE, n=scatter_images)
        fig.axes[0].set_title(f"{name}: {column} of {min(scatter_images, len(box_share))} random images (seed 0)")
        fig.axes[0].axhline(box_share.median(), color="grey", ls=":", label="median box share")
        fig.axes[0].legend(fontsize="small")
        exp.save_figure(fig, f"fig8_sib_scatter_{name}_{column.strip('SIB()')}")
        display(fig)
        plt.close(fig)
    x, y = studies.dataset_images(data, n_images)
    fig = plots.plot_saliency_grid(x, studies.saliency_maps({m: ds_runs[(m, 0)].model for m in seed0}, x, y),
                                   titles=y.tolist())
    exp.save_figure(fig, f"saliency_maps_{name}")
    display(fig)
    plt.close(fig)
table3 = pd.concat(sib_tables, ignore_index=True)
exp.save_table(table3, "table3_sib")
exp.record("results", table3=table3)
exp.record_claims(claims)
display(table3)
"""),
        ("code", """
# NBVAL_CHECK_OUTPUT
print(accuracy.to_string(index=False))
print(table3.round(2).to_string(index=False))
for c in claims:
    print(studies.claim_line(c))
exp.write_metrics();
"""),
    ],
)
