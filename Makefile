# Two entry points: `make demo` (install + run the main job) and `make test` (install + run the tests).
VENV ?= .venv
PY := $(VENV)/bin/python
# torch first: the pinned CPU build. Elsewhere, e.g. TORCH_SPEC="torch --index-url https://download.pytorch.org/whl/cu124".
TORCH_SPEC ?= torch==2.13.0
# Local data and NLTK resources when this project's shared folder is beside the checkout.
export INFOBENCH_DATA ?= $(abspath $(wildcard ../shared/data))
export NLTK_DATA ?= $(abspath $(wildcard ../shared/nltk_data))
export HF_HUB_OFFLINE ?= $(if $(INFOBENCH_DATA),1,0)
export TOKENIZERS_PARALLELISM ?= false

.PHONY: setup test demo clean
setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q "$(TORCH_SPEC)"
	$(PY) -m pip install -q -c constraints.txt -e ".[test]"
	touch $@

# Extra pytest arguments, e.g. PYTEST_ARGS="-m 'not slow'" to skip the long kill/resume checks.
PYTEST_ARGS ?=
test: setup
	$(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS) tests

demo: setup
	bash scripts/demo.sh

clean:
	rm -rf $(VENV) build *.egg-info
