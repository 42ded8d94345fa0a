"""``litsynth eval verify``: score a verifier on SciFact-format claims with open retrieval.

    litsynth eval verify --claims FILE --corpus FILE --out FILE.json
        [--verifier baseline|trained|auto] [--model-dir var/models/verifier] [--split all|validation]

``auto`` takes the trained verifier only when its recorded validation F1 beats the baseline's
(:func:`litsynth.verify.verifiers.choose_verifier`); the reason is written to the JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from litsynth.verify.evidence import EVIDENCE_K


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("verify", help="score a claim verifier on SciFact-format claims (open retrieval)")
    parser.add_argument("--claims", type=Path, required=True, help="SciFact claims JSONL: official, early-release or Hugging Face layout (litsynth.verify.scifact_data)")
    parser.add_argument("--corpus", type=Path, required=True, help="SciFact corpus JSONL (doc_id, title, abstract sentences) or BEIR corpus.jsonl (_id, title, text)")
    parser.add_argument("--out", type=Path, required=True, help="metrics JSON to write")
    parser.add_argument("--verifier", choices=("baseline", "trained", "auto"), default="auto")
    parser.add_argument("--model-dir", type=Path, default=None, help="folder of trained verifier versions (default: settings verifier.model_dir, var/models/verifier)")
    parser.add_argument("--split", choices=("all", "validation"), default="all", help="validation: only the claims held out of training")
    parser.add_argument("--validation-fraction", type=float, default=0.2)
    parser.add_argument("--retriever-k", type=int, default=EVIDENCE_K, help="abstracts retrieved per claim")
    parser.add_argument("--cache", type=Path, default=None, help="warehouse whose embedding cache to use (default: the project's warehouse)")
    parser.set_defaults(handler=run)
    return parser


def _verifier(kind: str, settings, model_dir: Path | None, encoder):
    from litsynth.verify.verifiers import BaselineVerifier, Choice, choose_verifier

    if kind == "baseline":
        return Choice(BaselineVerifier(encoder), "requested: baseline")
    choice = choose_verifier(settings, encoder, [model_dir, settings.shipped_verifier_dir] if model_dir else None)
    if kind == "trained" and choice.verifier.name != "trained":
        raise FileNotFoundError(f"no usable trained verifier in {model_dir}: {choice.reason}. Fix: run bench/verify.py or use --verifier baseline")
    return choice


def run(args: argparse.Namespace, settings) -> int:
    from litsynth.datafiles import DataFormatError
    from litsynth.models.text_encoder import selection_encoder
    from litsynth.verify.scifact_eval import describe_interval, evaluate_claims, load_labelled

    try:  # the files first: a bad line should not wait for the models to load
        claims, corpus = load_labelled(args.claims, args.corpus, args.split, args.validation_fraction)
    except DataFormatError as exc:
        print(f"litsynth eval verify: {exc}", file=sys.stderr)
        return 2
    encoder = selection_encoder(settings)
    try:
        choice = _verifier(args.verifier, settings, args.model_dir, encoder)
    except FileNotFoundError as exc:
        print(f"litsynth eval verify: {exc}", file=sys.stderr)
        return 2
    metrics = {
        **evaluate_claims(claims, corpus, choice.verifier, retriever_k=args.retriever_k, encoder=encoder, cache_path=args.cache or settings.warehouse_path),
        "split": args.split, "validation_fraction": args.validation_fraction, "choice": choice.reason,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    f1 = metrics["abstract_label_only"]["f1"]
    print(
        f"litsynth eval verify: {choice.verifier.name} on {metrics['claims']} claims: abstract label-only F1 {f1:.3f} "
        f"({describe_interval(metrics['abstract_label_only_f1_interval'])}) -> {args.out}"
    )
    if not metrics["sentence_numbers_apply"]:
        print("litsynth eval verify: the corpus gives text, not SciFact sentence lists: only abstract-level scores apply", file=sys.stderr)
    return 0
