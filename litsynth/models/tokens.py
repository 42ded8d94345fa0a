"""The token budget chunks must fit so that no text model of the catalog truncates them.

The budget is the smallest ``max_seq_length`` of the catalog's text models, and a text's
length is the largest count among their tokenizers (special tokens included). Only
tokenizers are loaded, not weights; a model whose tokenizer cannot be had offline is left out
and named, so the metadata says which tokenizers the chunks were measured with.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from litsynth.config import ModelCatalog
from litsynth.models.text_encoder import ModelUnavailable, resolve_weights
from litsynth.models.torch_compat import ensure_torchvision_importable


@dataclass
class TokenBudget:
    max_tokens: int
    tokenizers: dict  # model id -> HF tokenizer
    unavailable: dict[str, str]  # model id -> why its tokenizer is missing

    def count(self, text: str) -> int:
        return max(len(t(text, add_special_tokens=True, truncation=False)["input_ids"]) for t in self.tokenizers.values())


def token_budget(catalog: ModelCatalog, project_root: Path) -> TokenBudget:
    ensure_torchvision_importable()
    from transformers import AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # "sequence longer than max length" is expected when counting
    text_models = [m for m in catalog.models if m.family == "sentence-transformers"]
    tokenizers, unavailable = {}, {}
    for spec in text_models:
        try:
            source, local = resolve_weights(spec, project_root)
            tokenizers[spec.id] = AutoTokenizer.from_pretrained(source, local_files_only=local)
        except (ModelUnavailable, OSError, ValueError) as exc:
            unavailable[spec.id] = str(exc).splitlines()[0]
    if not tokenizers:
        raise ModelUnavailable(f"no tokenizer of the catalog's text models could be loaded: {unavailable}")
    max_tokens = min(m.max_seq_length for m in text_models if m.id in tokenizers)
    return TokenBudget(max_tokens=max_tokens, tokenizers=tokenizers, unavailable=unavailable)
