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

.PHONY: install demo test lint bench clean web install-chromium

# uv sync from the committed lock, then compile librosa's numba kernels once (40 s the first time, not per run).
$(STAMP): uv.lock pyproject.toml
	python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen
	$(UV) run python -c "import librosa.beat, librosa.segment"
	touch $@

install: $(STAMP)

demo: install
	$(UV) run videogen render $(DEMO_SONG) --prompt "$(DEMO_PROMPT)" --out out/demo

test: install web install-chromium
	$(UV) run pytest

lint: install
	$(UV) run ruff format --check .
	$(UV) run ruff check .
	$(UV) run mypy

bench: install
	$(UV) run python -m bench.compose
	$(UV) run python -m bench.analysis
	$(UV) run python -m bench.pipeline
	$(UV) run python -m bench.costs
	$(UV) run python -m bench.remote

clean:
	rm -rf out data .pytest_cache .mypy_cache .ruff_cache

# ---------------------------------------------------------------- API gateway (issue 4)
.PHONY: up install-redis

# redis-server from Debian, only if missing (the API tests and `make up` need it)
install-redis:
	@command -v redis-server >/dev/null 2>&1 || { \
		echo "installing redis-server (apt)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq redis-server >/dev/null; }

# Prefect server + UI :4200, the served music-video deployment, Redis :6379, the events bridge, the API :8000
up: install install-redis
	@echo "Prefect UI/API  http://127.0.0.1:4200  (API http://127.0.0.1:4200/api)"
	@echo "VideoGen API    http://127.0.0.1:8000  (docs /docs, health /healthz, WebSocket ws://127.0.0.1:8000/ws/jobs/<id>)"
	@echo "Redis           redis://127.0.0.1:6379/0"
	@echo "Worker          python -m deployments.serve (deployment music-video/music-video); bridge: python -m api.bridge"
	PREFECT_API_URL=http://127.0.0.1:4200/api PREFECT_SERVER_ALLOW_EPHEMERAL_MODE=false \
		$(UV) run honcho start -f infra/Procfile -d .

# tests/api starts a real redis-server
test: install-redis

# PostgreSQL from Debian, only if missing: tests/ops/test_server_backends.py runs Prefect's server on a throwaway
# cluster of its own (initdb + postgres from /usr/lib/postgresql/<major>/bin), never on a system cluster
.PHONY: install-postgres
install-postgres:
	@compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || { \
		echo "installing postgresql (apt)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }

test: install-postgres

# Web UI (web/): Node packages from the lock (openapi-typescript among them), the generated API types checked
# against the Python models, type check + build to web/dist (served by the API at /), then the unit tests.
# The end-to-end browser tests run under pytest (tests/web).
web: install
	cd web && npm ci --no-audit --no-fund
	$(UV) run python -m core.schema_export --check
	cd web && npm run build && npx vitest run

# Debian's chromium for the browser tests (never a downloaded browser); no-op when present.
install-chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
