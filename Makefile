# Faro: `make run` starts the app on embedded defaults; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LLAMA_STAMP := $(VENV)/.llama-server
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/test
REDIS_TEST_URL ?= redis://127.0.0.1:6379/15

.PHONY: install install-llama-server system-packages run test test-embedded test-production lint

$(STAMP): requirements.txt requirements-nodeps.txt tests/oidc/package-lock.json tests/a11y/package-lock.json
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first, on its own: the CPU build (a looser spec would pull GBs of CUDA).
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -r requirements-nodeps.txt
	# The OpenID provider the SSO tests start on loopback (Node's certified oidc-provider).
	cd tests/oidc && npm ci --no-audit --no-fund --loglevel=error
	# axe-core, which the browser tests inject to check accessibility.
	cd tests/a11y && npm ci --no-audit --no-fund --loglevel=error
	touch $(STAMP)

install: $(STAMP)

# llama.cpp's server, built from source (about 6 minutes on 2 cores): the `tgi` client's tests start it on
# loopback as a real Messages API server. If it cannot build here, those tests skip and say why. Built for
# AVX2, not -march=native: a native build here died with SIGILL (illegal instruction) on its first chat
# completion; --no-cache-dir keeps pip from reusing such a wheel.
$(LLAMA_STAMP): requirements-llama-server.txt $(STAMP)
	CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON" \
		$(BIN)/pip install --quiet --no-cache-dir -r requirements-llama-server.txt \
		|| echo "llama-cpp-python[server] did not build: tests/chatbot/test_tgi.py will skip its server tests"
	touch $(LLAMA_STAMP)

install-llama-server: $(LLAMA_STAMP)

# Debian packages the tests need (Tesseract with Spanish and English data, Chromium, Caddy), installed with
# apt-get when missing and permitted (root or passwordless sudo); otherwise the tests that need them skip
# with the install command in their reason. .ci/run gets them through `make test` too.
system-packages:
	bash scripts/system-packages.sh

# reindex --model-changed: a data folder indexed with another embedding model (all-MiniLM-L6-v2 was the
# default before issue 14) is re-embedded before serving; its vectors cannot be compared with the new ones.
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py reindex --model-changed
	$(BIN)/python manage.py load_demo
	$(BIN)/python manage.py prepare_models
	$(BIN)/python scripts/run_local.py

# The whole suite twice: on embedded defaults (SQLite, in-memory layers), then on the production path
# (PostgreSQL with a connection pool, as docker-compose runs it, and Redis on 127.0.0.1) for everything but
# the browser tests.
test: install system-packages lint test-embedded test-production

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

test-embedded: install install-llama-server system-packages
	$(BIN)/pytest

test-production: install system-packages
	DATABASE_URL=$(PG_TEST_URL) DATABASE_POOL_MAX_SIZE=8 REDIS_URL=$(REDIS_TEST_URL) $(BIN)/pytest -m "not e2e"
