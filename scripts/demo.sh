#!/usr/bin/env bash
# Set up (first run only), then simulate a platform, ingest it into the embedded DuckDB
# store (./communitok.duckdb), run the analyses, print a summary, and serve the API and
# dashboard on http://127.0.0.1:8000 (Ctrl-C stops it). Extra arguments go to the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/communitok demo "$@"
exec .venv/bin/communitok serve
