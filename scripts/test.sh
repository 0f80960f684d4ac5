#!/usr/bin/env bash
# Set up (first run only), then lint (ruff), check the layer contract (import-linter),
# type-check the package (mypy) and run the test suite (pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
echo "== ruff";          ruff check src tests benchmarks
echo "== import-linter"; lint-imports
echo "== mypy";          mypy
echo "== pytest";        pytest -q -p no:cacheprovider --timeout=900 "$@"
