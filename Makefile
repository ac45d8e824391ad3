# Two entry points, each sets itself up: `make reproduce` and `make test`.
PY      ?= python3
VENV    ?= .venv
VPY     := $(VENV)/bin/python
PROFILE ?= cpu
STAMP   := $(VENV)/.installed

.PHONY: reproduce test unit lint format venv clean-venv nbval-refresh notebooks

$(STAMP): pyproject.toml
	test -x $(VPY) || $(PY) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q -e '.[test]'
	$(VPY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

venv: $(STAMP)

reproduce: $(STAMP)
	$(VPY) -m saliency_lib reproduce --profile $(PROFILE)

test: $(STAMP)
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
