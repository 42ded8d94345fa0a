#!/usr/bin/env bash
# First command of the README: set up (if needed) and run the main job on the bundled questions and corpus.
set -euo pipefail
cd "$(dirname "$0")"
scripts/bootstrap.sh
exec .venv/bin/litsynth run "$@"
