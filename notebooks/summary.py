# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Summary: every reproduced number beside the paper's
#
# Runs last. Collects what the other notebooks wrote under `outputs/<profile>/` into
# `outputs/<profile>/REPORT.md`: each paper claim marked **holds**, **does not hold** or **not
# run**, and each table with our numbers (mean [95 % interval] over seeds) beside the published
# ones.
# Nothing here is computed anew: it only reads the notebooks' `metrics.json` and tables.

# %% tags=["parameters"]
from typing import Optional

# the cpu profile's values (params/cpu/<notebook>.yaml): Run All equals it
profile: str = "cpu"  # profile of these values; outputs go to outputs/<profile>/
output_dir: Optional[str] = None  # set by the runner; None: outputs/<profile>/<notebook>/

# %%
from IPython.display import Markdown, display

from saliency_lib import report

path = report.build_report(profile)
entries = report.collect(profile)

# %%
# NBVAL_CHECK_OUTPUT
print(report.claims_table(entries)[["paper item", "verdict"]].to_string(index=False))

# %%
display(Markdown(path.read_text()))
