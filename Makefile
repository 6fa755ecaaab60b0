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
# Bytecode is compiled at install: with PYTHONDONTWRITEBYTECODE set (as on the CI machines) every process would
# compile its imports from source again (measured: `import librosa.onset` 10.0 -> 3.7 s CPU, `import
# sklearn.cluster` 7.0 -> 2.4 s).
export UV_COMPILE_BYTECODE ?= 1
$(STAMP): uv.lock pyproject.toml
	python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen
	$(UV) run python -c "import librosa.onset, librosa.feature, librosa.segment"
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
	@command -v redis-server >/dev/null 2>&1 || devtools/apt-install redis-server

# The web UI that `make up` serves, built only when web/dist is missing or older than a web source (a fresh
# clone has none). `make web` also checks the exported types and runs the unit tests; `up` needs only the build.
WEB_INDEX := web/dist/index.html
WEB_MODULES := web/node_modules/.package-lock.json
WEB_SOURCES := $(shell find web/src $(wildcard web/public)) $(wildcard web/*.json web/*.html web/*.ts)

# npm writes its hidden lockfile on every install, so `make web`'s `npm ci` counts too
$(WEB_MODULES): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	touch $@

# order-only on the modules: a reinstall alone does not rebuild (package*.json are sources of their own)
$(WEB_INDEX): $(WEB_SOURCES) | $(WEB_MODULES)
	cd web && npm run build
	touch $@

# Ports of `make up` (override: `make up UP_API_PORT=8001`); infra/Procfile reads them from the environment.
export UP_PREFECT_PORT ?= 4200
export UP_API_PORT ?= 8000
export UP_REDIS_PORT ?= 6379

# Prefect server + UI, the served music-video deployment, Redis, the events bridge, the API and the built web UI
up: install install-redis $(WEB_INDEX)
	@echo "Prefect UI/API  http://127.0.0.1:$(UP_PREFECT_PORT)  (API http://127.0.0.1:$(UP_PREFECT_PORT)/api)"
	@echo "VideoGen        http://127.0.0.1:$(UP_API_PORT)  (site /, API /api, docs /docs, health /healthz)"
	@echo "WebSocket       ws://127.0.0.1:$(UP_API_PORT)/ws/jobs/<id>"
	@echo "Redis           redis://127.0.0.1:$(UP_REDIS_PORT)/0"
	@echo "Worker          python -m deployments.serve (deployment music-video/music-video); bridge: python -m api.bridge"
	PREFECT_API_URL=http://127.0.0.1:$(UP_PREFECT_PORT)/api PREFECT_SERVER_ALLOW_EPHEMERAL_MODE=false \
		VIDEOGEN_API__REDIS_URL=redis://127.0.0.1:$(UP_REDIS_PORT)/0 \
		$(UV) run --no-sync honcho start -f infra/Procfile -d .

# tests/api starts a real redis-server
test: install-redis

# PostgreSQL from Debian, only if missing: tests/ops/test_server_backends.py runs Prefect's server on a throwaway
# cluster of its own (initdb + postgres from /usr/lib/postgresql/<major>/bin), never on a system cluster
.PHONY: install-postgres
install-postgres:
	@compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || devtools/apt-install postgresql

test: install-postgres

# Web UI (web/): Node packages from the lock (openapi-typescript among them), the generated API types checked
# against the Python models, type check + build to web/dist (served by the API at /), then the unit tests.
# The end-to-end browser tests run under pytest (tests/web).
web: install
	cd web && npm ci --no-audit --no-fund
	$(UV) run python -m devtools.schema_export --check
	cd web && npm run build && npx vitest run

# Debian's chromium for the browser tests (never a downloaded browser); no-op when present.
install-chromium:
	@command -v chromium >/dev/null 2>&1 || devtools/apt-install chromium
