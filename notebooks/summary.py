# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Summary: what the evidence says about each paper
#
# Runs last. Collects what the other notebooks wrote under `outputs/<profile>/` into
# `outputs/<profile>/REPORT.md`: first, per paper, one row per claim the paper makes about a figure
# or table of its own (quoted in its words, conjunctions such as "regardless of the saliency
# method" decided as one), with the paper's number or direction, ours with its paired interval,
# the verdict (and after Holm's adjustment for the number of claims tested), the control beside
# it, and a forest plot; then how to read the verdicts, what was changed after seeing results,
# every claim record, and each notebook's tables beside the papers'.
# Nothing here is measured anew: the verdicts come from the notebooks' `metrics.json`; this
# notebook only combines them (conjunctions, Holm) and draws them.

# %% tags=["parameters"]
from typing import Optional

# the cpu profile's values (params/cpu/<notebook>.yaml): Run All equals it
profile: str = "cpu"  # profile of these values; outputs go to outputs/<profile>/
output_dir: Optional[str] = None  # set by the runner; None: outputs/<profile>/<notebook>/

# %%
from IPython.display import Markdown, display

from saliency_lib import plots, report
from saliency_lib.claims import summary
from saliency_lib.experiment import Experiment

exp = Experiment("summary", profile, output_dir)
records = report.all_records(report.collect(profile))

# %% [markdown]
# ## Forest plots, one per paper
#
# Every record of a paper's claims: the paired effect a - b with its 95 % interval, coloured by
# verdict; the claim's boundary (dashed) and the paper's own effect (open diamond) where it has
# one. Each row has its own scale: the claims' units differ.

# %%
forest = {}
for paper in summary.PAPERS:
    points = summary.forest_points(records, paper)
    fig = plots.plot_forest(points, f"{paper}: the paper's claims as tested here")
    forest[paper] = exp.show_figure(fig, f"forest_{paper.lower()}",
                                    f"{paper}: forest plot of its claims", in_report=False)

# %%
# NBVAL_CHECK_OUTPUT
for row in summary.summary_rows(records):
    print(f"{row['source']:5} {row['paper_item']:20} {row['verdict']:18} {row['claim_id']}")

# %%
path = report.build_report(profile, forest=forest)
exp.write_metrics()
display(Markdown(report.rebase_links(path.read_text(), "..")))  # the HTML is one folder down
