"""``litsynth eval retrieval``: score one catalog model on a BEIR folder and write the metrics as JSON."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from litsynth.config import Settings, load_catalog
from litsynth.evaluation.beir import evaluate_model, load_beir
from litsynth.models.text_encoder import ModelUnavailable


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("retrieval", help="Recall@1/5/10/100, MRR@10 and nDCG@10 of a model on a BEIR dataset")
    parser.add_argument("--beir", type=Path, required=True, help="BEIR folder (queries.jsonl, qrels/; corpus.jsonl here or one level up)")
    parser.add_argument("--model", required=True, help="model id from the catalog, e.g. minilm-l6, bm25, hybrid")
    parser.add_argument("--split", default="test", help="qrels split to evaluate (default: test)")
    parser.add_argument("--models-file", type=Path, default=None, help="model catalog, relative to the project (default: settings models_file)")
    parser.add_argument("--out", type=Path, required=True, help="JSON file to write")
    parser.set_defaults(handler=run)
    return parser


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Evaluate and write ``--out``; exit code 2 for a bad catalog, dataset or model, with the reason on stderr."""
    root = settings.project_root
    try:
        catalog = load_catalog(settings.path(args.models_file or settings.models_file))
        spec = catalog.get(args.model)
        dataset = load_beir(args.beir, args.split)
        result = evaluate_model(dataset, spec, project_root=root, catalog=catalog)
    except (ValueError, ModelUnavailable) as exc:  # ConfigError and DataFormatError are ValueErrors
        print(f"litsynth eval retrieval: {exc}", file=sys.stderr)
        return 2
    report = {
        "dataset": str(Path(args.beir).resolve()),
        "split": args.split,
        "model": spec.id,
        "family": spec.family,
        "corpus_docs": len(dataset.corpus),
        "metrics": result.metrics,
        "seconds": round(result.seconds, 2),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report["metrics"]))
    return 0
