# Two entry points, each sets itself up: `make reproduce` and `make test`. Set-up, in order:
# Fashion-MNIST (saliency_lib/setup_data.py, standard library only: apt-get as root, else
# download, else one message saying how to get it), then .venv from the lock file.
PY      ?= python3
VENV    ?= .venv
VPY     := $(VENV)/bin/python
PROFILE ?= cpu
STAMP   := $(VENV)/.installed
LOCK    := requirements.lock
# options of saliency_lib/setup_data.py (--help), e.g. DATA_ARGS=--no-download
DATA_ARGS ?=

.PHONY: reproduce test unit lint format venv clean-venv nbval-refresh notebooks data lab lock \
	lab-profile engines

data:
	$(PY) saliency_lib/setup_data.py $(DATA_ARGS)

# The exact versions the tests passed with (requirements.lock); pyproject.toml keeps the ranges.
$(STAMP): pyproject.toml $(LOCK) | data
	test -x $(VPY) || $(PY) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q -r $(LOCK)
	$(VPY) -m pip install -q --no-deps -e .
	$(VPY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

# Regenerate the lock file from .venv after installing the ranges of pyproject.toml into it; torch's
# CUDA wheels (Linux only) are marked so that the lock installs elsewhere too.
lock:
	test -x $(VPY) || $(PY) -m venv $(VENV)
	$(VPY) -m pip install -q -e '.[test,lab]'
	{ echo "# make lock: .venv's pip freeze --all (but pip); installed by make test, make reproduce"; \
	  $(VPY) -m pip freeze --all --exclude-editable | grep -v '^pip==' \
	  | sed -E '/^(nvidia-|cuda-|triton==)/s/$$/ ; platform_system == "Linux"/'; } > $(LOCK)

# JupyterLab on notebooks/ with the project's kernel (the .venv's python3 kernel); LAB_ARGS are
# JupyterLab's options (default: --allow-root when run as root, e.g. in a container).
LAB_ARGS ?= $(if $(filter 0,$(shell id -u)),--allow-root)
lab: $(STAMP)
	$(VPY) -m pip install -q -c $(LOCK) -e '.[lab]'
	$(VPY) -m jupyter lab $(LAB_ARGS) notebooks

# JupyterLab on the notebooks with a profile's parameters injected, not executed (papermill's
# prepare-only mode, scripts/lab_notebooks.py): `make lab-profile PROFILE=smoke` writes them to
# LAB_DIR and opens JupyterLab there; Run All is then that profile's run (seconds for smoke),
# writing to outputs/<profile>/<notebook>/.
LAB_DIR ?= outputs/lab/$(PROFILE)
lab-profile: $(STAMP)
	$(VPY) -m pip install -q -c $(LOCK) -e '.[lab]'
	$(VPY) scripts/lab_notebooks.py --profile $(PROFILE) --out $(LAB_DIR)
	$(VPY) -m jupyter lab $(LAB_ARGS) $(LAB_DIR)

# The tests' real engines (as root: Debian's Slurm, MUNGE, MariaDB, Chromium and ChromeDriver;
# tests/test_slurm_real.py and tests/test_browser.py install them when missing, else skip).
engines:
	$(PY) tests/engines/slurm_cluster.py install
	$(PY) tests/engines/browser.py install

venv: $(STAMP)

reproduce: data $(STAMP)
	$(VPY) -m saliency_lib reproduce --profile $(PROFILE)

test: data $(STAMP)
	$(VPY) -m ruff check .
	$(VPY) -m pytest -q

# Re-run the smoke profile and store the executed notebooks in tests/nbval/ (checked by nbval).
nbval-refresh: $(STAMP)
	$(VPY) -m saliency_lib refresh-nbval

# notebooks/<name>.py (jupytext percent format) is the source of notebooks/<name>.ipynb: write the
# newer of each pair into the other (tests/test_notebook_sources.py fails while a pair differs).
notebooks: $(STAMP)
	$(VPY) -m jupytext --sync notebooks/*.py

unit: $(STAMP)
	$(VPY) -m pytest -q -m "not slow" --ignore=tests/test_notebooks.py

lint: $(STAMP)
	$(VPY) -m ruff check . && $(VPY) -m ruff format --check .

format: $(STAMP)
	$(VPY) -m ruff format . && $(VPY) -m ruff check --fix .

clean-venv:
	rm -rf $(VENV)

.PHONY: docs dist

# The API reference from the docstrings of saliency_lib/api.py (pdoc): docs/api/html/index.html.
# tests/test_api_docs.py builds it too, with every warning an error (so CI builds it).
docs: $(STAMP)
	$(VPY) docs/api/make_reference.py

# The wheel and the sdist in dist/ (no download: the build backend of .venv;
# tests/test_wheel.py installs the wheel into a clean virtual environment).
dist: $(STAMP)
	$(VPY) -m build --no-isolation --outdir dist .
