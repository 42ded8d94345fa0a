"""One entry point from a catalog model to something that embeds text (the Encoder protocol)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from litsynth.config import ModelSpec
from litsynth.models.text_encoder import load_text_encoder


class ClipTextEncoder:
    """The text tower of an open_clip model behind the same interface as TextEncoder."""

    def __init__(self, spec: ModelSpec, project_root: Path) -> None:
        from litsynth.models.image_text import load_image_text_encoder

        self.spec = spec
        self.model = load_image_text_encoder(spec, project_root)

    def count_tokens(self, text: str) -> int:
        return self.model.count_tokens(text)

    def encode(self, texts: list[str], *, is_query: bool = False, batch_size: int = 64) -> np.ndarray:
        prefix = self.spec.query_prefix if is_query else self.spec.document_prefix
        return self.model.encode_text([prefix + t for t in texts], batch_size=batch_size)


def load_encoder(spec: ModelSpec, project_root: Path):
    """A loaded dense model; raises ModelUnavailable when its weights cannot be had here."""
    if spec.family == "sentence-transformers":
        return load_text_encoder(spec, project_root)
    if spec.family == "open_clip":
        return ClipTextEncoder(spec, project_root)
    raise ValueError(f"model {spec.id!r} ({spec.family}) is not a dense model")
