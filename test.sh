#!/usr/bin/env bash
# Second command of the README: set up (if needed) and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")"
scripts/bootstrap.sh
exec .venv/bin/python -m pytest "$@"
