"""The pipeline above the studies: what turns the notebooks into results.

* :mod:`.params`: a notebook's parameters cell and ``params/<profile>/<name>.yaml``, validated
  (keys, types, the run grid, data) before any work;
* :mod:`.runner`: ``reproduce`` (papermill over the notebooks of a profile into
  ``outputs/<profile>/``), output status, and the refresh of the stored nbval notebooks;
* :mod:`.cluster`: ``plan`` (the training runs a profile needs) and ``train`` (them as submitit
  jobs: local processes, Slurm, in-process);
* :mod:`.side_by_side`: ``reproduce``'s first stage, the runs with a fixed thread count
  trained in parallel local processes (cluster's machinery) before the notebooks load them.

Folders are arguments; when one is omitted, the project around the working directory
(:mod:`saliency_lib._project`) supplies it. The command line (``python -m saliency_lib``) is
the usual way in. Nothing below the pipeline imports it.
"""
