# The two commands of the README: `make book` and `make test`. Each creates .venv when missing.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# JupyterLab reads settings overrides from <sys.prefix>/share/jupyter/lab/settings: this one opens
# notebooks/*.py (jupytext percent format) as notebooks, for `make lab` and `.venv/bin/jupyter lab`
LAB_OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.json

.PHONY: book test check-html lab bench lint format clean install

install: $(STAMP)

$(STAMP): requirements.txt requirements-nodeps.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -r requirements.txt
	$(BIN)/python -m pip install --no-deps -r requirements-nodeps.txt
	$(BIN)/python -m pip install --no-deps --no-build-isolation -e .
	mkdir -p $(dir $(LAB_OVERRIDES))
	printf '%s\n' '{"@jupyterlab/docmanager-extension:plugin": {"defaultViewers": {"python": "Jupytext Notebook"}}}' \
		> $(LAB_OVERRIDES)
	touch $(STAMP)

## Run every chapter with papermill (real data when MSA_DATA_DIR is set) and build book/_build/html;
## BOOK_JOBS chapters at once, each in its own process (the book's last page shows the times)
BOOK_JOBS ?= 2
book: $(STAMP)
	$(BIN)/msa book --jobs $(BOOK_JOBS)

## Run the tests: one process per core (at most 4), one thread each, a test file's tests in one
## process (a module's fixtures, such as the local Ray instance, start once); the 20 slowest are
## listed at the end (tests/README.md says why each is slow)
test: $(STAMP)
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \
		$(BIN)/python -m pytest -q -n auto --maxprocesses 4 --dist loadfile --durations=20

## Open every page of the built book in headless Chromium (after `make book`): no CDN, no JS error
check-html: $(STAMP)
	MSA_REQUIRE_BROWSER=1 $(BIN)/python -m pytest -q -p no:cacheprovider tests/book/test_html.py

## JupyterLab with notebooks/*.py opening as notebooks (jupytext; the override is installed by `make install`)
lab: $(STAMP)
	cd notebooks && ../$(BIN)/jupyter lab

## Speed and memory benchmarks (results under benchmarks/results and book/results)
bench: $(STAMP)
	for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf book/_build book/*.ipynb book/results book/_vendor book/_findings.md book/_build_times.md
