"""Complete, typed claims with parsed numbers, and prior-report claims matched to their source.

Claim types (:func:`classify_claim`; the first rule that fires wins; cues are
case-insensitive regexes kept in ``_RULES``):

1. ``definition``: "is defined as", "refers to", "we define", "is called/termed/known as",
   "denoted by".
2. ``limitation``: a sentence opening with a contrast ("However", "But", "Yet", "Although",
   "Unfortunately", ...) that carries a negative cue ("fails", "cannot", "struggles",
   "limited", "lacks", "suffers", "bottleneck", "prone to", "expensive", "faces challenges";
   not right after "without"/"no"/"not").
3. ``comparison``: "outperforms", "surpasses", "compared to/with", "relative to",
   "better/faster/higher/more X than", "superior to", "comparable to", "on par with",
   "versus", "over the strong/standard/existing baselines | state of the art".
4. ``result``: a finding verb after a finding subject ("we show", "results indicate",
   "experiments demonstrate", "testing validates", "we prove/identify"), a passive finding
   ("is demonstrated"), a change verb with a number ("improve by 7.1%", "change of -6.7",
   "improved ... from 23.8"), "achieves", "reaches", "yields", "results in", or a parsed
   number with a unit, a metric or a from/to.
5. ``limitation``: a negative cue without a contrast opener.
6. ``dataset``: a dataset/corpus/benchmark introduced, built or described ("a new dataset
   of", "the benchmark contains").
7. ``method``: the authors acting ("we ..."), "this paper/work", "our approach/model/...",
   "X is a <adjectives> method/model/framework", "is trained/evaluated on/in ...",
   "X introduces/integrates/employs/addresses ...".
8. ``dataset``: none of the above, but a count of items ("38,000 ... triplets").
9. ``background``: anything else (context, motivation); not kept as a claim.

Quantities (:func:`parse_quantities`): a number is a quantity when it stands alone (not part
of a name such as "R@1", "ViT-B/32", "iNat24", "top-1", "Oxford+1M"), and is not a citation
"[12]", an enumerator "(1)", a reference ("Table 2", "Eq. 7"), a date, a year or one end of a
range "2-5". Units: "%", "x" (from "x", "×", "times"), "points". Scales K/M/B/thousand/
million/billion multiply the value; "~", "+" and "-" signs are read ("-6.7" is negative). A
number followed (within three words or a bracketed group) by a countable noun is a count
(``counted``, no metric). "from A to B" is one quantity with ``value == to_value``. The metric
is the nearest metric named right after the number ("8.1% in p-MRR", "1.05 ROUGE-2 F1
points") or else right before it ("nDCG@10 of 38.7", "(MRR@10: +36.7%)"), with at most four
digit-free words and no comma or bracket between; numbers listed together ("~10% and ~7.7%
improvements in top-1") share it. The dataset is the nearest one named after the number in
the same clause, else the nearest before, else the nearest after; the model is the nearest
one named before, else the nearest after in the same clause. Known gap: "respectively" lists
are not paired one to one.

Prior-report claims (:func:`match_prior_claim`): texts are compared as casefolded letters and
digits only, so case, spacing and punctuation lost by the report ("$P(P I, Q)$" for
"$P(P|I,Q)$") do not matter. A claim that reads as the paper text from some sentence start is
a "prefix" match (a claim cut mid-word still matches) and its span runs to the end of the
sentence in which the claim stops. Otherwise every sentence gets difflib's ratio over word
tokens (a claim that is not a complete sentence is compared, without its possibly cut last
word, with the sentence's opening of the same length); the best at or above
``FUZZY_THRESHOLD`` (0.75) is a "fuzzy" match. Claims under 12 letters/digits are not traced.
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Protocol, runtime_checkable

from litsynth.text import (
    DANGLING_WORDS,
    Chunk,
    body_start,
    bracket_pairs,
    chunk_id,
    content_id,
    split_sentences,
)

# --- vocabularies (data, not logic) -------------------------------------------------------

METRIC_PATTERNS = (
    r"(?i:R|P|Recall|Precision|nDCG|MRR|MAP|Hits|Hit|HR|Success|Acc)@(?:\d+|k)",  # any case: "recall@1" is "R@1"
    r"[Tt]op-(?:\d+|k|K)",
    r"ROUGE-(?:\d|L)(?: F1)?",
)
METRICS = (
    "p-MRR", "MRR", "nDCG", "NDCG", "mAP", "MAP", "F1", "BLEU", "METEOR", "CIDEr", "AUC", "CTR",
    "RSUM", "accuracy", "Accuracy", "recall", "Recall", "precision", "Precision", "exact match",
    "attack success rate", "success rate", "latency", "throughput",
    "speedup", "speed-up",
)
DATASETS = (
    "MSCOCO", "MS-COCO", "MS COCO", "COCO", "Flickr30K", "Flickr30k", "Flickr8K", "SBU", "BEIR",
    "MS MARCO", "MSMARCO", "TREC DL19", "TREC DL20", "TREC DL", "TREC-COVID", "DL19", "DL20",
    "SciFact", "NFCorpus", "FiQA", "HotpotQA", "Natural Questions", "TriviaQA", "MTEB", "MMTEB",
    "CMTEB", "MMEB", "BRIGHT", "FollowIR", "MultiHop-RAG", "LoTTE", "Revisited Oxford+1M",
    "Revisited Paris+1M", "Revisited Oxford", "Revisited Paris", "ROxford", "RParis",
    "CNN / Dailymail", "CNN/DailyMail", "CNN / DM", "NYT", "XSum", "Xsum", "iNat24", "INQUIRE",
    "ImageNet", "CIFAR-10", "CIFAR-100", "R2MED", "MIRACL", "LIMIT", "ViDoRe", "Jina-VDR",
)
MODEL_PATTERNS = (
    # "<Name>-<size>B/M[-suffix]": Mistral-7B, FollowIR-7B, Llama-2-7B-chat
    r"[A-Z][A-Za-z0-9.]*(?:-[A-Za-z0-9.]+)*-\d+(?:\.\d+)?[BM](?:-[A-Za-z]+)*",
)
MODELS = (
    "CLIP", "BLIP", "BLIP-2", "ViT-B/32", "ViT-B/16", "ViT-L/14", "ViT-H/14", "ViT-H", "ViT-G",
    "ViT-bigG", "e5-small-v2", "e5-base-v2", "e5-large-v2", "multilingual-e5-large-instruct",
    "BERT", "RoBERTa", "ModernBERT", "ModernBERT-base", "Sentence-BERT", "SBERT", "ColBERT",
    "ColBERTv2", "Qwen2.5-7B-Instruct", "GPT-3", "GPT-3.5", "GPT-4", "GPT-4o", "o3-mini", "BART",
    "T5", "BM25", "BM-25", "SPLADE", "DPR", "Contriever", "Promptriever", "InF-Embed",
    "all-MiniLM-L6-v2", "all-mpnet-base-v2", "jina-embeddings-v4", "SuperGlobal", "UniME-V2",
    "LLM-Embedder", "QZhou-Embedding", "Arctic Embed 2.0",
)
# Singular forms; plurals are derived (query -> queries, match -> matches).
COUNT_NOUNS = (
    "triplet", "pair", "query", "passage", "document", "image", "caption", "instruction",
    "parameter", "task", "language", "example", "sample", "paper", "claim", "model", "method",
    "variant", "dataset", "benchmark", "category", "match", "token", "annotation", "question",
    "user", "epoch", "layer", "dimension", "class", "label", "sentence", "article", "item",
    "product", "video", "entity", "citation", "author", "participant", "negative",
)
REFERENCE_WORDS = (
    "Table", "Tab.", "Figure", "Fig.", "Eq.", "Equation", "Section", "Sec.", "Appendix", "Step",
    "Chapter", "Algorithm", "Theorem", "Lemma", "Objective",
)
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December", "Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep",
    "Sept", "Oct", "Nov", "Dec",
)
SCALES = {"k": 10**3, "K": 10**3, "thousand": 10**3, "M": 10**6, "million": 10**6,
          "B": 10**9, "billion": 10**9, "trillion": 10**12}
# Sentences that are about artefacts, not findings ("Code is available at https://...").
BOILERPLATE = (
    r"^\W*(?:code|data|project page|homepage|demo)\b[^.]*:",
    r"^\W*(?:our )?(?:code|data|datasets?|models?|weights|implementation|project)\b"
    r"[^.]*\b(?:available|released)\b",
    r"\b(?:is|are|will be|has been|have been)\s+(?:made\s+)?(?:publicly\s+)?"
    r"(?:available|released)\b",
    r"\bwe (?:publicly )?(?:release|open-source|make)\b[^.]{0,300}"
    r"\b(?:code|codebase|data|weights|models?)\b",
    r"\bfor reproducibility\b",
    r"https?://|www\.",  # a link in a sentence points at an artefact, not at a finding
)
STOPWORDS = frozenset(
    "a an the of to in on for and or with by from at as is are was were be been can could do "
    "does how what which who whom whose why when where this that these those it its their our "
    "we you they than then there such into over under between without within across via vs "
    "not no more most less very also both each other any all some".split()
)
FUZZY_THRESHOLD = 0.75  # difflib token ratio a paraphrased prior claim must reach
MIN_MATCH_CHARS = 12  # letters/digits a prior claim needs before it is traced at all
MAX_CLAIM_CHARS = 3000  # a longer "sentence" is not one claim; it is neither extracted nor traced
SENTENCE_TOKENS_PER_CLAIM_TOKEN = 50  # sentences longer than this many times the claim cannot match it

# --- claim types --------------------------------------------------------------------------


class ClaimType(str, Enum):
    RESULT = "result"
    COMPARISON = "comparison"
    METHOD = "method"
    DEFINITION = "definition"
    LIMITATION = "limitation"
    DATASET = "dataset"
    BACKGROUND = "background"


_NEGATIVE = (
    r"(?<!without )(?<!no )(?<!not )\b(?:fail\w*|cannot|can ?not|unable|struggl\w*|suffer\w*|"
    r"lack\w*|limit(?:s|ed|ations?)|drawback\w*|bottleneck\w*|prone to|insufficient\w*|"
    r"inefficien\w*|impractical|vulnerab\w*|degrad\w*|costly|expensive|underexplored|"
    r"(?:face|pose)[sd]?\s+(?:\w+\s+){0,2}challenges?)\b"
)
_CONTRAST = (
    r"^\W*(?:however|but|yet|unfortunately|nevertheless|nonetheless|although|though|despite)\b"
)
_FINDING = (
    r"\b(?:we|results?|experiments?|evaluations?|analys[ie]s|findings?|stud(?:y|ies)|it|"
    r"test(?:s|ing)?|ablations?|comparisons?)\b"
    r"[^.]{0,80}?\b(?:show(?:s|ed|n)?|demonstrat\w*|find|finds|found|observ\w*|reveal\w*|"
    r"indicat\w*|confirm\w*|suggest\w*|validat\w*|verif\w*|prove[sn]?|identif\w*|"
    r"highlight\w*|point to)\b"
    r"|\b(?:is|are|was|were) (?:demonstrated|shown|validated|confirmed|verified)\b"
    r"|\b(?:improv|increas|reduc|decreas|boost|gain|drop|chang)\w*\b[^.]{0,60}?"
    r"\b(?:by|of|from|to)\s+(?:up to\s+)?[-+−~]?\d"
    r"|\b(?:achiev\w*|reach(?:es|ed)?|yield\w*|result(?:s|ed)? in)\b"
)
_ARTEFACT = (
    r"(?:method|model|framework|approach|system|architecture|pipeline|reranker|retriever|toolkit)"
)
_RULES = tuple(
    (kind, re.compile(pattern, re.IGNORECASE))
    for kind, pattern in (
        (ClaimType.DEFINITION,
         r"\b(?:is|are) (?:defined|formali[sz]ed|formulated) as\b|\brefers? to\b|\bwe define\b"
         r"|\b(?:is|are) (?:called|termed|known as)\b|\bdenoted (?:as|by)\b"),
        (ClaimType.LIMITATION, _CONTRAST + r".*" + _NEGATIVE),
        (ClaimType.COMPARISON,
         r"\b(?:outperform\w*|surpass\w*|compared (?:to|with)|in comparison (?:to|with)|"
         r"relative to|(?:better|worse|faster|slower|higher|lower|more \w+|less \w+) than|"
         r"superior to|inferior to|"
         r"comparable to|on par with|versus|vs\.)"
         r"|\bover (?:the )?(?:strong\w*|standard|competitive|existing|previous|prior|current)?"
         r"[\w\s-]{0,30}?\b(?:baselines?|state[- ]of[- ]the[- ]art)\b"),
        (ClaimType.RESULT, _FINDING),
        (ClaimType.LIMITATION, _NEGATIVE),
        (ClaimType.DATASET,
         r"\b(?:introduc|present|releas|construct|build|built|creat|collect|curat|propos)\w*\b"
         r"[^.]{0,60}?\b(?:dataset|corpus|benchmark|test set|testbed)s?\b"
         r"|\b(?:a|an) (?:new|novel)\b[^.]{0,40}\b(?:dataset|corpus|benchmark)\b"
         r"|\b(?:dataset|corpus|benchmark)\b[^.]{0,60}\b(?:consists? of|compris\w+|contain\w*)\b"),
        (ClaimType.METHOD,
         r"\bwe\b|\b(?:this (?:paper|work|study|report)|our " + _ARTEFACT + r")\b"
         r"|^\W*[\w-]+ is an? (?:[\w-]+ ){0,6}" + _ARTEFACT + r"\b"
         r"|\b(?:is|are|was|were) (?:trained|fine-tuned|built|based|initiali[sz]ed|optimi[sz]ed|"
         r"evaluated) (?:on|with|upon|using|in|via|by)\b"
         r"|\b(?:introduces|proposes|presents|involves|integrates|combines|employs|leverages|"
         r"utili[sz]es|uses|maps|addresses|supports|incorporates|generates|encodes)\b"),
    )
)


def _is_measure(q: Quantity) -> bool:
    return bool(q.unit or q.metric) or q.from_value is not None


def classify_claim(sentence: str) -> ClaimType:
    """The first rule (module docstring) whose cue the sentence carries."""
    quantities = parse_quantities(sentence)
    measured = any(_is_measure(q) for q in quantities)
    for kind, pattern in _RULES:
        if pattern.search(sentence) or (kind is ClaimType.RESULT and measured):
            return kind
    return ClaimType.DATASET if any(q.counted for q in quantities) else ClaimType.BACKGROUND


# --- quantities ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Quantity:
    """A number stated in a sentence; ``start``/``end`` are offsets into that sentence."""

    metric: str | None
    value: float
    unit: str | None  # "%", "x", "points" or None
    dataset: str | None
    model: str | None
    from_value: float | None
    to_value: float | None
    raw: str
    start: int
    end: int
    counted: str | None = None  # plural noun a count counts ("triplets", "parameters")


def _names(names: Sequence[str], patterns: Sequence[str] = ()) -> re.Pattern:
    """One regex for a vocabulary: longest name first, not inside a longer token."""
    literal = [re.escape(n) for n in sorted(names, key=len, reverse=True)]
    return re.compile(r"(?<![\w@-])(?:" + "|".join([*patterns, *literal]) + r")(?![\w@-])")


def _plural(noun: str) -> str:
    if noun.endswith("y"):
        return noun[:-1] + "ies"
    return noun + ("es" if noun.endswith(("s", "x", "ch", "sh")) else "s")


METRIC_RE = _names(METRICS, METRIC_PATTERNS)
DATASET_RE = _names(DATASETS)
MODEL_RE = _names(MODELS, MODEL_PATTERNS)
_PLURALS = {form: _plural(n) for n in COUNT_NOUNS for form in (n, _plural(n))}
_COUNTED = re.compile(
    r"(?:\s+(?:[\w-]+|<[^>]{0,80}>|\([^)]{0,80}\))){0,3}?\s+("
    + "|".join(sorted(_PLURALS, key=len, reverse=True))
    + r")\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(
    r"(?<![\w@^/.=,+\-−])(?P<sign>[~≈]|[-+−±](?=\d))?"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\+?"
    r"(?:\s?(?P<scale>thousand|million|billion|trillion)\b|(?P<suffix>[kKMB])(?![\w]))?"
    r"(?P<unit>%|\s?percent\b|[x×](?!\w)|\s?times\b|\s(?:percentage\s+)?points?\b)?"
    r"(?![\w@]|[-–]\d)"  # not a name part, not the start of a range "2-5"
)
_NOT_QUANTITY = re.compile(
    r"\[[\d,\s–-]{1,100}\]|\((?:\d{1,2}|[ivx]{1,4}|[a-z])\)"
    r"|(?:" + "|".join(re.escape(w) for w in REFERENCE_WORDS) + r")\s*\(?\d+(?:\.\d+)*"
    r"|\b(?:" + "|".join(MONTHS) + r")\.?\s+\d{1,2}\b"
)
_LIST_GAP = re.compile(r"\s*(?:,|,?\s*(?:and|or)|/)\s*")
_METRIC_AFTER_GAP = re.compile(r"\s*(?:[^\s,;\d()\[\]]+\s+){0,4}")
_METRIC_BEFORE_GAP = re.compile(r"\s*(?:[^\s,;\d)\]]+(?:\s+|$)){0,4}")
_FROM_TO = re.compile(r"\bfrom\s+$")
_FROM_TO_REACH = 64  # how far before a number "from" is looked for
_POINTS = re.compile(r"\s+(?:percentage\s+)?points?\b")
_CLAUSE_BREAK = re.compile(r"[,;]")
MAX_NUMBER_DIGITS = 40  # a longer digit run is not a measurement (and would not fit a float)
_TO_GAP = re.compile(r"\s+to\s+")


def _unit(match: re.Match) -> str | None:
    unit = (match.group("unit") or "").strip()
    if not unit:
        return None
    if unit in ("%", "percent"):
        return "%"
    return "points" if unit.endswith(("point", "points")) else "x"


def _value(match: re.Match) -> float:
    scale = SCALES.get(match.group("scale") or match.group("suffix") or "", 1)
    value = float(Decimal(match.group("num").replace(",", "")) * scale)
    return -value if match.group("sign") in ("-", "−") else value


def _is_year(match: re.Match, value: float) -> bool:
    plain = not (match.group("unit") or match.group("scale") or match.group("suffix"))
    return plain and "." not in match.group("num") and 1900 <= value <= 2100


@dataclass
class _Number:
    """A number being parsed; becomes a :class:`Quantity` once metric etc. are attached."""

    start: int
    end: int
    value: float
    unit: str | None
    counted: str | None
    from_value: float | None = None
    to_value: float | None = None
    metric: str | None = None


class _Spans:
    """Disjoint merged spans, asked "does [start, end) overlap any?" in O(log n)."""

    def __init__(self, spans: Sequence[tuple[int, int]]) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        for lo, hi in sorted(spans):
            if self.ends and lo < self.ends[-1]:
                self.ends[-1] = max(self.ends[-1], hi)
            else:
                self.starts.append(lo)
                self.ends.append(hi)

    def overlaps(self, start: int, end: int) -> bool:
        i = bisect.bisect_left(self.ends, start + 1)  # first span ending after start
        return i < len(self.starts) and self.starts[i] < end


def _raw_numbers(sentence: str, taken: _Spans) -> list[_Number]:
    """Free-standing numbers, with unit, value and any counted noun."""
    found = []
    for m in _NUMBER.finditer(sentence):
        if taken.overlaps(m.start(), m.end()) or len(m.group("num")) > MAX_NUMBER_DIGITS:
            continue
        unit, value = _unit(m), _value(m)
        counted = None if unit else _COUNTED.match(sentence, m.end())
        if _is_year(m, value) and not counted:
            continue
        noun = _PLURALS[counted.group(1).lower()] if counted else None
        found.append(_Number(m.start(), m.end(), value, unit, noun))
    return found


def _merge_from_to(sentence: str, numbers: list[_Number]) -> list[_Number]:
    """"from A to B" -> one quantity spanning the phrase, value B."""
    merged: list[_Number] = []
    for n in numbers:
        prev = merged[-1] if merged else None
        mergeable = prev is not None and prev.from_value is None
        head = _FROM_TO.search(sentence, max(prev.start - _FROM_TO_REACH, 0), prev.start) if mergeable else None
        if head and _TO_GAP.fullmatch(sentence, prev.end, n.start):
            n.start, n.from_value, n.to_value = head.start(), prev.value, n.value
            n.unit = n.unit or prev.unit
            merged[-1] = n
        else:
            merged.append(n)
    return merged


@dataclass
class _Mentions:
    """Name mentions in sentence order, found nearest to a position by bisection."""

    matches: list[re.Match]

    def __post_init__(self) -> None:
        self.starts = [m.start() for m in self.matches]
        self.ends = [m.end() for m in self.matches]


def _nearest(
    mentions: _Mentions, sentence: str, pos: int, *, after: bool, gap: re.Pattern | list[int] | None = None
) -> re.Match | None:
    """The closest mention after (or before) ``pos``, if the text between fits ``gap``: a
    pattern, or the sorted offsets of clause breaks (",", ";") that must not lie between."""
    if after:
        i = bisect.bisect_left(mentions.starts, pos)
        m = mentions.matches[i] if i < len(mentions.matches) else None
        lo, hi = (pos, m.start()) if m else (0, 0)
    else:
        i = bisect.bisect_right(mentions.ends, pos) - 1
        m = mentions.matches[i] if i >= 0 else None
        lo, hi = (m.end(), pos) if m else (0, 0)
    if m is None or gap is None:
        return m
    if isinstance(gap, list):
        return m if bisect.bisect_left(gap, lo) == bisect.bisect_left(gap, hi) else None
    return m if gap.fullmatch(sentence, lo, hi) else None


def _attach_metric(sentence: str, n: _Number, metrics: _Mentions) -> None:
    """Metric named right after the number ("8.1% in p-MRR", "1.05 ROUGE-2 F1 points"),
    else right before it ("nDCG@10 of 38.7"); counts have none."""
    if n.counted:
        return
    found = _nearest(metrics, sentence, n.end, after=True, gap=_METRIC_AFTER_GAP)
    if found and n.unit is None and _POINTS.match(sentence, found.end()):
        n.unit = "points"
    found = found or _nearest(metrics, sentence, n.start, after=False, gap=_METRIC_BEFORE_GAP)
    n.metric = _text(found)


def _share_metric_in_lists(sentence: str, numbers: list[_Number]) -> None:
    """Numbers joined by ",", "and", "or", "/" share the metric one of them found."""
    groups: list[list[_Number]] = []
    for n in numbers:
        if groups and _LIST_GAP.fullmatch(sentence, groups[-1][-1].end, n.start):
            groups[-1].append(n)
        else:
            groups.append([n])
    for group in groups:
        metric = next((n.metric for n in group if n.metric), None)
        for n in group:
            if not n.counted:
                n.metric = n.metric or metric


def _text(mention: re.Match | None) -> str | None:
    return mention.group() if mention else None


def _quantity(
    sentence: str, n: _Number, datasets: _Mentions, models: _Mentions, breaks: list[int]
) -> Quantity:
    dataset = (_nearest(datasets, sentence, n.end, after=True, gap=breaks)
               or _nearest(datasets, sentence, n.start, after=False)
               or _nearest(datasets, sentence, n.end, after=True))
    model = (_nearest(models, sentence, n.start, after=False)
             or _nearest(models, sentence, n.end, after=True, gap=breaks))
    return Quantity(
        metric=n.metric, value=n.value, unit=n.unit, dataset=_text(dataset), model=_text(model),
        from_value=n.from_value, to_value=n.to_value, raw=sentence[n.start : n.end],
        start=n.start, end=n.end, counted=n.counted,
    )


def parse_quantities(sentence: str) -> list[Quantity]:
    """Every stated number with its unit, metric, dataset and model (rules: module docstring)."""
    metrics, datasets, models = (
        _Mentions(list(p.finditer(sentence))) for p in (METRIC_RE, DATASET_RE, MODEL_RE)
    )
    taken = [m.span() for m in (*metrics.matches, *datasets.matches, *models.matches)]
    taken += [m.span() for m in _NOT_QUANTITY.finditer(sentence)]
    numbers = _merge_from_to(sentence, _raw_numbers(sentence, _Spans(taken)))
    for n in numbers:
        _attach_metric(sentence, n, metrics)
    _share_metric_in_lists(sentence, numbers)
    breaks = [m.start() for m in _CLAUSE_BREAK.finditer(sentence)]
    return [_quantity(sentence, n, datasets, models, breaks) for n in numbers]


# --- complete sentences -------------------------------------------------------------------

_CLOSERS = "\"'”’»)]}"
_END = re.compile(r"(?<![.!?])[.!?]+[" + re.escape(_CLOSERS) + r"]*$")


_OPENERS = "\"'“‘([$"  # a sentence may open with a quote, a bracket or inline math


def _starts_well(s: str) -> bool:
    """Upper case, a digit, an opener, or a lower-case identifier ("e5-base-v2", "iNat24",
    "p-MRR"); not markup such as "\\textbf{First}," or "*Method.*" (arXiv abstracts carry both).
    expectations/claims.json checks the same rule as a regex."""
    first = s[0]
    if first.isupper() or first.isdigit():
        return True
    if first.isalpha():
        word = s.split()[0]
        return any(ch.isdigit() or ch.isupper() for ch in word)
    return first in _OPENERS


def _ends_well(s: str) -> bool:
    end = _END.search(s)
    if not end or end.group().rstrip(_CLOSERS).count(".") > 1:  # "..." marks a cut
        return False
    stem = s[: end.start()].rstrip(_CLOSERS).split()
    last = stem[-1].lower().strip("\"'([{") if stem else ""
    return bool(last) and last not in DANGLING_WORDS and not last.endswith("-")


def _balanced(s: str) -> bool:
    """Brackets nest, and $ math, straight and curly double quotes all close."""
    dollars = len(re.findall(r"(?<!\\)\$", s))
    quotes_close = s.count('"') % 2 == 0 and s.count("“") == s.count("”")
    return bracket_pairs(s)[1] == 0 and dollars % 2 == 0 and quotes_close


def is_complete_sentence(text: str) -> bool:
    """A whole sentence: starts as a sentence can, ends with . ! ? (plus closers), balanced
    brackets, quotes and $ math, and does not stop on a word no sentence ends with."""
    s = text.strip()
    if not any(ch.isalpha() for ch in s):
        return False
    return _starts_well(s) and _ends_well(s) and _balanced(s)


# --- extraction ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ExtractedClaim:
    """A claim: a complete sentence of a paper with its type, numbers and source span."""

    claim_id: str
    paper_id: str
    chunk_id: str
    start: int
    end: int
    text: str  # == paper_text[start:end]
    claim_type: ClaimType
    quantities: list[Quantity]
    relevance: float


Relevance = Callable[[str, list[str]], list[float]]


@runtime_checkable
class ClaimExtractor(Protocol):
    """Anything that turns a paper into claims: the rule-based default, later an LLM."""

    def extract(
        self, paper_id: str, paper_text: str, chunks: Sequence[Chunk], question: str
    ) -> list[ExtractedClaim]: ...


def content_terms(text: str) -> set[str]:
    """Content words, crudely stemmed: plural "s" dropped, then cut to six characters."""
    words = re.findall(r"[a-z0-9]+(?:[-@][a-z0-9]+)*", text.lower())
    return {(w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w)[:6]
            for w in words if w not in STOPWORDS}


def lexical_relevance(question: str, texts: list[str]) -> list[float]:
    """Share of the question's content terms that each text contains, in [0, 1]."""
    wanted = content_terms(question)
    if not wanted:
        return [0.0] * len(texts)
    return [len(wanted & content_terms(t)) / len(wanted) for t in texts]


def _containing_chunk(chunks: Sequence[Chunk], start: int, end: int) -> Chunk:
    """The chunk holding the span (the one overlapping it most when a long sentence was cut).

    ``chunks`` are in text order, as chunk_text makes them (starts and ends ascending): they
    are searched by bisection, so a paper with many claims costs O(log n) chunks per claim.
    """
    lo = bisect.bisect_right(chunks, start, key=lambda c: c.end)
    hi = bisect.bisect_left(chunks, end, key=lambda c: c.start)
    nearby = chunks[lo:hi] if lo < hi else chunks
    best = max(nearby, key=lambda c: min(c.end, end) - max(c.start, start), default=None)
    if best is None or min(best.end, end) <= max(best.start, start):
        best = max(chunks, key=lambda c: min(c.end, end) - max(c.start, start), default=None)
    if best is None or min(best.end, end) <= max(best.start, start):
        raise ValueError(f"no chunk covers the claim span {start}:{end}")
    return best


def make_claim(
    paper_id: str,
    paper_text: str,
    start: int,
    end: int,
    chunks: Sequence[Chunk],
    relevance: float = 0.0,
) -> ExtractedClaim:
    """The one way to build a claim, so id, chunk, type and quantities stay consistent."""
    text = paper_text[start:end]
    return ExtractedClaim(
        claim_id=content_id(paper_id, str(start), str(end), text),
        paper_id=paper_id,
        chunk_id=chunk_id(paper_id, _containing_chunk(chunks, start, end)),
        start=start,
        end=end,
        text=text,
        claim_type=classify_claim(text),
        quantities=parse_quantities(text),
        relevance=relevance,
    )


_BOILERPLATE_RE = re.compile("|".join(BOILERPLATE), re.IGNORECASE)


@dataclass
class RuleBasedClaimExtractor:
    """Offline extractor: every complete, non-boilerplate body sentence that states a
    finding, comparison, method, dataset, definition or limitation (type not background).

    The title is skipped (it is a heading, not a claim); sentences shorter than
    ``min_words`` are skipped (headers, fragments), as are those over ``max_chars`` (run-on
    text without sentence ends, which no reader would take as one claim); ``relevance`` scores the kept sentences
    against the question and those below ``min_relevance`` are dropped.
    """

    relevance: Relevance = lexical_relevance
    min_words: int = 6
    min_relevance: float = 0.0
    max_chars: int = MAX_CLAIM_CHARS

    def _keeps(self, sentence: str) -> bool:
        return (
            len(sentence) <= self.max_chars
            and len(sentence.split()) >= self.min_words
            and is_complete_sentence(sentence)
            and not _BOILERPLATE_RE.search(sentence)
            and classify_claim(sentence) is not ClaimType.BACKGROUND
        )

    def extract(
        self, paper_id: str, paper_text: str, chunks: Sequence[Chunk], question: str
    ) -> list[ExtractedClaim]:
        body = body_start(paper_text)
        spans = [(s, e) for s, e in split_sentences(paper_text)
                 if s >= body and self._keeps(paper_text[s:e])]
        scores = self.relevance(question, [paper_text[s:e] for s, e in spans]) if spans else []
        return [
            make_claim(paper_id, paper_text, s, e, chunks, float(score))
            for (s, e), score in zip(spans, scores)
            if score >= self.min_relevance
        ]


# --- prior-report claims ------------------------------------------------------------------


@dataclass(frozen=True)
class PriorClaimMatch:
    """Where an imported claim comes from, or why it could not be traced."""

    claim_text: str
    matched: bool
    paper_id: str | None = None
    start: int | None = None
    end: int | None = None
    text: str | None = None  # the full source sentence(s), == paper_text[start:end]
    method: str | None = None  # "prefix" or "fuzzy"
    score: float = 0.0
    reason: str | None = None  # set when not matched


def _alnum(text: str) -> tuple[str, list[int]]:
    """Casefolded letters and digits only, with each one's offset in ``text``."""
    chars, offsets = [], []
    for i, ch in enumerate(text):
        for folded in ch.casefold():
            if folded.isalnum():
                chars.append(folded)
                offsets.append(i)
    return "".join(chars), offsets


def _tokens(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", text.casefold())


def _prefix_match(claim: str, paper_text: str, sentences: list[tuple[int, int]]):
    """A sentence start from which the paper text reads as the claim (ignoring case,
    spaces and punctuation); the span runs to the end of the sentence where the claim stops."""
    norm, offsets = _alnum(paper_text)
    starts = [s for s, _ in sentences]
    for s, _ in sentences:
        at = bisect.bisect_left(offsets, s)
        if norm.startswith(claim, at):
            last = offsets[at + len(claim) - 1]
            return s, sentences[bisect.bisect_right(starts, last) - 1][1]
    return None


def _fuzzy_score(claim_tokens: list[str], truncated: bool, sentence: str) -> float:
    """difflib ratio of token sequences; a truncated claim is held against the sentence's
    opening of the same length, without its (maybe cut) last token."""
    tokens = _tokens(sentence)
    if len(tokens) > SENTENCE_TOKENS_PER_CLAIM_TOKEN * max(len(claim_tokens), 1):
        return 0.0  # ratio under 2/51 anyway; difflib would take time quadratic in the sentence
    if truncated:
        claim_tokens = claim_tokens[:-1]
        tokens = tokens[: len(claim_tokens)]
    if not claim_tokens:
        return 0.0
    return difflib.SequenceMatcher(None, claim_tokens, tokens, autojunk=False).ratio()


def _unmatched_reason(
    best: tuple[float, str] | None,
    candidate_ids: list[str],
    source_ids: Collection[str],
    abstract_only: Collection[str],
    threshold: float,
) -> str:
    notes = [f"source paper {p} is not in the corpus" for p in source_ids if p not in candidate_ids]
    notes += [f"source paper {p} is in the corpus only as its abstract"
              for p in source_ids if p in candidate_ids and p in abstract_only]
    if best is None:
        notes.append("no candidate paper text given")
    else:
        notes.append(f"no sentence matches (best match score {best[0]:.2f} in paper {best[1]}, "
                     f"below {threshold:.2f})")
    return "; ".join(notes)


def match_prior_claim(
    claim_text: str,
    candidates: list[tuple[str, str]],
    *,
    source_ids: Collection[str] = (),
    abstract_only: Collection[str] = (),
    threshold: float = FUZZY_THRESHOLD,
) -> PriorClaimMatch:
    """Trace a (possibly truncated or paraphrased) prior-report claim to its full sentence.

    ``candidates`` are ``(paper_id, paper_text)``, the report's reference papers first:
    a prefix match in an earlier candidate wins, then the best fuzzy score (earlier wins
    ties). ``source_ids`` (the report's references) and ``abstract_only`` (papers known
    only by their abstract) only make the unmatched reason say which case it was.
    """
    if len(claim_text) > MAX_CLAIM_CHARS:
        return PriorClaimMatch(claim_text, False, reason=f"claim text too long to trace ({len(claim_text):,} characters)")
    claim, _ = _alnum(claim_text)
    if len(claim) < MIN_MATCH_CHARS:
        reason = f"claim text too short to trace ({len(claim)} letters/digits)"
        return PriorClaimMatch(claim_text, False, reason=reason)
    claim_tokens = _tokens(claim_text)
    truncated = not is_complete_sentence(claim_text)
    best: tuple[float, str, str, int, int] | None = None
    for paper_id, paper_text in candidates:
        sentences = split_sentences(paper_text)
        prefix = _prefix_match(claim, paper_text, sentences)
        if prefix:
            start, end = prefix
            return PriorClaimMatch(claim_text, True, paper_id, start, end, paper_text[start:end],
                                   "prefix", 1.0)
        for s, e in sentences:
            score = _fuzzy_score(claim_tokens, truncated, paper_text[s:e])
            if best is None or score > best[0]:
                best = (score, paper_id, paper_text, s, e)
    if best and best[0] >= threshold:
        score, paper_id, paper_text, start, end = best
        return PriorClaimMatch(claim_text, True, paper_id, start, end, paper_text[start:end],
                               "fuzzy", score)
    reason = _unmatched_reason(best[:2] if best else None, [p for p, _ in candidates],
                               source_ids, abstract_only, threshold)
    return PriorClaimMatch(claim_text, False, score=best[0] if best else 0.0, reason=reason)
