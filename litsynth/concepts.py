"""The concepts of a research question and which papers and claims cover them.

Concepts (:func:`question_concepts`), in this order, each once (by content terms):

1. each keyword of the question's YAML (source ``keyword``);
2. each system, dataset and metric the question names (:func:`litsynth.entities.mentions`,
   source ``entity``);
3. each phrase of the question text: the runs of words between punctuation and stop words
   (``litsynth.claims.STOPWORDS`` plus ``QUESTION_STOPWORDS``), without trailing "-ly"
   adverbs, cut to their first ``MAX_PHRASE_WORDS`` words (source ``question``).

Coverage rule (:func:`coverage`): a text covers a concept when it holds every content term of
the concept (:func:`litsynth.claims.content_terms`, crude stems), or, for a concept that is a
named entity, when it names the same entity (:func:`litsynth.entities.canonical_key`: "Recall@1"
covers "R@1", "MS-COCO" covers "MSCOCO"). A paper covers it when its
title and text do; a claim when its sentence does. A concept no selected paper covers is "not
covered by the corpus".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from litsynth.claims import STOPWORDS, content_terms
from litsynth.entities import canonical_key, mentions
from litsynth.ids import content_id
from litsynth.warehouse import frame_schema

MAX_PHRASE_WORDS = 4
QUESTION_STOPWORDS = frozenset("can could would should will does do did e.g. i.e. etc versus".split())
CONCEPT_SCHEMA = frame_schema("question_concepts")
COVERAGE_SCHEMA = frame_schema("concept_coverage")
_WORD = re.compile(r"[\w@/.+-]+|[^\w\s]")


@dataclass(frozen=True)
class Concept:
    concept_id: str
    text: str
    source: str  # keyword, entity, question
    terms: frozenset[str]
    entity: tuple[str, str] | None = None  # (kind, canonical key) when the concept is one named entity


def _phrases(question: str) -> list[str]:
    phrases, run = [], []
    for token in _WORD.findall(question) + ["."]:
        word = token.strip(".").lower()
        if not word or token in ",;:?!()[]" or word in STOPWORDS or token.lower() in QUESTION_STOPWORDS or word in QUESTION_STOPWORDS:
            while run and run[-1].lower().endswith("ly"):
                run.pop()
            if run:
                phrases.append(" ".join(run[:MAX_PHRASE_WORDS]))
            run = []
        else:
            run.append(token.strip("."))
    return phrases


def question_concepts(question_id: str, question: str, keywords: Sequence[str]) -> list[Concept]:
    """The question's concepts (rules: module docstring)."""
    candidates = [(k, "keyword") for k in keywords]
    candidates += [(e.name, "entity") for e in mentions(question)]
    candidates += [(p, "question") for p in _phrases(question)]
    concepts, seen = [], set()
    for text, source in candidates:
        terms = frozenset(content_terms(text))
        if terms and terms not in seen:
            seen.add(terms)
            named = mentions(text)
            entity = (named[0].kind, canonical_key(named[0].kind, text)) if len(named) == 1 and named[0].name == text else None
            concepts.append(Concept(content_id(question_id, text.casefold()), text, source, terms, entity))
    return concepts


def covers(concept: Concept, text_terms: set[str], text_entities: set[tuple[str, str]]) -> bool:
    return concept.terms <= text_terms or concept.entity in text_entities


def concept_rows(question_id: str, concepts: Sequence[Concept]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {"question_id": question_id, "concept_id": c.concept_id, "position": i, "concept": c.text, "source": c.source, "terms": sorted(c.terms)}
            for i, c in enumerate(concepts)
        ],
        schema=CONCEPT_SCHEMA,
    )


def coverage(
    question_id: str,
    concepts: Sequence[Concept],
    papers: Sequence[tuple[str, str]],
    claims: Sequence[tuple[str, str, str]],
) -> pl.DataFrame:
    """Rows (concept, paper or claim) for every selected paper (id, title + text) and claim
    (id, paper id, text) that covers a concept."""
    rows = []
    for item_type, items in (("paper", [(pid, pid, text) for pid, text in papers]), ("claim", claims)):
        for item_id, paper_id, text in items:
            terms = content_terms(text)
            entities = {(e.kind, canonical_key(e.kind, e.name)) for e in mentions(text)}
            rows += [
                {"question_id": question_id, "concept_id": c.concept_id, "item_type": item_type, "item_id": item_id, "paper_id": paper_id}
                for c in concepts
                if covers(c, terms, entities)
            ]
    return pl.DataFrame(rows, schema=COVERAGE_SCHEMA)
