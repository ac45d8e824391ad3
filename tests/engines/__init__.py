"""Real engines for the tests: a one-node Slurm cluster (:mod:`.slurm_cluster`) and headless
Chromium driven by Selenium (:mod:`.browser`), each installed from Debian's packages when missing
(as root) and otherwise skipped with one line saying what to install."""
