# VideoGen: `make demo` renders the bundled song offline; `make test` runs every test. Both install what they need.
SHELL := /bin/bash
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export DO_NOT_TRACK ?= 1
export UV_LINK_MODE ?= copy

# uv from PyPI, run as a module so no PATH juggling is needed on a fresh machine
UV ?= python3 -m uv
DEMO_SONG := assets/demo/Kevin_MacLeod_-_Vibe_Ace.hq.ogg
DEMO_PROMPT := a neon city at night, a dancer in the rain, synthwave
STAMP := .venv/.videogen-installed

.PHONY: install demo test lint bench clean

# uv sync from the committed lock, then compile librosa's numba kernels once (40 s the first time, not per run).
$(STAMP): uv.lock pyproject.toml
	python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen
	$(UV) run python -c "import librosa.beat, librosa.segment"
	touch $@

install: $(STAMP)

demo: install
	$(UV) run videogen render $(DEMO_SONG) --prompt "$(DEMO_PROMPT)" --out out/demo

test: install
	$(UV) run pytest

lint: install
	$(UV) run ruff format --check .
	$(UV) run ruff check .
	$(UV) run mypy

bench: install
	$(UV) run python -m bench.compose
	$(UV) run python -m bench.analysis
	$(UV) run python -m bench.pipeline

clean:
	rm -rf out data .pytest_cache .mypy_cache .ruff_cache
