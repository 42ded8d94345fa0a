"""Shared helpers of the bench/ scripts: arguments, machine info, statistics, JSON output."""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_DATA = ROOT.parent / "shared" / "data"
ARXIV = Path("arxiv") / "arxiv_papers.jsonl"


def parser(name: str, doc: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="shared data folder (default ../shared/data)")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / f"{name}.json")
    return p


def machine_info(torch_threads: int | None = None, **extra) -> dict:
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    info = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "load_average_at_start": [round(x, 2) for x in load] if load else None,
        "torch_threads": torch_threads,
    }
    info.update(extra)
    return info


def median(values) -> float:
    return float(statistics.median(values))


def percentile(values, q: float) -> float:
    import numpy as np

    return float(np.percentile(np.asarray(values, dtype=float), q))


def write_json(path: Path, report: dict) -> None:
    try:
        report.setdefault("machine", {})["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, default=float) + "\n", encoding="utf-8")


def arxiv_records(data: Path) -> list[dict]:
    path = data / ARXIV
    if not path.is_file():
        raise SystemExit(f"{path}: arXiv records not found; pass --data pointing at the shared data folder")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
