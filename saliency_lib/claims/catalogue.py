"""Every claim of the three papers that the package tests, as data.

A :class:`Claim` names the paper item, the paper's wording (a short quote, or a paraphrase marked
as such), the quantity compared between two arms, the direction or margin, the paper's own
numbers and setting, and the precondition under which a test at our scale means something. The
notebooks measure; :func:`saliency_lib.claims.evaluate` decides with the rules of
:mod:`.verdicts` (docs/methods.md, "Claims and verdicts").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .verdicts import DIRECTIONS


@dataclass(frozen=True)
class Claim:
    id: str
    paper_item: str
    quote: str  # the paper's words (short); "(paraphrase)" where the paper has none to quote
    quantity: str  # what is compared, per seed, with its unit
    a: str  # the arm the claim is about ...
    b: str  # ... compared with this one
    direction: str  # greater | less | at_least | at_most | equivalent (a versus b)
    margin: float = 0.0  # non-inferiority / equivalence margin, in the quantity's unit
    unit: str = ""
    paper_setting: str = ""  # the paper's model and data
    paper: Mapping[str, tuple[float, float]] = field(default_factory=dict)  # setting -> (a, b)
    precondition: str = ""  # in words; the notebook measures it, :func:`evaluate` checks it
    needs_paper_data: bool = False  # an absolute number: not testable on other data

    def __post_init__(self):
        if self.direction not in DIRECTIONS:
            raise ValueError(f"claim {self.id}: direction must be one of {DIRECTIONS}")

    @property
    def rule(self) -> str:
        """The test in words."""
        a, b, m = self.a, self.b, f"{self.margin:g}{self.unit}"
        return {
            "greater": f"{a} > {b}: paired interval of {a} - {b} above 0",
            "less": f"{a} < {b}: paired interval of {a} - {b} below 0",
            "at_least": f"{a} at least {b} - {m}: interval of {a} - {b} above -{m}",
            "at_most": f"{a} at most {b} + {m}: interval of {a} - {b} below +{m}",
            "equivalent": f"{a} ~ {b}: interval of {a} - {b} within +-{m}",
        }[self.direction]


ACCURACY_MARGIN = 1.0  # accuracy points: "comparable accuracy" (non-inferiority margin)
RANDOM_AUC_MARGIN = 3.0  # AUC points: two models' random-ranking curves are "the same"

_K_SPREAD = (
    "SMOOT's K spread (max - min of the final K) reached at least half of the paper's spread "
    "for that dataset (MNIST 310, Fashion-MNIST 353 positions); otherwise SMOOT is SGT by "
    "construction at this scale"
)
_TRAINED = "the Traditional model is trained to the accuracy the claim needs (stated threshold)"
_HLGM_PHASE2 = "every HLGM seed left phase 1 and ran at least 4 phase-2 episodes"

CLAIMS: dict[str, Claim] = {}


def _add(*claims: Claim) -> None:
    for c in claims:
        if c.id in CLAIMS:
            raise ValueError(f"duplicate claim id {c.id}")
        CLAIMS[c.id] = c


# --------------------------------------------------------------------------- SMOOT
_add(
    Claim(
        id="smoot_auc_below_sgt",
        paper_item="SMOOT Tables II-III",
        quote="A lower AUC signifies superior saliency performance",
        quantity="AUC of the accuracy-drop curve, Grad saliency (%)",
        a="smoot",
        b="sgt",
        direction="less",
        unit=" pts",
        paper_setting="2-layer CNN, MNIST and Fashion-MNIST, 100 epochs",
        paper={"mnist": (33.16, 34.67), "fashion_mnist": (36.18, 39.91)},
        precondition=_K_SPREAD,
    ),
    Claim(
        id="sgt_auc_below_traditional",
        paper_item="SMOOT Tables II-III",
        quote="SGT shows a more rapid decline compared to traditional",
        quantity="AUC of the accuracy-drop curve, Grad saliency (%)",
        a="sgt",
        b="traditional",
        direction="less",
        unit=" pts",
        paper_setting="2-layer CNN, MNIST and Fashion-MNIST, 100 epochs",
        paper={"mnist": (34.67, 36.35), "fashion_mnist": (39.91, 40.79)},
        precondition=_TRAINED,
    ),
    Claim(
        id="smoot_accuracy_comparable",
        paper_item="SMOOT Tables II-III",
        quote="(paraphrase) SMOOT keeps the accuracy of traditional training (99.40 = 99.40)",
        quantity="final test accuracy (%)",
        a="smoot",
        b="traditional",
        direction="at_least",
        margin=ACCURACY_MARGIN,
        unit=" pts",
        paper_setting="2-layer CNN, MNIST and Fashion-MNIST, 100 epochs",
        paper={"mnist": (99.40, 99.40), "fashion_mnist": (93.65, 93.60)},
        precondition=_TRAINED,
    ),
    Claim(
        id="smoot_k_mechanism",
        paper_item="SMOOT Tables II-III",
        quote="(paraphrase) SMOOT adjusts the number of masked pixels per image: K spreads "
        "from 223-234 to 544-576 positions",
        quantity="spread of the final K, max - min (positions), SMOOT minus its null drift run",
        a="smoot",
        b="smoot_null",
        direction="greater",
        unit=" positions",
        paper_setting="2-layer CNN, MNIST and Fashion-MNIST, 100 epochs",
        paper={"mnist": (310.0, 0.0), "fashion_mnist": (353.0, 0.0)},
    ),
    Claim(
        id="smoot_sparser_maps",
        paper_item="SMOOT Fig. 2",
        quote="(paraphrase) SMOOT's saliency maps are sharper than SGT's and traditional ones",
        quantity="Gini index of |saliency| per test image, mean over images",
        a="smoot",
        b="traditional",
        direction="greater",
        paper_setting="2-layer CNN, MNIST and Fashion-MNIST (maps shown, no number)",
    ),
    Claim(
        id="sgt_sparser_maps",
        paper_item="SGT Fig. 2",
        quote="leads to a reduction in visual saliency noise and sparser saliency maps",
        quantity="Gini index of |saliency| per test image, mean over images",
        a="sgt",
        b="traditional",
        direction="greater",
        paper_setting="CNN, MNIST (maps shown, no number)",
    ),
    Claim(
        id="smoot_best_accuracy_caltech",
        paper_item="SMOOT Table IV",
        quote="(paraphrase) SMOOT has the highest accuracy, then SGT, then Traditional",
        quantity="final test accuracy (%)",
        a="smoot",
        b="sgt",
        direction="greater",
        unit=" pts",
        paper_setting="ResNet-18 (ImageNet-pretrained), Caltech-101",
        paper={"caltech101": (95.10, 94.50)},
    ),
    Claim(
        id="smoot_best_accuracy_cifar",
        paper_item="SMOOT Tables V-VI",
        quote="(paraphrase) SMOOT has the highest accuracy, then SGT, then Traditional",
        quantity="final test accuracy (%)",
        a="smoot",
        b="sgt",
        direction="greater",
        unit=" pts",
        paper_setting="DeiT-tiny (pretrained), CIFAR-10/100",
        paper={"cifar10": (96.35, 96.05), "cifar100": (79.65, 78.10)},
    ),
)

# --------------------------------------------------------------------------- HLGM
for _b, _name in (("baseline", "the baseline (traditional continuation)"), ("sgt", "SGT")):
    _add(
        Claim(
            id=f"hlgm_accuracy_above_{_b}",
            paper_item="HLGM Table II",
            quote="HLGM not only outperforms conventional training methods in accuracy",
            quantity="best-epoch test accuracy (%)",
            a="hlgm",
            b=_b,
            direction="greater",
            unit=" pts",
            paper_setting="2-layer CNN, ResNet-18, DeiT-tiny on CIFAR-10/100",
            paper={
                "cnn2_cifar10": (74.72, {"baseline": 74.13, "sgt": 73.34}[_b]),
                "cnn2_cifar100": (49.87, {"baseline": 46.51, "sgt": 45.36}[_b]),
            },
            precondition=_HLGM_PHASE2,
        ),
        Claim(
            id=f"hlgm_object_share_above_{_b}",
            paper_item="HLGM Fig. 6",
            quote="(paraphrase) HLGM's gradients lie on the main object more than the others'",
            quantity="share of the top |gradient| positions inside the object box",
            a="hlgm",
            b=_b,
            direction="greater",
            paper_setting="CIFAR images (maps shown, no number)",
            precondition=_HLGM_PHASE2,
        ),
        Claim(
            id=f"hlgm_sib_above_{_b}",
            paper_item="HLGM Table III",
            quote="in the vast majority of cases, HLGM generates higher SIB values",
            quantity="median SIB(x) over test images with a box",
            a="hlgm",
            b=_b,
            direction="greater",
            paper_setting="ResNet-18, Oxford-IIIT Pet boxes",
            paper={
                "SIB(1)": (0.59, {"baseline": 0.55, "sgt": 0.57}[_b]),
                "SIB(5)": (0.50, {"baseline": 0.45, "sgt": 0.47}[_b]),
            },
            precondition=_HLGM_PHASE2,
        ),
    )

# --------------------------------------------------------------------------- SGT (images)
_add(
    Claim(
        id="sgt_fig3_faster_drop",
        paper_item="SGT Fig. 3",
        quote="(paraphrase) removing salient features drops the SGT model's accuracy faster, "
        "regardless of the saliency method",
        quantity="AUC of the accuracy-drop curve (%) per saliency method",
        a="sgt",
        b="traditional",
        direction="less",
        unit=" pts",
        paper_setting="CNN, MNIST, 100 epochs",
        precondition=_TRAINED,
    ),
    Claim(
        id="sgt_fig3_random_same",
        paper_item="SGT Fig. 3",
        quote="(paraphrase) a random ranking drops both models' accuracy alike",
        quantity="AUC of the accuracy-drop curve (%), random ranking",
        a="sgt",
        b="traditional",
        direction="equivalent",
        margin=RANDOM_AUC_MARGIN,
        unit=" pts",
        paper_setting="CNN, MNIST, 100 epochs",
    ),
    Claim(
        id="sgt_fig3_beyond_random",
        paper_item="SGT Fig. 3",
        quote="(our check, not in the paper) the faster drop is not mere fragility to removal",
        quantity="AUC(random ranking) - AUC(saliency method) (%), per saliency method",
        a="sgt",
        b="traditional",
        direction="greater",
        unit=" pts",
        paper_setting="CNN, MNIST, 100 epochs",
        precondition=_TRAINED,
    ),
    Claim(
        id="sgt_fig4_faster_drop",
        paper_item="SGT Fig. 4",
        quote="(our comparison; Fig. 4 shows the traditional model only)",
        quantity="AUC of the accuracy-drop curve (%) per feature replacement",
        a="sgt",
        b="traditional",
        direction="less",
        unit=" pts",
        paper_setting="CNN, MNIST",
        precondition=_TRAINED,
    ),
    Claim(
        id="sgt_fig4_replacement_differs",
        paper_item="SGT Fig. 4",
        quote="(paraphrase) OOD (mean) and ROAR curves do not resemble the IID (background) curve",
        quantity="mean |accuracy gap| to the background curve over the levels (points), "
        "traditional model",
        a="replacement",
        b="tolerance",
        direction="greater",
        unit=" pts",
        paper_setting="CNN, MNIST",
    ),
    Claim(
        id="smoot_class_ii_share",
        paper_item="SMOOT Fig. 1",
        quote="16% of test images in our specific experiment",
        quantity="share of test images whose true-class probability rises when top-gradient "
        "pixels are masked (class II)",
        a="ours",
        b="paper",
        direction="equivalent",
        margin=0.05,
        paper_setting="2-layer CNN, CIFAR-10",
        paper={"cifar10": (0.16, 0.16)},
        needs_paper_data=True,
    ),
)


# --------------------------------------------------------------------------- SGT (time series)
# Each is tested on one per-seed value whose claimed sign is positive (a margin or a difference),
# compared with 0.
_add(
    Claim(
        id="sgt_tab2_tcn_ig_best",
        paper_item="SGT Table 2",
        quote="(paraphrase) under SGT, TCN with Integrated Gradients is the best "
        "(architecture, saliency) pair",
        quantity="per seed, Diff of (TCN, IG) under SGT minus Diff of the best other SGT pair",
        a="(TCN, IG) margin",
        b="0",
        direction="greater",
        paper_setting="LSTM, LSTM+attention, TCN, Transformer; 10 synthetic datasets",
    ),
    Claim(
        id="sgt_tab2_sgt_raises_diff",
        paper_item="SGT Table 2",
        quote="(paraphrase) saliency guided training raises Diff(AUP) and Diff(AUR)",
        quantity="per seed, SGT - Traditional Diff, mean over the saliency methods where the "
        "paper's Table 2 shows a rise",
        a="SGT - Trad",
        b="0",
        direction="greater",
        paper_setting="LSTM, LSTM+attention, TCN, Transformer; 10 synthetic datasets",
    ),
    Claim(
        id="sgt_fig6_trad_time_bias",
        paper_item="SGT Fig. 6",
        quote="AUP and AUR increase as informative features move to later time steps",
        quantity="per seed, AUP/AUR of the traditional LSTM with the box late minus early",
        a="late - early",
        b="0",
        direction="greater",
        paper_setting="LSTM; three synthetic datasets, box early / middle / late",
        precondition="at least 3 seeds whose every model reaches the accuracy gate (a model at "
        "chance has no meaningful saliency)",
    ),
    Claim(
        id="sgt_fig6_sgt_shrinks_bias",
        paper_item="SGT Fig. 6",
        quote="LSTM was able to identify informative features regardless of their locations "
        "in time",
        quantity="per seed, time bias (late - early) of the traditional LSTM minus the SGT LSTM's",
        a="bias(Trad) - bias(SGT)",
        b="0",
        direction="greater",
        paper_setting="LSTM; three synthetic datasets, box early / middle / late",
        precondition="at least 3 seeds whose every model reaches the accuracy gate",
    ),
)


def get_claim(claim_id: str) -> Claim:
    """The claim with this id; a KeyError lists the known ids."""
    try:
        return CLAIMS[claim_id]
    except KeyError:
        raise KeyError(f"unknown claim {claim_id!r}; known: {', '.join(sorted(CLAIMS))}") from None


def register_claim(claim: Claim) -> Claim:
    """Add a claim (for studies defined outside this module, e.g. the time-series benchmark)."""
    _add(claim)
    return claim


# ---- SGT (language, Fig. 2 B/C): added by the text study
# Table 1 (ERASER AOPC, docs/methods.md §9): per saliency method (Gradient, IG, SmoothGrad), SGT
# vs traditional, paired by seed. "No obvious improvement in sufficiency" is read as: SGT's
# sufficiency is not lower than traditional's by more than 0.05 (the largest drop the paper calls
# no obvious improvement is 0.042, e-SNLI IG: 0.461 -> 0.419).
_TAB1_SETTING = "GloVe + bidirectional LSTM; ERASER Movie Reviews, FEVER, e-SNLI"
_TAB1_TRAINED = "the traditional and SGT models reach the stated test accuracy (mean over seeds)"
_TAB1_MOVIES = (
    "saliency guided training results in a significant improvement in both comprehensiveness "
    "and sufficiently for sentiment analysis task Movie Reviews dataset"
)
_add(
    Claim(
        id="sgt_tab1_comprehensiveness_movies",
        paper_item="SGT Table 1",
        quote=_TAB1_MOVIES,
        quantity="comprehensiveness AOPC over 1/5/10/20/50 % of the tokens (probability)",
        a="sgt",
        b="traditional",
        direction="greater",
        paper_setting=_TAB1_SETTING,
        paper={
            "movies, grad": (0.240, 0.200),
            "movies, ig": (0.306, 0.265),
            "movies, smoothgrad": (0.256, 0.198),
        },
        precondition=_TAB1_TRAINED,
    ),
    Claim(
        id="sgt_tab1_sufficiency_movies",
        paper_item="SGT Table 1",
        quote=_TAB1_MOVIES,
        quantity="sufficiency AOPC over 1/5/10/20/50 % of the tokens (probability; lower = better)",
        a="sgt",
        b="traditional",
        direction="less",
        paper_setting=_TAB1_SETTING,
        paper={
            "movies, grad": (0.013, 0.042),
            "movies, ig": (0.002, 0.054),
            "movies, smoothgrad": (0.008, 0.034),
        },
        precondition=_TAB1_TRAINED,
    ),
    Claim(
        id="sgt_tab1_comprehensiveness_fever_esnli",
        paper_item="SGT Table 1",
        quote="for fact extraction task FEVER dataset, and natural language inference task e-SNLI "
        "dataset saliency guided training improves comprehensiveness",
        quantity="comprehensiveness AOPC over 1/5/10/20/50 % of the tokens (probability)",
        a="sgt",
        b="traditional",
        direction="greater",
        paper_setting=_TAB1_SETTING,
        paper={
            "fever, grad": (0.008, 0.007),
            "fever, ig": (0.009, 0.008),
            "fever, smoothgrad": (0.008, 0.007),
            "esnli, grad": (0.126, 0.117),
            "esnli, ig": (0.104, 0.099),
            "esnli, smoothgrad": (0.118, 0.117),
        },
        precondition=_TAB1_TRAINED,
    ),
    Claim(
        id="sgt_tab1_sufficiency_fever_esnli",
        paper_item="SGT Table 1",
        quote="there is no obvious improvement in sufficiency",
        quantity="sufficiency AOPC over 1/5/10/20/50 % of the tokens (probability; lower = better)",
        a="sgt",
        b="traditional",
        direction="at_least",
        margin=0.05,
        paper_setting=_TAB1_SETTING,
        paper={
            "fever, grad": (0.011, 0.012),
            "fever, ig": (0.004, 0.005),
            "fever, smoothgrad": (0.006, 0.006),
            "esnli, grad": (0.387, 0.420),
            "esnli, ig": (0.419, 0.461),
            "esnli, smoothgrad": (0.455, 0.476),
        },
        precondition=_TAB1_TRAINED,
    ),
    # Fig. 2 (C) (docs/methods.md §10): per feature, the mean over test images of the signed input
    # gradient, scaled by the largest |mean| of the model; its distribution over features.
    Claim(
        id="sgt_fig2c_concentrated",
        paper_item="SGT Fig. 2 (C)",
        quote="gradient values produced by the saliency guided training tend to be concentrated "
        "around zero",
        quantity="interquartile range of the per-feature gradient means (scaled to max |mean| 1)",
        a="sgt",
        b="traditional",
        direction="less",
        paper_setting="CNN MNIST, ResNet-18 CIFAR-10, VGG-16 BIRD (box plots, no number)",
        precondition=_TRAINED,
    ),
    Claim(
        id="sgt_fig2c_separation",
        paper_item="SGT Fig. 2 (C)",
        quote="a large separation between the mean and outliers",
        quantity="median distance of the outlying features' gradient means from the mean, in "
        "interquartile ranges",
        a="sgt",
        b="traditional",
        direction="greater",
        paper_setting="CNN MNIST, ResNet-18 CIFAR-10, VGG-16 BIRD (box plots, no number)",
        precondition=_TRAINED,
    ),
)
