"""``litsynth eval image-text``: image–text retrieval recall of one catalog model on a COCO-captions set.

When the model cannot be loaded (offline with no checkpoint) or the data is bad, the command
prints why and exits non-zero without writing ``--out``: a results file exists only for a
finished evaluation, so a pipeline never picks up a "skipped" file as numbers. The JSON is
written to a temporary file and renamed, so an interrupted run leaves no half-written file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from litsynth.config import ConfigError, Settings, load_catalog


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``image-text`` to the ``eval`` subcommands; the parser's default ``handler`` is :func:`run`."""
    parser = subparsers.add_parser("image-text", help="image-text retrieval recall@1/5/10 (CLIP_benchmark style) on COCO captions")
    parser.add_argument("--captions", type=Path, required=True, help="COCO captions JSON (images[{id, file_name}], annotations[{image_id, caption}]) or a Karpathy split file (dataset_coco.json, dataset_flickr30k.json)")
    parser.add_argument("--images", type=Path, required=True, help="folder holding the images' file_name")
    parser.add_argument("--split", default=None, help="Karpathy split files only: the split to score (default test; all for every image)")
    parser.add_argument("--model", required=True, help="open_clip model id of the catalog, e.g. clip-vit-b-32")
    parser.add_argument("--checkpoint", type=Path, help="open_clip checkpoint file (overrides the catalog's local_path and pretrained tag)")
    parser.add_argument("--models-file", type=Path, default=None, help="model catalog, relative to the project (default: settings models_file)")
    parser.add_argument("--out", type=Path, required=True, help="results JSON to write")
    parser.set_defaults(handler=run)
    return parser


def write_json_atomic(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, path)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Evaluate and write ``--out``; returns 0, 1 (model or data unavailable) or 2 (configuration error)."""
    from litsynth.evaluation.image_text import DatasetError, evaluate_image_text, load_coco_captions
    from litsynth.models.image_text import UnreadableImage, load_image_text_encoder
    from litsynth.models.text_encoder import ModelUnavailable

    root = settings.project_root
    models_file = settings.path(args.models_file or settings.models_file)
    try:
        spec = load_catalog(models_file).get(args.model)
        if spec.family != "open_clip":
            raise ConfigError(f"{models_file}: model {spec.id!r} is {spec.family}; image-text needs an open_clip model")
        dataset = load_coco_captions(args.captions, args.images, args.split)
        encoder = load_image_text_encoder(spec, root, checkpoint=args.checkpoint)
        metrics = evaluate_image_text(dataset, encoder)
    except ConfigError as exc:
        print(f"litsynth eval image-text: configuration error: {exc}", file=sys.stderr)
        return 2
    except (ModelUnavailable, DatasetError, UnreadableImage) as exc:
        print(f"litsynth eval image-text: {exc}", file=sys.stderr)
        return 1
    payload = {
        "task": "image-text-retrieval",
        "model": spec.id,
        "architecture": spec.architecture,
        "weights": encoder.source,
        "captions_file": str(args.captions),
        "images_dir": str(args.images),
        **metrics,
    }
    write_json_atomic(args.out, payload)
    print(
        f"litsynth eval image-text: {spec.id}: text→image R@1/5/10 "
        + "/".join(f"{v:.3f}" for v in metrics["text_to_image"].values())
        + ", image→text R@1/5/10 "
        + "/".join(f"{v:.3f}" for v in metrics["image_to_text"].values())
        + f"; wrote {args.out}"
    )
    return 0
