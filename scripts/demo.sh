#!/usr/bin/env bash
# Set up (first run only), then simulate a platform, ingest it into the embedded DuckDB
# store (./communitok.duckdb), run the analyses and print a summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/communitok demo "$@"
