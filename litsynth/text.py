"""The canonical text of a paper, its sentences and its token-bounded chunks.

Every offset stored in the warehouse (chunks, claims, evidence spans) points into the string
that :func:`compose_paper_text` returns, so that string is built in exactly one place.

Sentence rules (:func:`split_sentences`), pure regex/rules, no model:

1. Lines. A blank line always ends a segment. A single newline ends a segment too (a heading
   or a title line is its own segment) unless it looks like a hard wrap: the line does not
   end a sentence (terminal punctuation other than an abbreviation's dot) and the next line
   starts with a lowercase letter, or the line ends with a continuation mark
   (``, ; : ( - – — / &``) or a word a sentence cannot end on ("the", "of", "and", ...); a
   line ending in an abbreviation ("e.g.") is a wrap; a next line that starts with a bullet
   or list marker ("-", "•", "1.", "(a)", "#") never is.
2. Inside a segment, a sentence ends at a run of ``. ! ? …`` (plus closing quotes and
   brackets) that is followed by whitespace, except when:
   the next character is lowercase (unless it starts a URL: "... below. https://...") or
   continuation punctuation (``, ; : ) ] }``), which also covers unknown abbreviations and
   "approx. ten" (the price: a sentence starting lowercase, "word2vec is ...", stays glued
   to the one before);
   the dot ends an abbreviation: a listed one ("e.g.", "i.e.", "et al.", "vs.", "cf.",
   "approx.", ...), a numbered one before a digit or "(" ("Fig. 3", "Eq. (7)", "No. 5"),
   a dotted initialism ("w.r.t.", "U.S."), or a single capital initial ("J. Smith");
   it lies inside inline math ``$...$`` or inside a matched bracket pair ("(see above. It)")
   no longer than 400 characters;
   the text so far is only an enumerator ("1.", "2.1.").
   Decimals, version strings and URLs never split because their dots are not followed by
   whitespace; a URL's final dot before a space does end the sentence.
3. Spans are stripped of surrounding whitespace; every non-whitespace character of the text
   lies in exactly one sentence.

Chunks (:func:`chunk_text`): sentences are packed greedily, in order, while the caller's token
counter applied to the exact chunk text stays within the budget. A sentence over the budget
is cut at word boundaries (a single word over it, at characters), so no chunk ever exceeds
the budget; ``overlap_sentences`` repeats trailing sentences of the previous chunk.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass

from litsynth.ids import content_id

# Words a sentence cannot end on: a line ending in one is wrapped, a "sentence" ending in one
# was cut off (litsynth.claims.is_complete_sentence uses the same list).
DANGLING_WORDS = (
    "a", "an", "the", "of", "to", "by", "with", "from", "than", "via", "into", "between",
    "and", "or", "nor", "but", "its", "their", "our", "this", "these", "those", "such",
    "whose", "e.g", "i.e", "vs", "cf",
)
# Dotted words that never end a sentence.
ABBREVIATIONS = (
    "e.g", "i.e", "al", "vs", "cf", "approx", "resp", "incl", "viz", "ca", "dr", "prof",
    "mr", "mrs", "jr", "sr",
)
# Dotted words that never end a sentence when a number follows ("Fig. 3", "Eq. (7)").
NUMBERED_ABBREVIATIONS = (
    "fig", "figs", "eq", "eqs", "sec", "secs", "sect", "tab", "no", "nos", "vol", "pp", "p",
    "ref", "refs", "ch", "thm", "def", "alg", "app", "art",
)

# A token counter, e.g. ``lambda t: len(tokenizer(t)["input_ids"])`` (special tokens included).
TokenCounter = Callable[[str], int]
MAX_PROTECTED_CHARS = 400  # longest math or bracketed span that may hold a sentence end

_CONTINUATION_END = (",", ";", ":", "(", "-", "–", "—", "/", "&")
_BULLET = re.compile(r"(?:[-*•·▪‣◦–—]|\d{1,3}[.)]|\([0-9a-zA-Z]{1,3}\)|#{1,6})(?:\s|$)")
# The lookbehind starts a match only at the first mark of a run, so a long run of dots is one
# match, not one attempt per dot (which made the scan quadratic).
_TERMINAL = re.compile(r"(?<![.!?…])[.!?…]+[\"'”’»)\]}]*(?=\s)")
_NO_SPLIT_BEFORE = ",;:)]}"
_MATH = re.compile(r"\$[^$]+\$")
_BRACKETS = {")": "(", "]": "[", "}": "{"}
_ENUMERATOR = re.compile(r"\s*\d{1,3}(?:\.\d{1,3})*\.")
_INITIALISM = re.compile(r"(?:[a-z]\.)+[a-z]")
_URL = re.compile(r"(?:https?://|www\.)", re.IGNORECASE)
_NEXT_CHAR = re.compile(r"\s*(\S)")
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Chunk:
    """A run of whole sentences of a paper text; ``text == paper_text[start:end]``."""

    start: int
    end: int
    text: str
    n_tokens: int


def compose_paper_text(title: str, abstract: str | None, full_text: str | None) -> str:
    """Title, blank line, abstract, blank line, full text (missing parts skipped).

    The title's whitespace is collapsed so that the first blank line always ends it
    (:func:`body_start` relies on that); the other parts are only stripped.
    """
    heading = " ".join(title.split())
    if not heading:
        raise ValueError("a paper text needs a title")
    parts = [heading] + [p.strip() for p in (abstract, full_text) if p and p.strip()]
    return "\n\n".join(parts)


def body_start(paper_text: str) -> int:
    """Offset where the abstract/full text of a composed paper text begins (len if none)."""
    cut = paper_text.find("\n\n")
    return len(paper_text) if cut < 0 else cut + 2


def chunk_id(paper_id: str, chunk: Chunk) -> str:
    """The warehouse id of a chunk: content-addressed, so re-runs never collide."""
    return content_id(paper_id, str(chunk.start), str(chunk.end), chunk.text)


def whitespace_token_count(text: str) -> int:
    """A tokenizer-free token count: whitespace-separated words."""
    return len(text.split())


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _line_spans(text: str) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for line in text.split("\n"):
        spans.append((pos, pos + len(line)))
        pos += len(line) + 1
    return spans


def _is_wrap(line: str, next_line: str) -> bool:
    """Whether the newline between two non-blank lines is a hard wrap inside a sentence."""
    head, tail = next_line.lstrip(), line.rstrip()
    if _BULLET.match(head):
        return False
    last_word = tail.rsplit(None, 1)[-1]
    if last_word.endswith((".", "!", "?")):  # a sentence end, unless the dot ends "e.g."
        return last_word.endswith(".") and _is_abbreviation(last_word[:-1], head[0])
    continued = tail.endswith(_CONTINUATION_END) or last_word.lower() in DANGLING_WORDS
    return head[0].islower() or continued


def _blocks(text: str) -> list[tuple[int, int]]:
    """Line groups that no sentence crosses (rule 1)."""
    blocks: list[tuple[int, int]] = []
    previous = None
    for start, end in _line_spans(text):
        line = text[start:end]
        if not line.strip():
            previous = None
            continue
        if previous is not None and _is_wrap(text[previous[0] : previous[1]], line):
            blocks[-1] = (blocks[-1][0], end)
        else:
            blocks.append((start, end))
        previous = (start, end)
    return blocks


def bracket_pairs(text: str) -> tuple[list[tuple[int, int]], int]:
    """Positions of matched ``() [] {}`` pairs, and how many brackets found no partner."""
    pairs: list[tuple[int, int]] = []
    stack: list[tuple[str, int]] = []
    unmatched = 0
    for i, ch in enumerate(text):
        if ch in "([{":
            stack.append((ch, i))
        elif ch in _BRACKETS:
            if stack and stack[-1][0] == _BRACKETS[ch]:
                pairs.append((stack.pop()[1], i))
            else:
                unmatched += 1
    return pairs, unmatched + len(stack)


def _protected(block: str) -> tuple[list[int], list[int]]:
    """Offsets strictly inside inline math or a matched bracket pair, where no sentence ends,
    as disjoint half-open ranges (starts, ends) for :func:`_is_protected`.

    Only spans up to ``MAX_PROTECTED_CHARS`` count: a stray "$" or "(" must not pair with
    one paragraphs away and swallow every sentence in between.
    """
    spans = [(m.start(), m.end() - 1) for m in _MATH.finditer(block)] + bracket_pairs(block)[0]
    starts: list[int] = []
    ends: list[int] = []
    for lo, hi in sorted((lo + 1, hi) for lo, hi in spans if 1 < hi - lo <= MAX_PROTECTED_CHARS):
        if ends and lo <= ends[-1]:
            ends[-1] = max(ends[-1], hi)
        else:
            starts.append(lo)
            ends.append(hi)
    return starts, ends


def _is_protected(protected: tuple[list[int], list[int]], offset: int) -> bool:
    starts, ends = protected
    i = bisect.bisect_right(starts, offset) - 1
    return i >= 0 and offset < ends[i]


def _token_before(block: str, pos: int) -> str:
    start = pos
    while start > 0 and not block[start - 1].isspace():
        start -= 1
    return block[start:pos]


def _is_abbreviation(token: str, next_char: str) -> bool:
    word = token.lstrip("([{\"'“‘").lower()
    if word in ABBREVIATIONS or _INITIALISM.fullmatch(word):
        return True
    if word in NUMBERED_ABBREVIATIONS and (next_char.isdigit() or next_char == "("):
        return True
    return len(word) == 1 and token[-1].isupper() and next_char.isupper()  # "J. Smith"


def _ends_sentence(block: str, sentence_start: int, match: re.Match, protected: tuple[list[int], list[int]]) -> bool:
    """Rule 2 for one run of terminal punctuation."""
    following = _NEXT_CHAR.match(block, match.end())
    if not following or following.group(1) in _NO_SPLIT_BEFORE:
        return False
    if following.group(1).islower() and not _URL.match(block, following.start(1)):
        return False
    last = match.end() - 1
    if _is_protected(protected, last):
        return False
    if match.group().startswith(".") and not match.group().startswith(".."):
        token = _token_before(block, match.start())
        if token and _is_abbreviation(token, following.group(1)):
            return False
    return not _ENUMERATOR.fullmatch(block, sentence_start, match.end())


def _split_block(text: str, start: int, end: int) -> list[tuple[int, int]]:
    block = text[start:end]
    protected = _protected(block)
    spans, cursor = [], 0
    for match in _TERMINAL.finditer(block):
        if _ends_sentence(block, cursor, match, protected):
            spans.append((cursor, match.end()))
            cursor = match.end()
    spans.append((cursor, len(block)))
    stripped = (_strip_span(text, start + s, start + e) for s, e in spans)
    return [(s, e) for s, e in stripped if s < e]


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans ``(start, end)`` with ``text[start:end]`` the stripped sentence."""
    return [span for block in _blocks(text) for span in _split_block(text, *block)]


def _last_fitting(lo: int, hi: int, fits: Callable[[int], bool]) -> int:
    """The largest ``k`` in ``[lo, hi]`` with ``fits(k)``, given ``fits(lo)`` and that fitting
    only stops once (token counts grow with the text): galloping, then bisection, so a long
    run costs O(log n) counts per piece instead of one count per word or character."""
    step = 1
    while lo + step <= hi and fits(lo + step):
        lo, step = lo + step, step * 2
    top = min(lo + step, hi + 1)  # does not fit (or is past hi)
    while top - lo > 1:
        mid = (lo + top) // 2
        lo, top = (mid, top) if fits(mid) else (lo, mid)
    return lo


def _split_long(
    text: str, start: int, end: int, max_tokens: int, count: TokenCounter
) -> list[tuple[int, int]]:
    """Cut a span that exceeds the budget at word boundaries (characters for a huge word)."""
    words = [(m.start(), m.end()) for m in _WORD.finditer(text, start, end)]
    pieces: list[tuple[int, int]] = []
    i = 0
    while i < len(words):
        first = words[i][0]
        if count(text[first : words[i][1]]) > max_tokens:
            pieces.extend(_split_chars(text, first, words[i][1], max_tokens, count))
            i += 1
            continue
        last = _last_fitting(i, len(words) - 1, lambda j: count(text[first : words[j][1]]) <= max_tokens)
        pieces.append((first, words[last][1]))
        i = last + 1
    return pieces


def _split_chars(
    text: str, start: int, end: int, max_tokens: int, count: TokenCounter
) -> list[tuple[int, int]]:
    pieces, piece_start = [], start
    while count(text[piece_start:end]) > max_tokens:
        if count(text[piece_start : piece_start + 1]) > max_tokens:
            raise ValueError(f"max_tokens={max_tokens} is below the count of one character")
        stop = _last_fitting(piece_start + 1, end - 1, lambda k: count(text[piece_start:k]) <= max_tokens)
        pieces.append((piece_start, stop))
        piece_start = stop
    pieces.append((piece_start, end))
    return pieces


def _units(text: str, max_tokens: int, count: TokenCounter) -> list[tuple[int, int]]:
    """Sentences, with any sentence over the budget replaced by its word-boundary pieces."""
    units: list[tuple[int, int]] = []
    for start, end in split_sentences(text):
        if count(text[start:end]) <= max_tokens:
            units.append((start, end))
        else:
            units.extend(_split_long(text, start, end, max_tokens, count))
    return units


def chunk_text(
    text: str,
    *,
    max_tokens: int,
    count_tokens: TokenCounter,
    overlap_sentences: int = 0,
) -> list[Chunk]:
    """Greedy packing of whole sentences into chunks of at most ``max_tokens`` tokens.

    Counts are taken on the exact chunk text (tokenizers are not additive: special tokens,
    merges across the joining whitespace). With ``overlap_sentences=k`` each chunk after the
    first repeats up to k trailing units of the previous one, as many as fit the budget.
    """
    if max_tokens < 1:
        raise ValueError("max_tokens must be at least 1")
    units = _units(text, max_tokens, count_tokens)

    def fits(first: int, last: int) -> bool:
        return count_tokens(text[units[first][0] : units[last][1]]) <= max_tokens

    chunks: list[Chunk] = []
    first = 0
    while first < len(units):
        last = first
        while last + 1 < len(units) and fits(first, last + 1):
            last += 1
        span = text[units[first][0] : units[last][1]]
        chunks.append(Chunk(units[first][0], units[last][1], span, count_tokens(span)))
        if last + 1 == len(units):
            break
        first = max(last + 1 - overlap_sentences, first + 1)
        while first < last + 1 < len(units) and not fits(first, last + 1):
            first += 1
    return chunks
