"""open_clip image–text encoders from the model catalog, online or offline.

Weights are resolved in this order: an explicit checkpoint file, the catalog's ``local_path``
(relative to the project), then the ``pretrained`` tag, which open_clip downloads (online only).
Offline with no local file the loader fails at once with the fix instead of hanging in a
download.

Checkpoint files are read without executing code: open_clip 3.3 reads ``.safetensors`` with
safetensors and anything else with ``torch.load(..., weights_only=True)`` (we pass it
explicitly), so a pickle carrying objects other than tensors is refused, not run.
Preprocessing and tokenisation are open_clip's own (the eval transform of
``create_model_and_transforms`` and ``get_tokenizer``), so vectors match open_clip's reference.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from litsynth.config import ConfigError, ModelSpec
from litsynth.models.text_encoder import ModelUnavailable, hub_reachable
from litsynth.models.torch_compat import ensure_torchvision_importable

log = logging.getLogger(__name__)


class UnreadableImage(ValueError):
    """An image file that PIL cannot open or decode; the message names the file."""


def resolve_checkpoint(spec: ModelSpec, project_root: Path, checkpoint: Path | None = None) -> str:
    """What to pass as open_clip's ``pretrained``: a local checkpoint path, else the pretrained tag."""
    if checkpoint is not None:
        if not checkpoint.is_file():
            raise ModelUnavailable(f"{spec.id}: checkpoint {checkpoint} not found. Fix: pass an existing open_clip checkpoint file")
        return str(checkpoint)
    if spec.local_path:
        local, tried = spec.local_weights(project_root)
        if local is not None and local.is_file():
            return str(local)
        where = tried if local is None else f"no local checkpoint at {spec.local_path}"
        fix = "Fix: put the open_clip checkpoint there or pass --checkpoint"
    else:
        where, fix = "no local_path in the catalog", "Fix: set local_path to an open_clip checkpoint or pass --checkpoint"
    if not spec.pretrained:
        raise ModelUnavailable(f"{spec.id}: {where} and no pretrained tag. {fix}")
    if not hub_reachable():
        raise ModelUnavailable(f"{spec.id}: {where}; pretrained {spec.pretrained!r} needs the network. {fix}")
    return spec.pretrained


class ImageTextEncoder:
    """A loaded open_clip model with its eval transform and tokenizer; CPU, eval mode, unit vectors."""

    def __init__(self, spec: ModelSpec, model, preprocess, tokenizer, source: str) -> None:
        self.spec = spec
        self.model = model.eval()
        self.preprocess = preprocess
        self.tokenizer = tokenizer
        self.source = source

    @property
    def context_length(self) -> int:
        """Tokens the text tower sees; longer texts are truncated by the tokenizer."""
        return self.tokenizer.context_length

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` with start and end tokens, before truncation to ``context_length``."""
        from open_clip.tokenizer import SimpleTokenizer

        if not isinstance(self.tokenizer, SimpleTokenizer):
            raise NotImplementedError(f"{self.spec.id}: token counting supports CLIP's BPE tokenizer, not {type(self.tokenizer).__name__}")
        return len(self.tokenizer.encode(text)) + 2

    def encode_text(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        vectors = []
        with torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                tokens = self.tokenizer(texts[start : start + batch_size])
                vectors.append(self.model.encode_text(tokens, normalize=True))
        return _stack(vectors, self.spec.dim)

    def encode_images(self, paths: list[Path], batch_size: int = 32) -> np.ndarray:
        vectors = []
        with torch.inference_mode():
            for start in range(0, len(paths), batch_size):
                pixels = torch.stack([self.preprocess(read_rgb(path)) for path in paths[start : start + batch_size]])
                vectors.append(self.model.encode_image(pixels, normalize=True))
        return _stack(vectors, self.spec.dim)


def _stack(batches: list[torch.Tensor], dim: int) -> np.ndarray:
    if not batches:
        return np.zeros((0, dim), dtype=np.float32)
    return torch.cat(batches).float().numpy()


def read_rgb(path: Path):
    """The image at ``path`` as RGB, decoded now so a bad file fails here, named."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            return image.convert("RGB")
    except OSError as exc:  # missing, not an image (UnidentifiedImageError), truncated
        raise UnreadableImage(f"{path}: cannot read image: {exc}") from exc


def load_image_text_encoder(spec: ModelSpec, project_root: Path, *, checkpoint: Path | None = None) -> ImageTextEncoder:
    """Build the catalog's open_clip model with its weights; fails with the fix when none can be had."""
    if spec.family != "open_clip":
        raise ValueError(f"model {spec.id!r} is {spec.family}, not an open_clip image-text model")
    source = resolve_checkpoint(spec, project_root, checkpoint)
    ensure_torchvision_importable()
    import open_clip

    log.info("loading open_clip %s (%s) from %s", spec.id, spec.architecture, source)
    try:
        model, _, preprocess = open_clip.create_model_and_transforms(spec.architecture, pretrained=source, device="cpu", weights_only=True)
    except Exception as exc:  # open_clip and torch raise many types for a bad file (UnpicklingError, SafetensorError, AssertionError, RuntimeError)
        raise ModelUnavailable(
            f"{spec.id}: could not load {source} into {spec.architecture}: {type(exc).__name__}: {str(exc).splitlines()[0]}. "
            "Fix: use an open_clip checkpoint of that architecture (safetensors, or a torch state dict that loads with weights_only=True)"
        ) from exc
    encoder = ImageTextEncoder(spec, model, preprocess, open_clip.get_tokenizer(spec.architecture), source)
    dim = encoder.encode_text([""]).shape[1]
    if (dim, encoder.context_length) != (spec.dim, spec.max_seq_length):
        raise ConfigError(
            f"catalog entry {spec.id}: {spec.architecture} gives {dim}-d vectors and a {encoder.context_length}-token context; the catalog says "
            f"dim {spec.dim}, max_seq_length {spec.max_seq_length}. Fix: correct the catalog entry"
        )
    return encoder
