"""Image–text retrieval on a COCO-captions set, scored as CLIP_benchmark scores it.

Two layouts are read: COCO captions JSON (``images[{id, file_name}]``, ``annotations[{image_id,
caption}]``) and the Karpathy split files the retrieval literature reports on
(``dataset_coco.json`` for the MSCOCO 5k test, ``dataset_flickr30k.json`` for the Flickr30k 1k
test), one split at a time.

Text→image: each caption is a query whose one positive is its image. Image→text: each image is
a query that is a hit when any of its captions is in the top k. Recall@k is the share of hits
(``hit_recall_at_k``); CLIP_benchmark reports these as ``image_retrieval_recall@k`` and
``text_retrieval_recall@k``. Ranking is by cosine similarity, ties broken by dataset order.

Images the JSON references but the folder lacks fail the load, listing them: a smaller gallery
makes retrieval easier, so a silently shrunk set would give numbers that look comparable and
are not. Images without captions stay in the gallery as distractors but are not queries.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from litsynth.evaluation.metrics import hit_recall_at_k


class DatasetError(ValueError):
    """A captions set that cannot be evaluated; the message names the file, the field and the fix."""


@dataclass(frozen=True)
class CocoCaptions:
    """Images (the gallery, in file order) and captions, each caption pointing at its image's index."""

    captions_file: Path
    images_dir: Path
    image_ids: list[object]  # COCO ids (a Karpathy file's cocoid, else imgid)
    image_paths: list[Path]
    captions: list[str]
    caption_image: list[int]  # index into image_ids / image_paths
    split: str = "all"  # a Karpathy file's split that was read; "all" for a COCO captions file


class ImageTextModel(Protocol):
    """What the evaluation needs from an encoder (ImageTextEncoder satisfies it)."""

    @property
    def context_length(self) -> int: ...

    def count_tokens(self, text: str) -> int: ...

    def encode_text(self, texts: list[str], batch_size: int = 64) -> np.ndarray: ...

    def encode_images(self, paths: list[Path], batch_size: int = 32) -> np.ndarray: ...


def _records(data: dict, field: str, keys: tuple[str, ...], captions_file: Path) -> list[dict]:
    records = data.get(field)
    if not isinstance(records, list) or not records:
        raise DatasetError(f"{captions_file}: field '{field}' must be a non-empty list. Fix: use the COCO captions format")
    for i, record in enumerate(records):
        if not isinstance(record, dict) or any(key not in record for key in keys):
            raise DatasetError(f"{captions_file}: field '{field}[{i}]' needs keys {list(keys)}; got {record!r}")
    return records


def _coco_layout(data: dict, captions_file: Path, images_dir: Path) -> tuple[list[tuple[object, Path]], list[tuple[object, str, str]]]:
    """Images (id, path) and captions (image id, text, where) of the COCO captions layout."""
    images = [(image["id"], images_dir / image["file_name"]) for image in _records(data, "images", ("id", "file_name"), captions_file)]
    captions = [
        (annotation["image_id"], str(annotation["caption"]), f"annotations[{i}].image_id")
        for i, annotation in enumerate(_records(data, "annotations", ("image_id", "caption"), captions_file))
    ]
    return images, captions


def _karpathy_layout(data: dict, captions_file: Path, images_dir: Path, split: str) -> tuple[list[tuple[object, Path]], list[tuple[object, str, str]]]:
    """Images and captions of a Karpathy split file (``dataset_coco.json``, ``dataset_flickr30k.json``):
    ``images[{filename, sentences[{raw}], split, imgid|cocoid, filepath?}]``, the split's images only."""
    records = _records(data, "images", ("filename", "sentences"), captions_file)
    splits = sorted({str(record.get("split")) for record in records})
    if split != "all" and split not in splits:
        raise DatasetError(f"{captions_file}: no images in split {split!r}; the file has {splits}. Fix: pass --split with one of them, or all")
    images, captions = [], []
    for i, record in enumerate(records):
        if split != "all" and record.get("split") != split:
            continue
        image_id = record.get("cocoid", record.get("imgid", record["filename"]))
        nested = images_dir / str(record["filepath"]) / record["filename"] if record.get("filepath") else None
        path = nested if nested is not None and nested.is_file() else images_dir / record["filename"]
        images.append((image_id, path))
        if not isinstance(record["sentences"], list):
            raise DatasetError(f"{captions_file}: field 'images[{i}].sentences' must be a list of {{raw}} objects")
        for j, sentence in enumerate(record["sentences"]):
            if not isinstance(sentence, dict) or "raw" not in sentence:
                raise DatasetError(f"{captions_file}: field 'images[{i}].sentences[{j}]' needs key 'raw'; got {sentence!r}")
            captions.append((image_id, str(sentence["raw"]), f"images[{i}].sentences[{j}]"))
    return images, captions


def load_coco_captions(captions_file: Path, images_dir: Path, split: str | None = None) -> CocoCaptions:
    """Read a COCO captions JSON, or a Karpathy split file (the MSCOCO 5k / Flickr30k 1k retrieval
    test sets: ``split`` defaults to test there, "all" takes every image); fails on unknown image
    ids, duplicate ids and missing image files."""
    try:
        data = json.loads(captions_file.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DatasetError(f"{captions_file}: file not found. Fix: pass the COCO captions JSON with --captions") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{captions_file}: not valid UTF-8 JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise DatasetError(f"{captions_file}: expected an object with fields images and annotations")
    if not images_dir.is_dir():
        raise DatasetError(f"{images_dir}: images folder not found. Fix: pass the folder holding the images' file_name with --images")

    first = (data.get("images") or [None])[0]
    karpathy = isinstance(first, dict) and "sentences" in first
    if karpathy:
        split = split or "test"
        images, captions = _karpathy_layout(data, captions_file, images_dir, split)
    elif split not in (None, "all"):
        raise DatasetError(f"{captions_file}: a COCO captions file has no splits, so --split {split} does not apply. Fix: drop --split")
    else:
        split = "all"
        images, captions = _coco_layout(data, captions_file, images_dir)
    index: dict[object, int] = {}
    for i, (image_id, _) in enumerate(images):
        if image_id in index:
            raise DatasetError(f"{captions_file}: field 'images[{i}].id': {image_id!r} appears twice. Fix: give each image a unique id")
        index[image_id] = i
    missing = [path.name for _, path in images if not path.is_file()]
    if missing:
        raise DatasetError(
            f"{images_dir}: {len(missing)} of {len(images)} images referenced by {captions_file} are missing, "
            f"e.g. {missing[:5]}. Fix: add them, or remove them and their annotations from the JSON"
        )
    for image_id, _, where in captions:
        if image_id not in index:
            raise DatasetError(f"{captions_file}: field '{where}': {image_id!r} is not an id in 'images'")
    return CocoCaptions(
        captions_file, images_dir, [image_id for image_id, _ in images], [path for _, path in images],
        [" ".join(text.split()) for _, text, _ in captions], [index[image_id] for image_id, _, _ in captions], split,
    )


def _top(scores: np.ndarray, k: int) -> dict[str, list[str]]:
    """Each row's top-k column indices as strings, best first, ties in column order."""
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return {str(row): [str(col) for col in cols] for row, cols in enumerate(order)}


def evaluate_image_text(dataset: CocoCaptions, encoder: ImageTextModel, *, ks: tuple[int, ...] = (1, 5, 10)) -> dict:
    """Recall@k both ways, with query counts, captions the tokenizer truncates, and timings."""
    started = time.perf_counter()
    image_vectors = encoder.encode_images(dataset.image_paths)
    images_done = time.perf_counter()
    text_vectors = encoder.encode_text(dataset.captions)
    text_done = time.perf_counter()

    scores = text_vectors @ image_vectors.T  # unit vectors: cosine similarity, captions × images
    depth = max(ks)
    image_of_caption = {str(c): {str(img)} for c, img in enumerate(dataset.caption_image)}
    captions_of_image: dict[str, set[str]] = {}
    for c, img in enumerate(dataset.caption_image):
        captions_of_image.setdefault(str(img), set()).add(str(c))
    text_to_image, image_to_text = _top(scores, depth), _top(scores.T, depth)
    result = {
        "split": dataset.split,
        "text_to_image": {f"recall@{k}": hit_recall_at_k(text_to_image, image_of_caption, k) for k in ks},
        "image_to_text": {f"recall@{k}": hit_recall_at_k(image_to_text, captions_of_image, k) for k in ks},
        "counts": {
            "images": len(dataset.image_paths),
            "captions": len(dataset.captions),
            "text_queries": len(image_of_caption),
            "image_queries": len(captions_of_image),
            "captions_truncated": sum(encoder.count_tokens(c) > encoder.context_length for c in dataset.captions),
            "context_length": encoder.context_length,
        },
    }
    finished = time.perf_counter()
    result["seconds"] = {
        "encode_images": round(images_done - started, 3),
        "encode_text": round(text_done - images_done, 3),
        "score": round(finished - text_done, 3),
        "total": round(finished - started, 3),
    }
    return result
