#!/usr/bin/env bash
# End to end, on this host, the one-host team profile as deploy/README.md describes it:
# a PostgreSQL server in a folder (as the unprivileged `postgres` user when run as root), one
# database for the DuckLake catalog and one for Dagster, DAGSTER_HOME with deploy/dagster.yaml
# as shipped, a pool limit, `dagster-daemon run`, and three queued runs launched with
# `dagster job launch` (partitions qa, qb, qa again) of the small lake asset graph
# tests/dagster_lake_job.py with deploy/run_config.multiprocess.yaml. Then it checks that all
# three succeeded through the queue, that the two qa runs did not overlap (tag limit: one run
# per dagster/partition value) and what the lake holds. Everything it starts is stopped by PID.
#
#   deploy/smoke.sh            # prints a JSON summary; exit 0 when every check held
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
PG=${LITSYNTH_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
[ -x "$PG/initdb" ] || { echo "no PostgreSQL binaries (run scripts/bootstrap.sh)" >&2; exit 2; }
py=$root/.venv/bin/python
work=$(mktemp -d /tmp/litsynth-deploy-XXXXXX)
port=$($py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_pg=()
if [ "$(id -u)" = 0 ]; then chown postgres: "$work"; as_pg=(runuser -u postgres --); fi

pg_pid="" daemon_pid=""
cleanup() {
  [ -n "$daemon_pid" ] && kill -TERM "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null || true
  if [ -n "$pg_pid" ]; then
    kill -INT "$pg_pid" 2>/dev/null || true   # PostgreSQL's fast shutdown
    for _ in $(seq 1 100); do kill -0 "$pg_pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# 1. PostgreSQL in a folder, loopback, a free port
"${as_pg[@]}" "$PG/initdb" -D "$work/pg" -U litsynth --auth=trust -E UTF8 --no-sync >/dev/null
"${as_pg[@]}" "$PG/pg_ctl" -D "$work/pg" -l "$work/pg.log" -o "-h 127.0.0.1 -p $port -k $work -c max_connections=200" -w start >/dev/null
pg_pid=$(head -1 "$work/pg/postmaster.pid")
"$PG/createdb" -h 127.0.0.1 -p "$port" -U litsynth litsynth_lake
"$PG/createdb" -h 127.0.0.1 -p "$port" -U litsynth litsynth_dagster

# 2. the Dagster instance and the lake
mkdir -p "$work/dagster_home"
cp deploy/dagster.yaml "$work/dagster_home/dagster.yaml"
export DAGSTER_HOME=$work/dagster_home
export LITSYNTH_DAGSTER_PG_URL="postgresql+psycopg2://litsynth@127.0.0.1:$port/litsynth_dagster"
export LITSYNTH_LAKE_DSN="host=127.0.0.1 port=$port dbname=litsynth_lake user=litsynth"
export LITSYNTH_LAKE_DATA=$work/lake
export PYTHONPATH=$root
.venv/bin/dagster instance concurrency set lake_writers 6 >/dev/null
$py -c 'from dagster import DagsterInstance; DagsterInstance.get().add_dynamic_partitions("questions", ["qa", "qb"])'

# 3. the daemon takes queued runs; three runs are launched into the queue
.venv/bin/dagster-daemon run -m tests.dagster_lake_job >"$work/daemon.log" 2>&1 &
daemon_pid=$!
for q in qa qb qa; do
  .venv/bin/dagster job launch -m tests.dagster_lake_job -j lake_job -c deploy/run_config.multiprocess.yaml \
      --tags "{\"dagster/partition\": \"$q\"}" >/dev/null 2>>"$work/launch.log"
done

# 4. wait for the queue to drain, then check
$py - <<'EOF'
import json, sys, time
from pathlib import Path
from dagster import DagsterInstance, DagsterRunStatus

deadline = time.monotonic() + 420
with DagsterInstance.get() as instance:
    while True:
        records = instance.get_run_records()
        done = [r for r in records if r.dagster_run.status in (DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED)]
        if len(records) == 3 and len(done) == 3:
            break
        if time.monotonic() > deadline:
            print(json.dumps({"error": "runs did not finish", "statuses": [str(r.dagster_run.status) for r in records]}))
            sys.exit(1)
        time.sleep(2)
    runs = sorted(({"partition": r.dagster_run.tags.get("dagster/partition"), "status": r.dagster_run.status.value,
                    "start": r.start_time, "end": r.end_time, "queued_then_started_by_daemon": r.create_timestamp.timestamp() < (r.start_time or 0)}
                   for r in records), key=lambda r: r["start"] or 0)
    pool = instance.event_log_storage.get_concurrency_info("lake_writers").slot_count
qa = [r for r in runs if r["partition"] == "qa"]
qb = [r for r in runs if r["partition"] == "qb"][0]
checks = {
    "all_succeeded": all(r["status"] == "SUCCESS" for r in runs),
    "both_qa_runs_serialised_by_the_partition_tag_limit": qa[0]["end"] <= qa[1]["start"] or qa[1]["end"] <= qa[0]["start"],
    "qb_overlapped_a_qa_run": any(r["start"] < qb["end"] and qb["start"] < r["end"] for r in qa),
    "pool_lake_writers_limit": pool == 6,
}
sys.path.insert(0, ".")
from litsynth.config import WarehouseSettings
from litsynth.lake import open_lake_read_only
import os
lake = WarehouseSettings(backend="ducklake", catalog_dsn=os.environ["LITSYNTH_LAKE_DSN"], data_path=os.environ["LITSYNTH_LAKE_DATA"])
with open_lake_read_only(lake, Path(".")) as con:
    state = con.execute("SELECT question_id, count(*), count(DISTINCT paper_id), count(DISTINCT selection_reason) FROM question_papers GROUP BY ALL ORDER BY 1").fetchall()
checks["lake_partitions_whole"] = state == [("qa", 200, 200, 1), ("qb", 200, 200, 1)]
print(json.dumps({"checks": checks, "runs": runs, "lake_question_papers": state}, indent=1, default=str))
sys.exit(0 if all(checks.values()) else 1)
EOF
