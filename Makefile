# The two promises: `make run` brings the service up on a fresh machine,
# `make test` runs lint and the whole suite (CI runs exactly this).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint fmt openapi install clean fuzz softhsm messages

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/vcm serve

lint: $(STAMP)
	$(BIN)/ruff check app tests bench migrations
	$(BIN)/ruff format --check app tests bench migrations
	$(BIN)/mypy

fmt: $(STAMP)
	$(BIN)/ruff format app tests bench migrations
	$(BIN)/ruff check --fix app tests bench migrations

# SoftHSM2 (Debian's softhsm2) for the HSM key ring's tests: installed when missing
# if we are root with apt-get (as on CI's fresh machine); otherwise those tests skip.
softhsm:
	@command -v softhsm2-util >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] \
	  && command -v apt-get >/dev/null 2>&1 \
	  && { apt-get install -y --no-install-recommends softhsm2 \
	       || { apt-get update -q && apt-get install -y --no-install-recommends softhsm2; }; }; } \
	  || echo "softhsm2 not installed: the HSM key ring tests will skip"

test: lint softhsm
	$(BIN)/pytest

# Schemathesis with many more examples per operation and role than `make test` runs.
fuzz: $(STAMP)
	VCM_FUZZ_EXAMPLES=$${VCM_FUZZ_EXAMPLES:-50} $(BIN)/pytest -m fuzz tests/fuzz

openapi: $(STAMP)
	$(BIN)/python -m app.openapi > openapi.yaml

# The problem messages' catalogs (Babel): extract the English msgids from the code,
# merge them into app/locale/<lang>/LC_MESSAGES/messages.po (translate the new ones
# there), compile the committed .mo files. tests/i18n fails on a message with no
# Vietnamese translation or a .mo older than its .po.
messages: $(STAMP)
	$(BIN)/pybabel extract --no-location --sort-output --omit-header -F babel.cfg \
	  -o app/locale/messages.pot app
	$(BIN)/pybabel update --no-fuzzy-matching --ignore-pot-creation-date -i app/locale/messages.pot \
	  -d app/locale -D messages
	$(BIN)/pybabel compile --statistics -d app/locale -D messages

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
