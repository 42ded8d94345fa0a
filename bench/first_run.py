"""First-run benchmark: what a newcomer waits for after install.

On a fresh copy of the project (the files git tracks, as a clone has them; the installed venv
and the assembled all-mpnet-base-v2 folder reused), times three `litsynth run --offline`:

1. the first run (empty warehouse, empty embedding cache, no Dagster history);
2. a second run with nothing changed;
3. a run after one new paper (a real arXiv record from the shared data) lands in the inbox.

Each run's stage times come from its own summary lines; peak memory is the child's max RSS.
Results: JSON (default bench/results/first_run.json) and a table on stdout.

    .venv/bin/python bench/first_run.py [--out FILE] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGETS_S = {"first": 300.0, "unchanged": 30.0, "one_new_paper": 60.0}
STAGE_LINE = re.compile(r"^  (corpus|selection|question|embeddings|report|benchmarks|verifier|total)\s+([0-9.]+) s$")


def fresh_copy(target: Path) -> None:
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True).stdout.split(b"\0")
    for name in filter(None, files):
        source = ROOT / name.decode()
        if source.is_file():
            (target / name.decode()).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name.decode())
    mpnet = ROOT / "var" / "models" / "all-mpnet-base-v2"
    if mpnet.is_dir():  # what scripts/bootstrap.sh assembles on install
        (target / "var" / "models").mkdir(parents=True, exist_ok=True)
        (target / "var" / "models" / "all-mpnet-base-v2").symlink_to(mpnet)


def one_arxiv_record(data_dir: Path, target: Path) -> str:
    """Write the first shared arXiv record as a one-line JSONL file; return its title."""
    with (data_dir / "arxiv" / "arxiv_papers.jsonl").open(encoding="utf-8") as lines:
        record = json.loads(next(lines))
    target.write_text(json.dumps(record) + "\n", encoding="utf-8")
    return record.get("title", "")


def timed_run(project: Path) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "litsynth"), "--project", str(project), "run", "--offline"],
        capture_output=True, text=True,
    )
    seconds = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    stages = {m.group(1): float(m.group(2)) for m in map(STAGE_LINE.match, done.stdout.splitlines()) if m}
    steps = next((line for line in done.stdout.splitlines() if "steps ran and succeeded" in line), "")
    if done.returncode != 0:
        print(done.stdout[-3000:], done.stderr[-3000:], sep="\n", file=sys.stderr)
    return {
        "exit_code": done.returncode,
        "wall_s": round(seconds, 1),
        "cpu_s": round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 1),
        "peak_rss_mb": round(after.ru_maxrss / 1024),
        "stage_s": stages,
        "steps": steps.removeprefix("litsynth: "),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "first_run.json")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data", help="shared data folder (for the new paper)")
    parser.add_argument("--keep", type=Path, help="run in this folder and keep it (default: a temporary folder)")
    args = parser.parse_args()

    workdir = args.keep or Path(tempfile.mkdtemp(prefix="litsynth-first-run-"))
    workdir.mkdir(parents=True, exist_ok=True)
    fresh_copy(workdir)
    runs = {}
    print(f"first_run: project copy in {workdir}", flush=True)
    runs["first"] = timed_run(workdir)
    print(f"first_run: first run {runs['first']['wall_s']} s", flush=True)
    runs["unchanged"] = timed_run(workdir)
    print(f"first_run: re-run, nothing new {runs['unchanged']['wall_s']} s", flush=True)
    title = one_arxiv_record(args.data, workdir / "corpus" / "inbox" / "new-paper.jsonl")
    runs["one_new_paper"] = timed_run(workdir)
    print(f"first_run: after one new paper {runs['one_new_paper']['wall_s']} s", flush=True)
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)

    result = {
        "benchmark": "first_run",
        "command": "litsynth --project <fresh copy> run --offline, three times",
        "machine": {"cpus": __import__("os").cpu_count(), "python": platform.python_version()},
        "new_paper": title,
        "targets_s": TARGETS_S,
        "runs": runs,
        "met": {name: runs[name]["exit_code"] == 0 and runs[name]["wall_s"] <= target for name, target in TARGETS_S.items()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print("\n| run | wall s | cpu s | peak RSS MB | target s | met |\n|---|---|---|---|---|---|")
    for name, run in runs.items():
        print(f"| {name} | {run['wall_s']} | {run['cpu_s']} | {run['peak_rss_mb']} | {TARGETS_S[name]:.0f} | {'yes' if result['met'][name] else 'no'} |")
    return 0 if all(r["exit_code"] == 0 for r in runs.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
