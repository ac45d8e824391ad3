# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Saliency-guided training in your own training loop
#
# Not a paper item: this notebook shows the package's public API (`saliency_lib.api`) on a model
# and data that none of the three papers used, in a plain PyTorch loop written here.
#
# * **Data:** scikit-learn's bundled handwritten digits (1,797 grey 8 x 8 images of the digits
#   0-9, from the UCI "Optical Recognition of Handwritten Digits" set; installed with
#   scikit-learn, no download), split into training, validation and test images (stratified).
# * **Model:** timm's ConvMixer (Trockman and Kolter, *Patches Are All You Need?*), at a small
#   size with 1 x 1 patches, so every pixel is a position of its own. The papers used a 2-layer
#   CNN, ResNet-18, DeiT-tiny and recurrent, convolutional and transformer sequence models.
# * **Methods:** traditional training, SGT (bottom 50 % of the positions masked), SMOOT (one mask
#   size per training image) and HLGM (traditional until the validation accuracy plateaus, then
#   regularize/denoise episodes), each from the same initial weights, batches and optimiser.
#
# What changes is measured three ways: accuracy on the test images, the accuracy-drop curve
# (remove the most salient pixels first, set them to the background, re-measure the accuracy; a
# lower area means the saliency map finds the pixels the model needs, docs/methods.md §4.1) and
# the saliency maps themselves. One seed: the numbers show what the API does on this model, not
# a claim about the methods (the reproduction notebooks test those with several seeds).

# %% tags=["parameters"]
from typing import Optional

# the cpu profile's values (params/cpu/<notebook>.yaml): Run All equals it
profile: str = "cpu"  # profile of these values; outputs go to outputs/<profile>/
output_dir: Optional[str] = None  # set by the runner; None: outputs/<profile>/<notebook>/
data_seed: int = 0  # seed of the stratified train / validation / test split
test_fraction: float = 0.2  # share of the 1,797 images held out for the test
val_fraction: float = 0.2  # share of the remaining images held out for validation (HLGM)
train_subset: Optional[int] = None  # use only this many training images (None: all)
convmixer: dict = {"dim": 64, "depth": 4, "kernel_size": 3, "patch_size": 1}  # timm ConvMixer
epochs: int = 30  # training epochs of every method
batch_size: int = 64  # training batch size
lr: float = 0.001  # Adam learning rate
seed: int = 0  # training seed: initial weights, batch order, masking fills
threads: int = 1  # torch CPU threads while training (its CPU seconds are core-seconds)
device: str = "cpu"  # cpu | cuda | auto (CUDA when present)
methods: dict[str, dict] = {
    "traditional": {},
    "sgt": {"k_fraction": 0.5},
    "smoot": {"alpha": 0.95, "mu": 10.0},
    "hlgm": {"patience": 3, "monitor": "test_acc", "min_delta": 0.1, "episode_size": 5},
}  # label -> create_method options (key 'method' if not the label)
levels: list[float] = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]  # accuracy-drop levels (%)
n_maps: int = 10  # test images in the saliency-map grid (one per digit)

# %%
import time

import numpy as np
import pandas as pd
import seaborn as sns
import torch
from matplotlib import pyplot as plt
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from timm.models.convmixer import ConvMixer

from saliency_lib import plots
from saliency_lib.api import accuracy, accuracy_drop_curve, attribute, auc, create_method
from saliency_lib.experiment import Experiment
from saliency_lib.seeding import get_device

exp = Experiment("own_training_loop", profile, output_dir)
exp.record("settings", data_seed=data_seed, test_fraction=test_fraction,
           val_fraction=val_fraction, train_subset=train_subset, convmixer=convmixer,
           epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, threads=threads,
           methods=methods, levels=levels, device=device)
torch.set_num_threads(threads)
dev = get_device(device)

# %% [markdown]
# ## The data: your own tensors
#
# The API takes `(B, C, H, W)` float tensors and integer labels; SMOOT also needs each training
# image's index (its mask size `K` is kept per image). Pixels are scaled to [0, 1], then
# standardised with the training images' mean and standard deviation; the background (a raw 0
# pixel) is the fill of the accuracy-drop curve.

# %%
digits = load_digits()
images = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0  # (N, 1, 8, 8)
labels = torch.tensor(digits.target, dtype=torch.int64)
rest, test_idx = train_test_split(np.arange(len(labels)), test_size=test_fraction,
                                  stratify=labels.numpy(), random_state=data_seed)
train_idx, val_idx = train_test_split(rest, test_size=val_fraction,
                                      stratify=labels.numpy()[rest], random_state=data_seed)
if train_subset is not None:
    train_idx = train_idx[:train_subset]
mean, std = images[train_idx].mean(), images[train_idx].std()
x_train, y_train = ((images[train_idx] - mean) / std).to(dev), labels[train_idx].to(dev)
x_val, y_val = (images[val_idx] - mean) / std, labels[val_idx]
x_test, y_test = (images[test_idx] - mean) / std, labels[test_idx]
background = float((0.0 - mean) / std)
print(f"{len(x_train)} training, {len(x_val)} validation, {len(x_test)} test images of shape "
      f"{tuple(x_train.shape[1:])}; background {background:.3f}")
exp.record("data", source="sklearn.datasets.load_digits (UCI optical digits, 8 x 8)",
           n_train=len(x_train), n_val=len(x_val), n_test=len(x_test), mean=float(mean),
           std=float(std))

# %% [markdown]
# ## The training loop
#
# One loop for every method: `create_method(name, num_train=..., **options)`, then per epoch
# `start_epoch()`, one `step(model, optimizer, x, y, idx)` per batch and
# `end_epoch(test_acc=...)` with the validation accuracy (HLGM ends its traditional phase when
# that stops improving; the test images are kept for the end). `state` reads what each method
# keeps: SMOOT's `K` per image, HLGM's phase.

# %%
models, histories, states, seconds = {}, {}, {}, {}
for label, options in methods.items():
    options = dict(options)
    name = options.pop("method", label)
    torch.manual_seed(seed)
    model = ConvMixer(in_chans=1, num_classes=10, **convmixer).to(dev)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    method = create_method(name, num_train=len(x_train), **options)
    order = torch.Generator().manual_seed(seed)
    history = []
    start = time.process_time()
    for _ in range(epochs):
        method.start_epoch()
        model.train()
        for idx in torch.randperm(len(x_train), generator=order).to(dev).split(batch_size):
            method.step(model, optimizer, x_train[idx], y_train[idx], idx)
        history.append(method.end_epoch(test_acc=accuracy(model, (x_val, y_val))))
    seconds[label] = time.process_time() - start
    models[label], histories[label], states[label] = model.eval(), history, method.state
    print(f"{label}: {seconds[label]:.0f} CPU s, validation accuracy "
          f"{history[-1]['test_acc']:.1f} %, phase {method.state.phase}")
print(f"training: {sum(seconds.values()) / 60:.1f} core-minutes in all ({threads} thread(s))")
exp.record("timing", cpu_seconds=seconds, threads=threads)

# %% [markdown]
# ## Accuracy per epoch
#
# Validation accuracy after every epoch; HLGM's phase-2 epochs are marked `R` (regularize: top
# positions masked) and `D` (denoise: bottom positions masked). HLGM's first phase is
# traditional training from the same weights and batches, so its curve lies on the traditional
# one until the plateau.

# %%
per_epoch = pd.concat([pd.DataFrame(h).assign(training=label) for label, h in histories.items()],
                      ignore_index=True)
fig, ax = plt.subplots(figsize=(7, 3.6), layout="constrained")
sns.lineplot(per_epoch, x="epoch", y="test_acc", hue="training", style="training", ax=ax)
hlgm_rows = per_epoch[per_epoch["phase"].isin(["regularize", "denoise"])]
for _, row in hlgm_rows.iterrows():
    ax.annotate(row["phase"][0].upper(), (row["epoch"], row["test_acc"]), fontsize=7,
                ha="center", va="bottom")
ax.set_ylabel("validation accuracy (%)")
ax.grid(alpha=0.3)
exp.show_figure(fig, "accuracy_per_epoch",
                "Validation accuracy per epoch of each method (ConvMixer, digits)",
                in_report=False);

# %% [markdown]
# ## Accuracy-drop curves
#
# For every test image the pixels are ranked by |gradient| of the true class's log-probability
# (`attribute(..., "grad")`), the top x % are set to the background and the accuracy is measured
# again (`accuracy_drop_curve`, docs/methods.md §4.1). A faster drop (lower AUC) means the map
# ranks first the pixels the model relies on.

# %%
curves = pd.concat([accuracy_drop_curve(model, (x_test, y_test), method="grad", levels=levels,
                                        value=background, progress=False).assign(training=label)
                    for label, model in models.items()], ignore_index=True)
fig = plots.plot_accuracy_drop(curves, hue="training",
                               title="Accuracy drop on the test digits (grad, background fill)")
exp.show_figure(fig, "accuracy_drop", "Accuracy-drop curves of the four ConvMixer models",
                in_report=False);

# %% [markdown]
# ## Saliency maps
#
# One test image per digit, then each model's |gradient| map (each scaled to its own maximum).

# %%
shown = torch.tensor([int((y_test == digit).nonzero()[0]) for digit in range(n_maps)])
maps = {label: attribute(model, x_test[shown].to(dev), y_test[shown].to(dev), "grad", abs=True)
        for label, model in models.items()}
fig = plots.plot_saliency_grid(x_test[shown], maps, titles=[str(int(d)) for d in y_test[shown]])
exp.show_figure(fig, "saliency_maps", "Saliency maps of the four ConvMixer models",
                in_report=False);

# %% [markdown]
# ## SMOOT's mask sizes
#
# SMOOT starts every image at 50 % of its 64 positions and moves each image's `K` after every
# step on it (SMOOT Alg. 2, docs/methods.md §3.5), within 20-80 %.

# %%
smoot_labels = [label for label, s in states.items() if s.per_sample_k is not None]
for label in smoot_labels:
    fig = plots.plot_k_histogram(states[label].per_sample_k, n_positions=64)
    exp.show_figure(fig, f"k_histogram_{label}", f"{label}: final K per training image",
                    in_report=False);

# %% [markdown]
# ## What changed
#
# Test accuracy after the last epoch, the area under the accuracy-drop curve (lower: the map
# finds what the model needs), the masked positions (SMOOT: over its training images) and HLGM's
# last phase-1 epoch; then each method's change against traditional training. One seed: a
# difference of a point or two may well change sign with another seed.

# %%
summary = pd.DataFrame([
    {"training": label,
     "test accuracy (%)": accuracy(models[label], (x_test, y_test)),
     "best validation accuracy (%)": max(h["test_acc"] for h in histories[label]),
     "AUC (grad)": auc(curves[curves["training"] == label]),
     "K min": states[label].k_min, "K median": states[label].k_median,
     "K max": states[label].k_max, "last phase": states[label].phase,
     "HLGM plateau epoch": states[label].plateau_epoch}
    for label in models])
exp.show_table(summary, "summary", "Traditional, SGT, SMOOT and HLGM on ConvMixer and digits",
               in_report=False);
exp.record("results", summary=summary, per_epoch=per_epoch, curves=curves)

# %%
# NBVAL_CHECK_OUTPUT
print(summary.round(2).to_string(index=False))
base = summary.set_index("training").loc["traditional"] if "traditional" in models else None
for _, row in summary[summary["training"] != "traditional"].iterrows() if base is not None else []:
    print(f"{row['training']} vs traditional: test accuracy "
          f"{row['test accuracy (%)'] - base['test accuracy (%)']:+.2f} points, AUC "
          f"{row['AUC (grad)'] - base['AUC (grad)']:+.2f} (negative: a faster drop)")
exp.write_metrics();
