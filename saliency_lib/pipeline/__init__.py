"""The pipeline above the studies: what turns the params files and notebooks into results.

From a params file to a trained run and an executed notebook, each module importing only the
ones listed before it:

* :mod:`.params`: a notebook's parameters cell and ``params/<profile>/<name>.yaml``, validated
  (keys, types, ranges, the run grid, data) before any work;
* :mod:`.jobs`: which notebooks run (``--only``) and their validated parameters
  (``prepare_jobs`` -> ``NotebookJob``), with the run grid each one trains;
* :mod:`.plan`: the training runs the jobs need, once each, and what the run store holds
  (the ``plan`` command);
* :mod:`.executors`: the missing runs trained as submitit jobs: local processes, Slurm, in
  this process (the ``train`` command);
* :mod:`.side_by_side`: ``reproduce``'s first stage, the runs with a fixed thread count trained
  in parallel local processes before the notebooks load them;
* :mod:`.runner`: ``reproduce`` (papermill over the notebooks of a profile into
  ``outputs/<profile>/``), output status, and the refresh of the stored nbval notebooks.

Folders are arguments; when one is omitted, the project around the working directory
(:mod:`saliency_lib._project`) supplies it. The command line (``python -m saliency_lib``) is
the usual way in. Nothing below the pipeline imports it.
"""
