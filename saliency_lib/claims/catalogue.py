"""Every claim of the three papers that a figure or table of theirs supports, as data.

A :class:`Claim` of kind ``paper`` quotes the paper verbatim (a reader can search for the quote;
``location`` says where it is), states its direction as the paper does ("superior" is a strict
"greater"; a non-inferiority margin only where the paper says "without degrading" or
"comparable"), and names the measure it is tested on: the paper's own, or the closest standard
one where the paper shows a picture. Our own checks and controls are kinds ``control`` and
``check``, in our words. A claim with ``parts`` is a conjunction ("SMOOT > SGT > Traditional")
decided from its parts' records; a claim with several records (one per saliency method, per SIB
level, per compared arm) is decided as the conjunction of them all ("regardless of the saliency
method", "compared to both"). Claims that cannot run in a profile name what they ``need``.

The papers' numbers come from ``paper_numbers.yaml`` (:func:`paper_numbers`), the one source
the catalogue, the notebooks' tables and the report share. docs/methods.md §8 gives the rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

from .verdicts import DIRECTIONS

KINDS = ("paper", "control", "check")
PAPERS = ("SGT", "SMOOT", "HLGM")


@cache
def _paper_numbers() -> dict:
    return yaml.safe_load(Path(__file__).with_name("paper_numbers.yaml").read_text())


def paper_numbers(key: str | None = None) -> dict:
    """The papers' published numbers (docs/methods.md §5) from ``paper_numbers.yaml``: all of
    them, or the table ``key`` (e.g. ``"smoot_table3"``)."""
    data = _paper_numbers()
    return data if key is None else data[key]


def _pair(table: str, a: str, b: str, column: str | None = None, row: str | None = None):
    """``(paper's a, paper's b)`` from table ``table`` of ``paper_numbers.yaml``: the ``column``
    of the rows ``a`` and ``b`` (tables with one row per method, e.g. SMOOT's), or the entries
    ``a`` and ``b`` of row ``row`` (tables with one row per setting, e.g. HLGM's)."""
    t = paper_numbers(table)["rows"]
    if column is not None:
        return float(t[a][column]), float(t[b][column])
    return float(t[row][a]), float(t[row][b])


@dataclass(frozen=True)
class Claim:
    id: str
    paper_item: str  # "SMOOT Fig. 3": the paper (its first word) and its figure or table
    location: str  # where the quote is, e.g. "SMOOT (IEEE) §III.C, Fig. 3 caption"
    quote: str  # the paper's words, verbatim (kind "paper"); ours otherwise
    quantity: str  # what is compared, per seed, with its unit
    a: str  # the arm the claim is about ...
    b: str  # ... compared with this one (records may name another: "versus")
    direction: str  # greater | less | exceeds | at_least | at_most | equivalent (a versus b)
    kind: str = "paper"  # paper | control (qualifies a paper claim's verdict) | check (ours)
    margin: float = 0.0  # in the quantity's unit (non-inferiority, equivalence, "by more than")
    unit: str = ""
    paper_setting: str = ""  # the paper's model and data
    paper: Mapping[str, tuple[float, float]] = field(default_factory=dict)  # setting -> (a, b)
    precondition: str = ""  # what must hold for a test at our scale to mean something, and why
    reading: str = ""  # how the paper's words are turned into a test, where that is a choice
    parts: tuple[str, ...] = ()  # a conjunction of these claims (their records decide it)
    part_of: str = ""  # the conjunction this claim is a part of (set from ``parts``)
    control: str = ""  # the control claim whose verdict is shown beside this one
    needs: str = ""  # what a run of it needs, where the cpu profile cannot run it
    needs_paper_data: bool = False  # an absolute number: not testable on other data

    def __post_init__(self):
        if self.direction not in DIRECTIONS:
            raise ValueError(f"claim {self.id}: direction must be one of {DIRECTIONS}")
        if self.kind not in KINDS:
            raise ValueError(f"claim {self.id}: kind must be one of {KINDS}")
        if self.source not in PAPERS:
            raise ValueError(f"claim {self.id}: paper_item must start with one of {PAPERS}")

    @property
    def source(self) -> str:
        """The paper: SGT, SMOOT or HLGM."""
        return self.paper_item.split()[0]

    @property
    def rule(self) -> str:
        """The test in words."""
        a, b, m = self.a, self.b, f"{self.margin:g}{self.unit}"
        return {
            "greater": f"{a} > {b}: paired interval of {a} - {b} above 0",
            "less": f"{a} < {b}: paired interval of {a} - {b} below 0",
            "exceeds": f"{a} > {b} + {m}: paired interval of {a} - {b} above +{m}",
            "at_least": f"{a} at least {b} - {m}: interval of {a} - {b} above -{m}",
            "at_most": f"{a} at most {b} + {m}: interval of {a} - {b} below +{m}",
            "equivalent": f"{a} ~ {b}: interval of {a} - {b} within +-{m}",
        }[self.direction]


ACCURACY_MARGIN = 1.0  # accuracy points: "without degrading" (non-inferiority margin)
GAP_TOLERANCE = 5.0  # accuracy points: two accuracy-drop curves "similar" within this

_TRAINED = (
    "the Traditional model reaches the accuracy the profile states for the setting: an "
    "undertrained model's saliency ranks pixels by noise, so an accuracy-drop or map claim "
    "would compare noise"
)
_K_SPREAD = (
    "SMOOT's K spread (max - min of the final K) reaches at least half of the paper's spread "
    "(MNIST 310, Fashion-MNIST 353 positions), and the setting allows it by design (at most "
    "2 x mu x epochs): otherwise every image keeps about the same K and SMOOT is SGT by "
    "construction, so a SMOOT-vs-SGT difference would test nothing of SMOOT"
)
_HLGM_PHASE2 = (
    "every HLGM seed left phase 1 and ran at least 4 phase-2 episodes: otherwise HLGM's "
    "regularize/denoise schedule barely acted and HLGM is its baseline"
)
_FINAL = (
    "rule fixed in advance: the test accuracy at the final epoch (the paper's second "
    "comparison); the best epoch chosen on the test split (the paper's first comparison) is "
    "shown as a sensitivity line"
)

CLAIMS: dict[str, Claim] = {}


def _add(*claims: Claim) -> None:
    for c in claims:
        if c.id in CLAIMS:
            raise ValueError(f"duplicate claim id {c.id}")
        CLAIMS[c.id] = c


# ============================================================================ SGT
_SGT_IMAGES = "CNN, MNIST; ResNet-18, CIFAR-10; VGG-16, BIRD"
_add(
    Claim(
        id="sgt_accuracy_kept",
        paper_item="SGT §4-5",
        location="SGT §1 Introduction (also the abstract: 'while preserving its predictive "
        "performance')",
        quote="trains models that produce sparse, meaningful, and less noisy gradients without "
        "degrading model performance",
        quantity="final-epoch test accuracy (%)",
        a="sgt",
        b="traditional",
        direction="at_least",
        margin=ACCURACY_MARGIN,
        unit=" pts",
        paper_setting="every model and dataset of the paper (accuracies in its supplement)",
        reading="'without degrading' read as non-inferiority within 1 accuracy point, at the "
        "final epoch of equal-length training",
        precondition=_TRAINED,
    ),
    Claim(
        id="sgt_sparser_maps",
        paper_item="SGT Fig. 2",
        location="SGT §1 Introduction, on Fig. 2",
        quote="leads to a reduction in visual saliency noise and sparser saliency maps",
        quantity="Gini index of |gradient| per test image, mean over images",
        a="sgt",
        b="traditional",
        direction="greater",
        paper_setting="CNN, MNIST (maps and per-sample gradient distributions, no number)",
        reading="sparsity measured by the Gini index, the sparsity measure of the attribution "
        "literature (0 uniform, near 1 all mass on one pixel)",
        precondition=_TRAINED,
    ),
    Claim(
        id="sgt_maps_on_object",
        paper_item="SGT Fig. 2",
        location="SGT §5.1, 'Quality of Saliency Maps for Images'",
        quote="Most saliency maps produced by saliency guided training highlight the object "
        "itself rather than the background",
        quantity="share of each image's top 10 % |gradient| positions on the object (pixels "
        "that differ from the background), mean over test images",
        a="sgt",
        b="traditional",
        direction="greater",
        paper_setting=f"{_SGT_IMAGES} (maps shown, no number)",
        reading="'highlight the object' measured as the share of the top 10 % positions on "
        "the object; on CIFAR-10 and BIRD (paper profile) there is no object mask",
        precondition=_TRAINED,
    ),
    Claim(
        id="sgt_fig3_steeper_drop",
        paper_item="SGT Fig. 3",
        location="SGT §5.1, 'Model Accuracy Drop' (also the Fig. 3 caption)",
        quote="the saliency guided training shows a steeper accuracy drop regardless of the "
        "saliency method used",
        quantity="AUC of the accuracy-drop curve (%), one record per saliency method (lower = "
        "steeper drop)",
        a="sgt",
        b="traditional",
        direction="less",
        unit=" pts",
        paper_setting="CNN, MNIST (curves, no number)",
        reading="'regardless of the saliency method': every saliency method's record must hold",
        precondition=_TRAINED,
        control="drop_beyond_random",
    ),
    Claim(
        id="sgt_fig4_replacements_differ",
        paper_item="SGT Fig. 4",
        location="SGT §5.1, 'Feature replacement methods'",
        quote="neither OOD nor ROAR produce results similar to those produced by the IID feature "
        "replacement",
        quantity="mean |gap| (accuracy points) between the drop of the mean (OOD) or ROAR curve "
        "and the drop of the background (IID) curve, each curve taken relative to its own "
        "0 %-removed accuracy; traditional model",
        a="replacement",
        b="tolerance",
        direction="greater",
        unit=" pts",
        paper_setting="CNN, MNIST, traditional model (curves, no number)",
        reading=f"'similar' read as within {GAP_TOLERANCE:g} points on average; ROAR's "
        "retrained models start lower than the original, so every curve is compared by its "
        "drop from its own 0 %-removed accuracy; both OOD and ROAR must differ",
    ),
    Claim(
        id="sgt_fig5_maps_improve",
        paper_item="SGT Fig. 5",
        location="SGT §5.3, 'Saliency Maps Quality for Multivariate Time Series'",
        quote="There is a visible improvement in saliency quality across different networks "
        "when saliency guided training is used",
        quantity="share of each image's top 10 % |saliency| cells on the digit (non-background "
        "pixels of MNIST read as a time series), mean over test images, per (architecture, "
        "saliency method)",
        a="sgt",
        b="traditional",
        direction="greater",
        paper_setting="LSTM, LSTM+input-cell attention, TCN, Transformer on MNIST as a time "
        "series (maps shown, no number)",
        reading="'saliency quality' measured as the share of the top cells on the digit; "
        "'across different networks': every (architecture, saliency) record must hold",
    ),
    Claim(
        id="sgt_tab2_tcn_ig_best",
        paper_item="SGT Table 2",
        location="SGT §5.3, 'Quantitative Analysis on Synthetic Data'",
        quote="the best performance was achieved by (TCN, *Integrated gradients*) when using "
        "saliency guided training",
        quantity="per seed, Diff of (TCN, IG) under SGT minus the best Diff of the other SGT "
        "(architecture, saliency) pairs run",
        a="(TCN, IG) margin",
        b="0",
        direction="greater",
        paper_setting="LSTM, LSTM+attention, TCN, Transformer; 10 synthetic datasets",
        reading="'best' among the pairs this profile runs (fewer architectures and datasets "
        "than the paper's)",
        precondition="the models pass the benchmark's accuracy gate (a model at chance has "
        "no meaningful saliency)",
    ),
    Claim(
        id="sgt_tab2_precision_recall_up",
        paper_item="SGT Table 2",
        location="SGT §1 Introduction, on Table 2",
        quote="we observe an increase in the precision and recall of saliency maps when applying "
        "the proposed saliency guided training",
        quantity="per seed, Diff(AUP) and Diff(AUR) of SGT minus Traditional, mean over the "
        "saliency methods, one record per (architecture, metric)",
        a="SGT - Trad",
        b="0",
        direction="greater",
        paper_setting="LSTM, LSTM+attention, TCN, Transformer; 10 synthetic datasets",
        reading="every (architecture, metric) record must hold",
        precondition="the models pass the benchmark's accuracy gate",
    ),
    Claim(
        id="sgt_fig6_trad_time_bias",
        paper_item="SGT Fig. 6",
        location="SGT §5.3, 'Saliency Guided Training reduces vanishing saliency'",
        quote="AUP and AUR increase as informative features move to later time steps",
        quantity="per seed, AUP (or AUR) of the traditional LSTM with the box late minus early",
        a="late - early",
        b="0",
        direction="greater",
        paper_setting="LSTM; three synthetic datasets, box early / middle / late",
        precondition="at least 3 seeds whose every model passes the accuracy gate (a model at "
        "chance has no meaningful saliency)",
    ),
    Claim(
        id="sgt_fig6_sgt_no_time_bias",
        paper_item="SGT Fig. 6",
        location="SGT §5.3, 'Saliency Guided Training reduces vanishing saliency'",
        quote="LSTM was able to identify informative features regardless of their locations "
        "in time",
        quantity="per seed, time bias (late - early) of the traditional LSTM minus the SGT LSTM's",
        a="bias(Trad) - bias(SGT)",
        b="0",
        direction="greater",
        paper_setting="LSTM; three synthetic datasets, box early / middle / late",
        reading="tested as 'SGT's time bias is smaller than Traditional's'",
        precondition="at least 3 seeds whose every model passes the accuracy gate",
    ),
)

# ============================================================================ SMOOT
_SMOOT_CNN = "2-layer CNN, MNIST and Fashion-MNIST, 100 epochs"
_add(
    Claim(
        id="smoot_class_ii_share",
        paper_item="SMOOT Fig. 1",
        location="SMOOT (arXiv) §2.3",
        quote="16% of test images in our specific experiment",
        quantity="share of test images whose true-class probability rises when top-gradient "
        "pixels are masked (class II)",
        a="ours",
        b="paper",
        direction="equivalent",
        margin=0.05,
        paper_setting="2-layer CNN, CIFAR-10",
        paper={"cifar10": (paper_numbers("smoot_motivation")["share_class_ii"],) * 2},
        needs_paper_data=True,
        needs="CIFAR-10 (download): the number is specific to the paper's model and data",
    ),
    Claim(
        id="smoot_maps_on_object",
        paper_item="SMOOT Fig. 2",
        location="SMOOT (IEEE) Fig. 2 caption",
        quote="the saliency map produced by the SMOOT method aligns more closely with the target "
        "object for classification and exhibits a reduced number of erroneously identified "
        "salient pixels external to the object",
        quantity="share of each image's top 10 % |gradient| positions on the object, mean over "
        "test images; one record against SGT, one against Traditional",
        a="smoot",
        b="sgt | traditional",
        direction="greater",
        paper_setting="2-layer CNN, MNIST and Fashion-MNIST (maps shown, no number)",
        reading="'aligns more closely with the target object' measured as the share of the top "
        "10 % positions on the object; against both SGT and Traditional",
        precondition=_TRAINED + "; and " + _K_SPREAD,
    ),
    Claim(
        id="smoot_fig3_ordering",
        paper_item="SMOOT Fig. 3",
        location="SMOOT (IEEE) Fig. 3 caption",
        quote="SGT shows a more rapid decline compared to traditional methods, while SMOOT "
        "surpasses SGT in the rate of accuracy decline",
        quantity="AUC of the Grad accuracy-drop curve (%): SMOOT < SGT < Traditional",
        a="smoot",
        b="sgt",
        direction="less",
        unit=" pts",
        paper_setting=_SMOOT_CNN,
        paper={"fashion_mnist": _pair("smoot_table3", "smoot", "traditional", "auc")},
        parts=("sgt_auc_below_traditional", "smoot_auc_below_sgt"),
    ),
    Claim(
        id="sgt_auc_below_traditional",
        paper_item="SMOOT Fig. 3",
        location="SMOOT (IEEE) Fig. 3 caption",
        quote="SGT shows a more rapid decline compared to traditional",
        quantity="AUC of the Grad accuracy-drop curve (%)",
        a="sgt",
        b="traditional",
        direction="less",
        unit=" pts",
        paper_setting=_SMOOT_CNN,
        paper={"fashion_mnist": _pair("smoot_table3", "sgt", "traditional", "auc")},
        precondition=_TRAINED,
        control="drop_beyond_random",
    ),
    Claim(
        id="smoot_auc_below_sgt",
        paper_item="SMOOT Fig. 3",
        location="SMOOT (IEEE) Fig. 3 caption",
        quote="SMOOT surpasses SGT in the rate of accuracy decline",
        quantity="AUC of the Grad accuracy-drop curve (%)",
        a="smoot",
        b="sgt",
        direction="less",
        unit=" pts",
        paper_setting=_SMOOT_CNN,
        paper={"fashion_mnist": _pair("smoot_table3", "smoot", "sgt", "auc")},
        precondition=_TRAINED + "; and " + _K_SPREAD,
        control="drop_beyond_random",
    ),
    Claim(
        id="smoot_steeper_drop_any_method",
        paper_item="SMOOT Fig. 3",
        location="SMOOT (arXiv) §4.3",
        quote="SMOOT leads to a steeper drop in accuracy compared to traditional training and "
        "SGT, regardless of the saliency method employed",
        quantity="AUC of the accuracy-drop curve (%), one record per saliency method and "
        "compared arm",
        a="smoot",
        b="sgt | traditional",
        direction="less",
        unit=" pts",
        paper_setting=_SMOOT_CNN,
        reading="every (saliency method, compared arm) record must hold",
        precondition=_TRAINED + "; and " + _K_SPREAD,
        control="drop_beyond_random",
    ),
    Claim(
        id="smoot_superior_accuracy",
        paper_item="SMOOT Tables II-III",
        location="SMOOT (arXiv) §4.3, on Table 3 (Fashion-MNIST)",
        quote="exhibits superior accuracy and saliency in comparison to both the SGT and "
        "traditional models",
        quantity="final-epoch test accuracy (%); one record against SGT, one against Traditional",
        a="smoot",
        b="sgt | traditional",
        direction="greater",
        unit=" pts",
        paper_setting=_SMOOT_CNN,
        paper={
            f"{d} vs {b}": _pair(t, "smoot", b, "accuracy")
            for d, t in (("mnist", "smoot_table2"), ("fashion_mnist", "smoot_table3"))
            for b in ("sgt", "traditional")
        },
        reading="'superior' read as strictly greater (the paper's MNIST Table II has SMOOT = "
        "Traditional, 99.40 = 99.40; its Fashion-MNIST Table III +0.05 and +0.30 points); "
        + _FINAL,
        precondition=_TRAINED + "; and " + _K_SPREAD,
    ),
    Claim(
        id="smoot_k_dynamic",
        paper_item="SMOOT Tables II-III",
        location="SMOOT (IEEE) Table II caption",
        quote="SMOOT adjusts the value of K dynamically",
        quantity="spread of the final K over the training images (max - min, positions): "
        "SMOOT's run against the spread its K rule gives under the null (both passes on the "
        "same unmasked images, so every step is dropout noise) over the same epochs",
        a="smoot",
        b="null",
        direction="greater",
        unit=" positions",
        paper_setting=_SMOOT_CNN,
        paper={
            "fashion_mnist": (
                _pair("smoot_table3", "smoot", "smoot", "k_max")[0]
                - _pair("smoot_table3", "smoot", "smoot", "k_min")[0],
                0.0,
            )
        },
        reading="'dynamically' read as: K spreads beyond what noise alone spreads it",
    ),
    Claim(
        id="smoot_caltech_accuracy",
        paper_item="SMOOT Table IV",
        location="SMOOT (IEEE) §III.D",
        quote="SMOOT outperforms traditional and SGT models in accuracy on the Caltech 101 dataset",
        quantity="final-epoch test accuracy (%)",
        a="smoot",
        b="sgt | traditional",
        direction="greater",
        unit=" pts",
        paper_setting="ResNet-18 (ImageNet-pretrained), Caltech-101",
        paper={
            f"caltech101 vs {b}": _pair("smoot_table4", "smoot", b, "accuracy")
            for b in ("sgt", "traditional")
        },
        needs="the Caltech-101 download, ImageNet-pretrained weights and a GPU",
    ),
    Claim(
        id="smoot_caltech_gradients",
        paper_item="SMOOT Fig. 4",
        location="SMOOT (IEEE) §III.D",
        quote="SMOOT enhances gradients of key features, making it superior in producing "
        "accurate saliency maps compared to SGT and traditional methods",
        quantity="maps and gradient box plots (the paper gives no number)",
        a="smoot",
        b="sgt | traditional",
        direction="greater",
        paper_setting="ResNet-18 (ImageNet-pretrained), Caltech-101",
        needs="the Caltech-101 download, ImageNet-pretrained weights and a GPU; and a measure "
        "of 'key features' (Caltech-101 has no object masks in this package)",
    ),
    Claim(
        id="smoot_cifar_accuracy",
        paper_item="SMOOT Tables V-VI",
        location="SMOOT (IEEE) §III.E",
        quote="SMOOT outperforms SGT and traditional training",
        quantity="final-epoch test accuracy (%)",
        a="smoot",
        b="sgt | traditional",
        direction="greater",
        unit=" pts",
        paper_setting="DeiT-tiny (ImageNet-pretrained), CIFAR-10/100",
        paper={
            f"{d} vs {b}": _pair(t, "smoot", b, "accuracy")
            for d, t in (("cifar10", "smoot_table5"), ("cifar100", "smoot_table6"))
            for b in ("sgt", "traditional")
        },
        needs="the CIFAR download, ImageNet-pretrained DeiT-tiny and a GPU",
    ),
    Claim(
        id="smoot_cifar_sgt_above_traditional",
        paper_item="SMOOT Tables V-VI",
        location="SMOOT (arXiv) §4.4",
        quote="the implementation of the SGT method resulted in CIFAR10 and Cifar100 in a "
        "notable improvement in accuracy",
        quantity="final-epoch test accuracy (%)",
        a="sgt",
        b="traditional",
        direction="greater",
        unit=" pts",
        paper_setting="DeiT-tiny (ImageNet-pretrained), CIFAR-10/100",
        paper={
            "cifar10": _pair("smoot_table5", "sgt", "traditional", "accuracy"),
            "cifar100": _pair("smoot_table6", "sgt", "traditional", "accuracy"),
        },
        needs="the CIFAR download, ImageNet-pretrained DeiT-tiny and a GPU",
    ),
    Claim(
        id="smoot_cifar_gradients",
        paper_item="SMOOT Fig. 5",
        location="SMOOT (IEEE) §III.E",
        quote="showcasing a taller gradient box and broader distribution",
        quantity="gradient box plots (the paper gives no number)",
        a="smoot",
        b="sgt | traditional",
        direction="greater",
        paper_setting="DeiT-tiny (ImageNet-pretrained), CIFAR-10/100",
        needs="the CIFAR download, ImageNet-pretrained DeiT-tiny and a GPU",
    ),
)

# ============================================================================ HLGM
_HLGM_ACC = "2-layer CNN, ResNet-18, DeiT-tiny on CIFAR-10/100"
_HLGM_T2 = tuple(paper_numbers("hlgm_table2")["rows"])  # every model and dataset row
_PET = "ResNet-18, Oxford-IIIT Pet boxes"
_add(
    Claim(
        id="hlgm_superior_accuracy",
        paper_item="HLGM Table II",
        location="HLGM §IV.C, on Table II (also the abstract: 'HLGM not only outperforms "
        "conventional training methods in accuracy')",
        quote="indicating the superior performance of our proposed HLGM solution across all "
        "models and datasets",
        quantity="final-epoch test accuracy (%); one record against the baseline (traditional "
        "training continued from HLGM's phase-1 checkpoint), one against SGT",
        a="hlgm",
        b="baseline | sgt",
        direction="greater",
        unit=" pts",
        paper_setting=_HLGM_ACC,
        paper={
            f"{s} vs {b}": _pair("hlgm_table2", "hlgm", b, row=s)
            for s in _HLGM_T2
            for b in ("baseline", "sgt")
        },
        reading=_FINAL,
        precondition=_HLGM_PHASE2,
    ),
    Claim(
        id="hlgm_gain_range",
        paper_item="HLGM Table II",
        location="HLGM §IV.C, on Figs. 2-5",
        quote="varies between 1 to 4.5% improvement in accuracy",
        quantity="final-epoch test accuracy (%), HLGM minus the baseline",
        a="hlgm",
        b="baseline",
        direction="exceeds",
        margin=1.0,
        unit=" pts",
        paper_setting=_HLGM_ACC,
        paper={s: _pair("hlgm_table2", "hlgm", "baseline", row=s) for s in _HLGM_T2},
        reading="the lower end of the stated range: HLGM's gain over the baseline exceeds 1 "
        "point (the paper's own CNN CIFAR-10 row gains 0.59); " + _FINAL,
        precondition=_HLGM_PHASE2,
    ),
    Claim(
        id="hlgm_sgt_costs_accuracy",
        paper_item="HLGM Table II",
        location="HLGM §I Introduction",
        quote="adopting saliency guided training could result in a notable reduction in accuracy",
        quantity="final-epoch test accuracy (%), SGT against the baseline",
        a="sgt",
        b="baseline",
        direction="less",
        unit=" pts",
        paper_setting=_HLGM_ACC,
        paper={s: _pair("hlgm_table2", "sgt", "baseline", row=s) for s in _HLGM_T2},
        reading="tested as 'SGT's accuracy is below the baseline's' (it contradicts SGT's own "
        "'without degrading model performance', tested beside it); " + _FINAL,
        precondition=_HLGM_PHASE2,
    ),
    Claim(
        id="hlgm_train_accuracy_dip",
        paper_item="HLGM Fig. 2",
        location="HLGM §IV.C, on Fig. 2",
        quote="there is a visible deep in the training accuracy when we start the regularized-SGT",
        quantity="training accuracy (%) of HLGM's first phase-2 (regularize) epoch against its "
        "last phase-1 epoch",
        a="first regularize epoch",
        b="last phase-1 epoch",
        direction="less",
        unit=" pts",
        paper_setting="2-layer CNN, CIFAR-10 (curves, no number)",
        precondition=_HLGM_PHASE2,
    ),
    Claim(
        id="hlgm_object_share",
        paper_item="HLGM Fig. 6",
        location="HLGM §V, Fig. 6 caption",
        quote="the HLGM method exhibits higher gradients on the main object compared to the "
        "regular and SGT methods",
        quantity="share of each image's top x % |gradient| positions on the object, mean over "
        "test images; records per x and compared arm",
        a="hlgm",
        b="baseline | sgt",
        direction="greater",
        paper_setting="CIFAR-10/100 images (maps shown, no number)",
        reading="'on the main object' measured as the share of the top positions on the object "
        "(pixels that differ from the background); against both, at every x",
        precondition=_HLGM_PHASE2,
    ),
    Claim(
        id="hlgm_sib_mean",
        paper_item="HLGM Fig. 8",
        location="HLGM §V, on Fig. 8 (left)",
        quote="the HLGM method exhibits a higher mean in the SIB box plot compared to both SGT "
        "and baseline training",
        quantity="mean SIB(x) over the test images with a box, x = 1 and 5 (the box plots)",
        a="hlgm",
        b="baseline | sgt",
        direction="greater",
        paper_setting=_PET,
        precondition=_HLGM_PHASE2,
    ),
    Claim(
        id="hlgm_sib_majority",
        paper_item="HLGM Fig. 8",
        location="HLGM §V, on Fig. 8 (right)",
        quote="in the vast majority of cases, HLGM generates higher SIB values across the images",
        quantity="share of the test images on which HLGM's SIB(x) is higher, among those where "
        "the two models' SIB differ (x = 1 and 5)",
        a="hlgm higher",
        b="half",
        direction="greater",
        paper_setting=_PET + "; 120 random test images",
        reading="'majority' tested as a share above one half (a sign test per image; ties, "
        "frequent for a discrete SIB, left out); 'vast' has no number in the paper and is "
        "not tested beyond the measured share",
        precondition=_HLGM_PHASE2,
    ),
    Claim(
        id="hlgm_sib_median",
        paper_item="HLGM Table III",
        location="HLGM §V, on Table III",
        quote="HLGM consistently achieves a higher median in the SIB distribution",
        quantity="median SIB(x) over the test images with a box, x = 0.5, 1, 2, 5, 10",
        a="hlgm",
        b="baseline | sgt",
        direction="greater",
        paper_setting=_PET,
        paper={
            f"SIB({x}) vs {b}": _pair("hlgm_table3", "hlgm", b, row=f"SIB({x})")
            for x in ("0.5", "1", "2", "5", "10")
            for b in ("baseline", "sgt")
        },
        reading="'consistently': every SIB level against both models must hold",
        precondition=_HLGM_PHASE2,
    ),
)

# ============================================================================ controls, checks
_add(
    Claim(
        id="drop_beyond_random",
        paper_item="SGT Fig. 3",
        location="our control",
        quote="(our control) the steeper drop is more than fragility to removal: each model's "
        "AUC under a random ranking minus its AUC under the saliency ranking, a minus b",
        quantity="AUC(random) - AUC(saliency method) (%), per seed",
        a="a",
        b="b",
        direction="greater",
        kind="control",
        unit=" pts",
        reading="a model that loses accuracy faster whatever pixels are removed also drops "
        "faster under its saliency ranking; only the part beyond its own random-ranking drop "
        "credits the saliency map",
    ),
    Claim(
        id="sgt_fig4_faster_drop",
        paper_item="SGT Fig. 4",
        location="our check (Fig. 4 shows the traditional model only)",
        quote="(our check) under every feature replacement the SGT model's accuracy drops "
        "faster than the traditional model's",
        quantity="AUC of the accuracy-drop curve (%) per feature replacement",
        a="sgt",
        b="traditional",
        direction="less",
        kind="check",
        unit=" pts",
        paper_setting="CNN, MNIST",
        precondition=_TRAINED,
    ),
)


def _link_parts() -> None:
    for c in list(CLAIMS.values()):
        for p in c.parts:
            if p not in CLAIMS:
                raise ValueError(f"claim {c.id}: part {p!r} is not in the catalogue")
            object.__setattr__(CLAIMS[p], "part_of", c.id)
        if c.control and c.control not in CLAIMS:
            raise ValueError(f"claim {c.id}: control {c.control!r} is not in the catalogue")


_link_parts()


# ====================================================================== SGT (language, Fig. 2C)
_TAB1_SETTING = "GloVe + bidirectional LSTM; ERASER Movie Reviews, FEVER, e-SNLI"
_TAB1_TRAINED = (
    "the traditional and the SGT models reach the stated test accuracy (mean over seeds): a "
    "model near chance has no rationale for its saliency to find"
)
_TAB1_MOVIES = (
    "saliency guided training results in a significant improvement in both comprehensiveness "
    "and sufficiently for sentiment analysis task Movie Reviews dataset"
)


def _table1(metric: str, tasks: tuple[str, ...]) -> dict[str, tuple[float, float]]:
    """``{"<task>, <saliency>": (SGT, Traditional)}`` of SGT Table 1 for ``metric``."""
    t = paper_numbers("sgt_table1")
    return {
        f"{task}, {sal}": (float(v[1]), float(v[0]))
        for task in tasks
        for sal, v in t[task][metric].items()
        if sal != "random"
    }


_add(
    Claim(
        id="sgt_tab1_movies",
        paper_item="SGT Table 1",
        location="SGT §5.2, on Table 1",
        quote=_TAB1_MOVIES,
        quantity="comprehensiveness and sufficiency AOPC (1/5/10/20/50 % of the tokens) per "
        "saliency method, Movie Reviews (setting eraser_synthetic: our offline analogue with "
        "planted evidence words, not real reviews)",
        a="sgt",
        b="traditional",
        direction="greater",
        paper_setting=_TAB1_SETTING,
        parts=("sgt_tab1_comprehensiveness_movies", "sgt_tab1_sufficiency_movies"),
        reading="'a significant improvement in both': comprehensiveness higher and sufficiency "
        "lower, for every saliency method of the table",
    ),
    Claim(
        id="sgt_tab1_comprehensiveness_movies",
        paper_item="SGT Table 1",
        location="SGT §5.2, on Table 1",
        quote=_TAB1_MOVIES,
        quantity="comprehensiveness AOPC over 1/5/10/20/50 % of the tokens (probability; "
        "higher = better)",
        a="sgt",
        b="traditional",
        direction="greater",
        paper_setting=_TAB1_SETTING,
        paper=_table1("comprehensiveness", ("movies",)),
        precondition=_TAB1_TRAINED,
    ),
    Claim(
        id="sgt_tab1_sufficiency_movies",
        paper_item="SGT Table 1",
        location="SGT §5.2, on Table 1",
        quote=_TAB1_MOVIES,
        quantity="sufficiency AOPC over 1/5/10/20/50 % of the tokens (probability; lower = better)",
        a="sgt",
        b="traditional",
        direction="less",
        paper_setting=_TAB1_SETTING,
        paper=_table1("sufficiency", ("movies",)),
        precondition=_TAB1_TRAINED,
    ),
    Claim(
        id="sgt_tab1_comprehensiveness_fever_esnli",
        paper_item="SGT Table 1",
        location="SGT §5.2, on Table 1",
        quote="for fact extraction task FEVER dataset, and natural language inference task e-SNLI "
        "dataset saliency guided training improves comprehensiveness",
        quantity="comprehensiveness AOPC over 1/5/10/20/50 % of the tokens (probability)",
        a="sgt",
        b="traditional",
        direction="greater",
        paper_setting=_TAB1_SETTING,
        paper=_table1("comprehensiveness", ("fever", "esnli")),
        precondition=_TAB1_TRAINED,
    ),
    Claim(
        id="sgt_tab1_sufficiency_fever_esnli",
        paper_item="SGT Table 1",
        location="SGT §5.2, on Table 1",
        quote="there is no obvious improvement in sufficiency",
        quantity="sufficiency AOPC over 1/5/10/20/50 % of the tokens (probability; lower = better)",
        a="sgt",
        b="traditional",
        direction="at_least",
        margin=0.05,
        paper_setting=_TAB1_SETTING,
        paper=_table1("sufficiency", ("fever", "esnli")),
        reading="'no obvious improvement' read as: SGT's sufficiency not lower than "
        "traditional's by more than 0.05 (the largest drop the paper calls no obvious "
        "improvement is 0.042, e-SNLI IG: 0.461 -> 0.419)",
        precondition=_TAB1_TRAINED,
    ),
    # Fig. 2 (C) (docs/methods.md §10): per feature, the mean over test images of the signed input
    # gradient, scaled by the largest |mean| of the model; its distribution over features.
    Claim(
        id="sgt_fig2c_concentrated",
        paper_item="SGT Fig. 2",
        location="SGT §5.1, on Fig. 2 (C)",
        quote="gradient values produced by the saliency guided training tend to be concentrated "
        "around zero",
        quantity="interquartile range of the per-feature gradient means (scaled to max |mean| 1)",
        a="sgt",
        b="traditional",
        direction="less",
        paper_setting="CNN MNIST, ResNet-18 CIFAR-10, VGG-16 BIRD (box plots, no number)",
        reading="'concentrated around zero' measured as a smaller interquartile range of the "
        "per-feature gradient means (Fig. 2 C's box plots)",
        precondition=_TRAINED,
    ),
    Claim(
        id="sgt_fig2c_separation",
        paper_item="SGT Fig. 2",
        location="SGT §5.1, on Fig. 2 (C)",
        quote="a large separation between the mean and outliers",
        quantity="median distance of the outlying features' gradient means from the mean, in "
        "interquartile ranges",
        a="sgt",
        b="traditional",
        direction="greater",
        paper_setting="CNN MNIST, ResNet-18 CIFAR-10, VGG-16 BIRD (box plots, no number)",
        reading="'a large separation' tested as larger than Traditional's",
        precondition=_TRAINED,
    ),
)
_link_parts()


def get_claim(claim_id: str) -> Claim:
    """The claim with this id; a KeyError lists the known ids."""
    try:
        return CLAIMS[claim_id]
    except KeyError:
        raise KeyError(f"unknown claim {claim_id!r}; known: {', '.join(sorted(CLAIMS))}") from None


def register_claim(claim: Claim) -> Claim:
    """Add a claim (for studies defined outside this module)."""
    _add(claim)
    _link_parts()
    return claim


def paper_claims(source: str | None = None) -> list[Claim]:
    """The papers' own claims (kind ``paper``) in catalogue order, of one paper or all."""
    return [c for c in CLAIMS.values() if c.kind == "paper" and source in (None, c.source)]
