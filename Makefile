# Two entry points for a fresh machine with only Python 3.11 and make:
#   make demo  -- set up .venv, decide the sample persons, check the Shanghai rule set
#   make test  -- set up .venv, lint, type-check and run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
RULES  := rules/shanghai

.PHONY: demo test test-long lint report bench clean diff-reports browser

$(BIN)/elig: pyproject.toml | browser
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,dev]'
	touch $@

# The web tests drive Debian's Chromium (Playwright never downloads a browser of its own); as root on a
# fresh machine it is installed from apt (with a CJK font for the screenshots), elsewhere a message says what to install.
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc
browser:
	@test -x /usr/bin/chromium -a -e $(CJK_FONT) || if [ "$$(id -u)" = 0 ]; then apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium chromium-driver fonts-wqy-zenhei; \
	  else echo "warning: no /usr/bin/chromium; install chromium and chromium-driver (the web tests skip)"; fi

demo: $(BIN)/elig
	$(BIN)/elig decide $(RULES) $(RULES)/samples/
	@# Exit 1 means open findings: the 2026 draft has problems of its own (see reports/); not a failure here.
	$(BIN)/elig check $(RULES); test $$? -le 1

report: $(BIN)/elig
	$(BIN)/elig check $(RULES) --quiet --format md --output reports/shanghai-check.md; test $$? -le 1

# Both cores; tests sharing a costly result run in one worker (tests/conftest.py groups them), in
# the order conftest gives (slowest first); the 20 slowest tests are printed at the end.
PYTEST := $(BIN)/python -m pytest -n 2 --dist loadgroup --no-loadscope-reorder --durations=20
test: $(BIN)/elig lint
	$(PYTEST)

# The same suite with five times the agreement persons and every planted mutant.
test-long: $(BIN)/elig lint
	ELIG_AGREE_SCALE=5 ELIG_MUTANTS=all $(PYTEST)

lint: $(BIN)/elig
	$(BIN)/ruff check .
	$(BIN)/mypy

# The diff reports: 2023 -> 2025, 2025 -> 2026 and every option's other reading (tests/test_diff.py checks them).
diff-reports: $(BIN)/elig
	$(BIN)/python -m solver.diff.reports reports

bench: $(BIN)/elig
	$(BIN)/python bench/decide.py
	$(BIN)/python bench/check.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
