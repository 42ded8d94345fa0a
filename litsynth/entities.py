"""What a claim is about: the systems, datasets and metrics it names, and whether a passage of
another paper is about the same system.

Rules (transparent, so a reader can predict every verdict they gate):

- **Mentions.** Metrics, datasets and known models are the vocabularies of
  :mod:`litsynth.claims`. Other systems are *name-shaped* tokens: letters mixed with digits
  plus a capital or a hyphen ("UniME-V2", "Qwen3-VL-Embedding", "jina-embeddings-v4"), an
  upper-case part joined to a capitalised one ("MM-Embed"), or a capital inside a word
  ("LLaVA", "CoCa"); datasets, metrics and ``NOT_SYSTEMS`` are never systems.
- **A paper's own systems** (:func:`own_systems`): the one-token names before the colon of
  its title ("UniME-V2: ..."; "A and B: ..." gives both), else the name right after "we
  propose / introduce / present ..." or "called / named / dubbed ..." in its text.
- **Self reference**: "we", "our", "us", "this paper / work / study", "the proposed".
- **Scope** (:func:`claim_subject`): ``own`` when the claim refers to itself or names its
  paper's own system (or dataset: "INQUIRE: A ... Benchmark") (it is then about those systems, *unnamed* when the paper gives no name);
  ``comparison`` when it names two or more other systems and compares them; ``named`` when it
  names other systems; else ``general``.
- **Evidence about the subject** (:func:`evidence_about`): for ``general`` and ``comparison``
  claims every passage counts, as before, when its evidence sentences state a finding (a
  sentence that only describes its own paper's work or context, typed ``method`` or
  ``background`` by :func:`litsynth.claims.classify_claim`, supports nothing general). For ``own`` and ``named`` claims a passage counts
  only when it names one of the claim's systems (as a system or a dataset), or refers to itself
  and its own paper's system is one of them; a claim about an unnamed contribution has no independent evidence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from litsynth.claims import DATASET_RE, METRIC_RE, MODEL_RE, ClaimType, classify_claim

Kind = Literal["system", "dataset", "metric"]
Scope = Literal["own", "named", "comparison", "general"]

# Name-shaped tokens that are tools, organisations or generic terms, not systems a claim is about.
NOT_SYSTEMS = frozenset(
    "github pytorch huggingface openai arxiv deepmind imagenet1k covid19 nvidia".split()
)
DATASET_ALIASES = {"mscoco": "coco"}
_TOKEN = re.compile(r"(?<![\w@/.-])[A-Za-z][A-Za-z0-9]*(?:[-.][A-Za-z0-9]+)*(?![\w@/-])")
_SELF = re.compile(
    r"\b(?:we|our|ours|us)\b|\bthis (?:paper|work|study|article|report)\b|\bthe proposed\b",
    re.IGNORECASE,
)
_INTRODUCES = re.compile(
    r"\b(?:we (?:propose|present|introduce|develop|release)|(?:called|named|dubbed|termed))\s+"
    r"(?:(?:a|an|the)\s+)?(?:(?:new|novel)\s+)?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Entity:
    kind: Kind
    name: str  # as written, or the paper's system a self-reference resolves to
    resolved_from: str | None = None  # the self-reference ("we", "our") it was resolved from

    @property
    def key(self) -> str:
        return entity_key(self.name)


@dataclass(frozen=True)
class ClaimSubject:
    """The claim's scope, the systems it is about, and every entity it names."""

    scope: Scope
    systems: tuple[str, ...]
    entities: tuple[Entity, ...]

    @property
    def is_specific(self) -> bool:
        """About particular systems, so only evidence on those systems counts."""
        return self.scope in ("own", "named")


def entity_key(name: str) -> str:
    """Casefolded letters and digits: "UniME-V2", "unime v2" and "UniMEV2" are one system."""
    return re.sub(r"[^0-9a-z]", "", name.casefold())


def canonical_key(kind: Kind, name: str) -> str:
    """:func:`entity_key` with the spellings of one dataset or metric merged ("MS-COCO" is
    "COCO", "R@1" is "Recall@1")."""
    key = entity_key(name)
    if kind == "metric":
        return re.sub(r"^r(?=\d)", "recall", key)
    return DATASET_ALIASES.get(key, key) if kind == "dataset" else key


def _name_shaped(token: str) -> bool:
    letters = sum(ch.isalpha() for ch in token)
    if len(token) < 3 or letters < 2 or entity_key(token) in NOT_SYSTEMS:
        return False
    if any(ch.isdigit() for ch in token):
        return any(ch.isupper() for ch in token) or "-" in token
    parts = token.split("-")
    if len(parts) > 1 and parts[0].isupper() and len(parts[0]) > 1 and parts[1][:1].isupper():
        return True
    return re.search(r"[a-z][A-Z]", token) is not None


def _spans(pattern: re.Pattern, text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group()) for m in pattern.finditer(text)]


def mentions(text: str, known_systems: Sequence[str] = ()) -> list[Entity]:
    """Metrics, datasets and systems named in ``text``, in order of appearance, each once.

    ``known_systems`` (e.g. every paper's own system) are recognised even when not name-shaped.
    """
    found: list[tuple[int, Entity]] = []
    taken: list[tuple[int, int]] = []
    for kind, spans in (("metric", _spans(METRIC_RE, text)), ("dataset", _spans(DATASET_RE, text))):
        for start, end, name in spans:
            found.append((start, Entity(kind, name)))
            taken.append((start, end))
    known = {entity_key(s) for s in known_systems}
    systems = _spans(MODEL_RE, text) + [
        (m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)
        if _name_shaped(m.group()) or entity_key(m.group()) in known
    ]
    for start, end, name in sorted(systems, key=lambda s: (s[0], -s[1])):
        if not any(s < end and start < e for s, e in taken):
            found.append((start, Entity("system", name)))
            taken.append((start, end))
    seen: set[tuple[str, str]] = set()
    unique = []
    for _, entity in sorted(found, key=lambda f: f[0]):
        if (entity.kind, entity.key) not in seen:
            seen.add((entity.kind, entity.key))
            unique.append(entity)
    return unique


def own_systems(title: str, text: str) -> tuple[str, ...]:
    """The systems a paper introduces (rule: module docstring); empty when it names none."""
    head, colon, _ = title.partition(":")
    if colon:
        names = [n.strip() for n in re.split(r"\s+(?:and|&)\s+|,\s*", head.strip())]
        if names and all(n and " " not in n for n in names):
            return tuple(names)
    for m in _INTRODUCES.finditer(text):
        token = _TOKEN.match(text, m.end())
        if token and (_name_shaped(token.group()) or MODEL_RE.fullmatch(token.group())):
            return (token.group(),)
    return ()


def refers_to_itself(text: str) -> str | None:
    """The self-reference of the text ("we", "our", "this paper"), if any."""
    m = _SELF.search(text)
    return m.group() if m else None


def claim_subject(text: str, own: Sequence[str], known_systems: Sequence[str] = ()) -> ClaimSubject:
    """Scope, systems and entities of a claim of a paper whose own systems are ``own``."""
    named = mentions(text, [*own, *known_systems])
    own_keys = {entity_key(s) for s in own}
    others = [e.name for e in named if e.kind == "system" and e.key not in own_keys]
    self_reference = refers_to_itself(text)
    if self_reference or any(e.key in own_keys for e in named):
        resolved = [Entity("system", s, self_reference) for s in own if entity_key(s) not in {e.key for e in named}]
        return ClaimSubject("own", tuple(own), (*named, *resolved) if self_reference else tuple(named))
    if len(others) >= 2 and classify_claim(text) is ClaimType.COMPARISON:
        return ClaimSubject("comparison", tuple(others), tuple(named))
    if others:
        return ClaimSubject("named", tuple(others), tuple(named))
    return ClaimSubject("general", (), tuple(named))


def passage_systems(text: str, own: Sequence[str], known_systems: Sequence[str] = ()) -> set[str]:
    """Keys of the systems (and datasets: a benchmark paper's contribution) a passage is about:
    those it names, and its paper's own when it refers to itself."""
    keys = {e.key for e in mentions(text, [*own, *known_systems]) if e.kind != "metric"}
    if refers_to_itself(text):
        keys |= {entity_key(s) for s in own}
    return keys


def evidence_about(subject: ClaimSubject, passage_keys: set[str], sentences: Sequence[str]) -> tuple[bool, str]:
    """Whether evidence ``sentences`` of a passage about ``passage_keys`` may count for or
    against the claim, and why (rule: module docstring)."""
    if not subject.is_specific:
        if all(classify_claim(s) in (ClaimType.METHOD, ClaimType.BACKGROUND) for s in sentences):
            return False, "the evidence sentence states no finding (it describes its own paper's work or context)"
        return True, f"{subject.scope} claim: a finding of any paper may bear on it"
    if not subject.systems:
        return False, "the claim is about its own paper's unnamed contribution; another paper cannot report on it"
    shared = [s for s in subject.systems if entity_key(s) in passage_keys]
    if shared:
        return True, f"the evidence is about {', '.join(shared)} too"
    return False, f"the evidence is not about {' / '.join(subject.systems)}"
