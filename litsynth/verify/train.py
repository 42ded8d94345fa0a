"""Train the verifier: a cross-encoder from the backbone's upper layers, 3-way per sentence, in two stages.

- model (:func:`build_cross_encoder`): the packaged all-MiniLM-L6-v2's lower layers run once
  per text (frozen, cached); its upper layers, copied and trained, read claim and sentence side
  by side; a linear layer classifies supported / contradicted / not enough evidence.
- stage 1 (:mod:`litsynth.verify.stance_pretraining`, when configured): stance from NLI pairs.
- stage 2: SciFact training claims: gold rationale sentences, hard NEI negatives from gold and
  retrieved abstracts, and contradiction rewrites of the claims (:func:`contradicting_rewrites`).
- splits: validation claims (hash of the claim id) only score the result; development claims
  (an independent hash of the training claims) pick the epoch, the temperature and the
  rationale weight; the evidence selector and the stance prior come from the training claims.
- a version is the content hash of the data files, the backbone weights and the recipe, so
  the same inputs give the same version, reused (here or shipped) unless ``retrain=True``.

Why each choice, and what the earlier recipes measured: ``bench/EXPERIMENTS.md``.
"""

from __future__ import annotations

import json
import logging
import math
import re
import shutil
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from litsynth.claims import lexical_relevance
from litsynth.config import DEFAULT_TEXT_MODEL, Settings
from litsynth.datafiles import DataFormatError
from litsynth.ids import content_id, sha256_hex
from litsynth.models.text_encoder import selection_encoder
from litsynth.progress import Progress, heartbeat
from litsynth.verify.evidence import DIRECTION_PAIRS, EVIDENCE_K, Hit, is_negated
from litsynth.verify.scifact_data import Abstract, SciFactClaim
from litsynth.verify.stance_pretraining import StancePairs, StanceStage, frozen_embedding_baseline, label_array, stance_pairs
from litsynth.verify.scifact_eval import (
    corpus_retriever,
    cross_fitted,
    label_only_interval,
    load_labelled,
    Scored,
    retrieval_recall,
    retrieve,
    score_predictions,
    split_claims,
    to_predictions,
    tune_gate,
    verify_hits,
)
from litsynth.verify.verifiers import (
    CARD_FILE,
    FROZEN_LAYERS,
    CONTRADICTED,
    LABELS,
    MODEL_FILE,
    NEI,
    SUPPORTED,
    SELECTOR_FEATURES,
    BaselineVerifier,
    EvidenceSelector,
    Gate,
    PairInputs,
    RATIONALE_COSINE_WEIGHTS,
    RetrievalSignal,
    TokenEncoder,
    TrainedVerifier,
    backbone_source,
    build_cross_encoder,
    head_logits,
    import_torch,
    rationale_scores,
    sentence_outputs,
    softmax,
    weights_hash,
)

log = logging.getLogger(__name__)

RECIPE = 10  # bump when pair building or the model changes, so old versions are not reused
NEGATIVE_DOCS = 5  # retrieved abstracts per training claim searched for NEI sentences
GOLD_DOC_NEGATIVES = 2  # non-rationale sentences per gold abstract
OTHER_NEGATIVES = 3  # sentences from non-evidence abstracts per claim
ECE_BINS = 15

# --- contradiction augmentation -----------------------------------------------------------

_AUX_NOT = re.compile(r"\b(do|does|did|is|are|was|were|can|could|has|have|had|will|would|may|might|should|must) not\b", re.IGNORECASE)
_CANNOT = re.compile(r"\bcannot\b", re.IGNORECASE)
_NO = re.compile(r"\bno (\w)", re.IGNORECASE)
_AUX = re.compile(r"\b(is|are|was|were|can|could|will|would|may|might|should|must)\b(?! not)", re.IGNORECASE)
_HAS = re.compile(r"\b(has|have)\b(?! not)( \w+)?", re.IGNORECASE)
_LACK = re.compile(r"\b(lacks?)\b(?! of)")
# Third-person verbs common in biomedical claims: "regulates" -> "does not regulate".
_VERB = re.compile(
    r"\b((?:regulat|mediat|modulat|contribut|affect|requir|protect|correlat|predict|lead|play|control|"
    r"driv|bind|determin|limit|block|trigger|depend|confer|exhibit|produc|encod|alter|caus|activat|"
    r"possess|permit|interact|express|target|impair|stem|reach|involv|enabl|facilitat|attenuat|"
    r"maintain|restor|exacerbat|ameliorat|rescu|respond|improv|correspond|occur|associat|influenc)\w{0,2}?)"
    r"(?<!or)(?<!er)(?<!ion)(?<!ment)(?<!ing)(es|s)\b"
)
# Comparison verbs and adjectives of results sections, beyond the evidence cues' direction words;
# later pairs win where a word has two opposites ("improves" -> "degrades", not "worsens").
COMPARISON_PAIRS = (
    ("outperforms", "underperforms"), ("outperform", "underperform"), ("outperformed", "underperformed"),
    ("improves", "degrades"), ("improve", "degrade"), ("improved", "degraded"), ("better", "worse"),
    ("superior", "inferior"), ("best", "worst"), ("faster", "slower"), ("rises", "falls"), ("rose", "fell"),
    ("beneficial", "harmful"), ("benefits", "harms"), ("strengthens", "weakens"), ("stronger", "weaker"),
)
_SWAPS = {a: b for up, down in (*DIRECTION_PAIRS, *COMPARISON_PAIRS) for a, b in ((up, down), (down, up))}
_SWAP = re.compile(r"\b(" + "|".join(sorted(map(re.escape, _SWAPS), key=len, reverse=True)) + r")\b", re.IGNORECASE)
_NUMBER = r"[-+]?\d+(?:[.,]\d+)?"
# "from 23.8 to 24.3", "23.8 % vs. 24.3 %", "12 versus 15": two quantities whose order carries the claim.
_QUANTITIES = re.compile(rf"\b(from\s+)({_NUMBER})(\s*%?\s+to\s+)({_NUMBER})|(?<![\w.])({_NUMBER})(\s*%?\s+(?:vs\.?|versus)\s+)({_NUMBER})(?![\w.])", re.IGNORECASE)


def _same_case(word: str, like: str) -> str:
    return word.capitalize() if like[:1].isupper() else word


def _base_form(stem: str, ending: str) -> str:
    """"regulat"+"es" -> "regulate", "reach"+"es" -> "reach", "play"+"s" -> "play"."""
    if ending == "es" and not stem.endswith(("ss", "ch", "sh", "x", "z")):
        return stem + "e"
    return stem


def _negate_have(m: re.Match) -> str:
    """"has remained" -> "has not remained" (perfect tense), "has three" -> "does not have three"."""
    following = m.group(2) or ""
    if following.endswith(("ed", "en")):
        return m.group(1) + " not" + following
    return _same_case("does" if m.group(1).lower() == "has" else "do", m.group(1)) + " not have" + following


def _substitution(pattern: re.Pattern, replace: Callable[[re.Match], str]) -> Callable[[str], str | None]:
    """A rewrite rule: the claim with ``pattern``'s first match replaced, or None without a match."""
    def rule(claim: str) -> str | None:
        rewritten, n = pattern.subn(replace, claim, count=1)
        return rewritten if n else None

    return rule


swap_direction = _substitution(_SWAP, lambda m: _same_case(_SWAPS[m.group(1).lower()], m.group(1)))
swap_direction.__doc__ = """The first direction or comparison word turned round ("improves" -> "degrades",
"outperforms" -> "underperforms", "increases" -> "reduces"), or None."""


def flip_quantities(claim: str) -> str | None:
    """The first ordered pair of quantities swapped ("from 23.8 to 24.3" -> "from 24.3 to 23.8",
    "70% vs 80%" -> "80% vs 70%"), or None; equal quantities flip to nothing."""
    match = _QUANTITIES.search(claim)
    if match is None or len({g for g in match.group(2, 4, 5, 7) if g is not None}) < 2:
        return None
    if match.group(1) is not None:
        swapped = match.group(1) + match.group(4) + match.group(3) + match.group(2)
    else:
        swapped = match.group(7) + match.group(6) + match.group(5)
    return claim[: match.start()] + swapped + claim[match.end() :]


# negate_claim's rules, first that fits: drop a negation ("does not X" -> "does X", "no effect"
# -> "an effect", "lacks" -> "has"), turn the first direction word round, negate the first
# auxiliary ("is" -> "is not", "has" -> "does not have") or a listed verb ("regulates" -> "does not regulate").
_NEGATION_RULES = (
    _substitution(_AUX_NOT, lambda m: m.group(1)),
    _substitution(_CANNOT, lambda m: _same_case("can", m.group(0))),
    _substitution(_NO, lambda m: _same_case("an" if m.group(1).lower() in "aeiou" else "a", m.group(0)) + " " + m.group(1)),
    _substitution(_LACK, lambda m: _same_case("has" if m.group(1).lower() == "lacks" else "have", m.group(1))),
    swap_direction,
    _substitution(_AUX, lambda m: m.group(1) + " not"),
    _substitution(_HAS, _negate_have),
    _substitution(_VERB, lambda m: "does not " + _base_form(m.group(1), m.group(2))),
)


def negate_claim(claim: str) -> str | None:
    """The claim saying the opposite by the first rule of :data:`_NEGATION_RULES` that fits, or None."""
    return next((rewritten for rewritten in (rule(claim) for rule in _NEGATION_RULES) if rewritten), None)


def contradicting_rewrites(claim: str) -> list[str]:
    """Every distinct rewrite of the claim that says the opposite: its negation
    (:func:`negate_claim`) and, unless the claim is negated ("does not reduce" and "does not
    increase" can both hold), its first direction word turned round and its quantities flipped."""
    rewrites = (negate_claim(claim),) if is_negated(claim) else (negate_claim(claim), swap_direction(claim), flip_quantities(claim))
    return [r for r in dict.fromkeys(rewrites) if r is not None and r != claim]


# --- training pairs -----------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingPair:
    claim: str
    sentence: str
    label: str  # one of LABELS
    augmented: bool = False


_FLIP = {SUPPORTED: CONTRADICTED, CONTRADICTED: SUPPORTED}


def _most_claim_like(claim: str, sentences: Sequence[str], n: int) -> list[str]:
    scores = lexical_relevance(claim, list(sentences))
    order = sorted(range(len(sentences)), key=lambda i: -scores[i])
    return [sentences[i] for i in order[:n]]


def claim_pairs(claim: SciFactClaim, corpus: Mapping[str, Abstract], hits: Sequence[Hit], *, augment: bool) -> list[TrainingPair]:
    """Labelled (claim, sentence) pairs for one claim (recipe: module docstring)."""
    gold: list[TrainingPair] = []
    negatives: list[TrainingPair] = []
    for doc_id, rationales in claim.evidence.items():
        abstract = corpus[doc_id]
        cited = sorted(set().union(*(r.sentences for r in rationales)))
        gold += [TrainingPair(claim.claim, abstract.sentences[i], claim.gold_label(doc_id)) for i in cited if i < len(abstract.sentences)]
        others = [s for i, s in enumerate(abstract.sentences) if i not in cited]
        negatives += [TrainingPair(claim.claim, s, NEI) for s in _most_claim_like(claim.claim, others, GOLD_DOC_NEGATIVES)]
    other_docs = dict.fromkeys([h.passage.paper_id for h in hits] + [d for d in claim.cited_doc_ids if d in corpus])
    candidates = [s for d in other_docs if d not in claim.evidence for s in _most_claim_like(claim.claim, corpus[d].sentences, 1)]
    negatives += [TrainingPair(claim.claim, s, NEI) for s in _most_claim_like(claim.claim, candidates, OTHER_NEGATIVES)]
    pairs = gold + negatives
    for rewritten in contradicting_rewrites(claim.claim) if augment else ():
        pairs += [TrainingPair(rewritten, p.sentence, _FLIP[p.label], True) for p in gold]
        pairs += [TrainingPair(rewritten, p.sentence, NEI, True) for p in negatives[:1]]
    return pairs


# --- calibration --------------------------------------------------------------------------


def negative_log_likelihood(probabilities: np.ndarray, labels: np.ndarray) -> float:
    return float(-np.mean(np.log(np.clip(probabilities[np.arange(len(labels)), labels], 1e-12, 1.0))))


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS) -> float:
    """Mean |accuracy - confidence| over equal-width confidence bins, weighted by bin size."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    return float(sum(
        abs(correct[which == b].mean() - confidence[which == b].mean()) * (which == b).mean()
        for b in range(bins) if (which == b).any()
    ))


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The single temperature T minimising validation NLL of softmax(logits / T) (Guo et al., 2017)."""
    from scipy.optimize import minimize_scalar

    result = minimize_scalar(
        lambda log_t: negative_log_likelihood(softmax(logits, math.exp(log_t)), labels),
        bounds=(math.log(0.05), math.log(20.0)),
        method="bounded",
    )
    return float(math.exp(result.x))


def calibration_report(fit: tuple[np.ndarray, np.ndarray], held_out: tuple[np.ndarray, np.ndarray]) -> dict:
    """Temperature fitted on ``fit`` (logits, labels); calibration error before and after,
    measured on ``held_out`` pairs the temperature never saw. No fit pairs: T = 1."""
    temperature = fit_temperature(*fit) if len(fit[1]) else 1.0
    logits, labels = held_out
    if not len(labels):
        return {"temperature": temperature, "fit_pairs": int(len(fit[1])), "pairs": 0}
    before, after = softmax(logits), softmax(logits, temperature)
    return {
        "temperature": temperature,
        "ece_before": expected_calibration_error(before, labels),
        "ece_after": expected_calibration_error(after, labels),
        "nll_before": negative_log_likelihood(before, labels),
        "nll_after": negative_log_likelihood(after, labels),
        "fit_pairs": int(len(fit[1])),
        "pairs": int(len(labels)),
    }


def sentence_metrics(logits_or_predicted: np.ndarray, labels: np.ndarray) -> dict:
    """Accuracy, per-class F1 and recall, and macro-F1 of a 3-way classifier on labelled pairs
    (logits, or predicted class indices)."""
    predicted = logits_or_predicted.argmax(axis=1) if logits_or_predicted.ndim == 2 else logits_or_predicted
    f1, recall = {}, {}
    for index, label in enumerate(LABELS):
        tp = int(((predicted == index) & (labels == index)).sum())
        p, g = int((predicted == index).sum()), int((labels == index).sum())
        f1[label] = 2 * tp / (p + g) if p + g else 0.0
        recall[label] = tp / g if g else 0.0
    return {"pairs": int(len(labels)), "accuracy": float((predicted == labels).mean()) if len(labels) else 0.0,
            "f1": f1, "recall": recall, "macro_f1": float(np.mean(list(f1.values())))}


# --- training -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingReport:
    version: str
    path: Path
    card: dict
    reused: bool
    model: object = None  # the in-memory classifier when trained in this call

    @property
    def validation_f1(self) -> float:
        return self.card["validation"]["trained"]["abstract_label_only"]["f1"]


def length_batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator, pool: int = 16) -> list[list[int]]:
    """Shuffled mini-batches of pairs of similar length: a random order cut into pools of
    ``pool`` batches, each pool sorted by length and cut into batches, the batches shuffled.
    Every pair appears once; padding (wasted compute) shrinks."""
    order = rng.permutation(len(lengths))
    batches = []
    for start in range(0, len(order), batch_size * pool):
        chunk = order[start : start + batch_size * pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i : i + batch_size].tolist() for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def fine_tune(head, inputs: PairInputs, labels: np.ndarray, options: Mapping, development: tuple[PairInputs, np.ndarray], *, what: str) -> dict:
    """Class-weighted cross-entropy, AdamW, shuffled mini-batches, early stopping: the head
    keeps the weights of the epoch with the lowest NLL on the development pairs (held out of
    training, never the validation split), and stops after ``patience`` epochs without a new low.
    ``options``: seed, epochs, patience, batch_size, learning_rate, backbone_learning_rate,
    weight_decay, max_steps. Each epoch logs its progress (``what``)."""
    import copy

    torch = import_torch()
    torch.manual_seed(options["seed"])
    rng = np.random.default_rng(options["seed"])
    target = torch.from_numpy(labels)
    counts = torch.bincount(target, minlength=len(LABELS)).clamp(min=1).float()
    loss_fn = torch.nn.CrossEntropyLoss(weight=len(labels) / (len(LABELS) * counts))
    optimizer = torch.optim.AdamW(head.parameter_groups(options["backbone_learning_rate"], options["learning_rate"]), weight_decay=options["weight_decay"])
    steps, losses, development_nll, started = 0, [], [], time.monotonic()
    best_state, best_epoch, lengths, max_steps = copy.deepcopy(head.state_dict()), 0, inputs.lengths(), options["max_steps"]
    for epoch in range(1, options["epochs"] + 1):
        if max_steps is not None and steps >= max_steps:
            break
        head.train()
        batches = length_batches(lengths, options["batch_size"], rng)
        progress = Progress(f"{what}, epoch {epoch}/{options['epochs']}", len(batches), unit="batches")
        for batch in batches:
            if max_steps is not None and steps >= max_steps:
                break
            loss = loss_fn(head(*inputs.batch(batch)), target[batch])
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            losses.append(loss.item())
            steps += 1
            progress.update(advance=1)
        if not len(development[1]):
            best_state, best_epoch = copy.deepcopy(head.state_dict()), epoch
            continue
        development_nll.append(negative_log_likelihood(softmax(head_logits(head, development[0])), development[1]))
        log.info("%s, epoch %d: train loss %.3f, development NLL %.3f", what, epoch, np.mean(losses[-50:]), development_nll[-1])
        if development_nll[-1] <= min(development_nll):
            best_state, best_epoch = copy.deepcopy(head.state_dict()), epoch
        elif epoch - best_epoch >= options["patience"]:
            break
    head.load_state_dict(best_state)
    head.eval()
    return {
        "pairs": int(len(labels)), "steps": steps, "seconds": time.monotonic() - started, "best_epoch": best_epoch,
        "first_loss": losses[0] if losses else None, "final_loss": float(np.mean(losses[-50:])) if losses else None,
        "development_nll_by_epoch": development_nll,
    }


def _label_counts(pairs: Sequence[TrainingPair]) -> dict[str, int]:
    counts = Counter(p.label for p in pairs)
    return {label: counts[label] for label in LABELS}


def _validate(claims, corpus, hits, verifier) -> tuple[Gate, dict]:
    """Open-retrieval metrics on validation claims at the gate tuned on those claims (an
    optimistic figure, for the baseline), plus the cross-fitted estimate."""
    scored = verify_hits(claims, hits, corpus, verifier)
    gate, _ = tune_gate(claims, scored, corpus)
    metrics = score_predictions(claims, to_predictions(scored, corpus, gate))
    return gate, {**metrics, "gate": asdict(gate), "cross_fitted": cross_fitted(claims, scored, corpus)}


def selector_rows(claims: Sequence[SciFactClaim], corpus: Mapping[str, Abstract], hits: Mapping[int, list[Hit]], token_encoder: TokenEncoder):
    """(features, is gold evidence, claim id) per retrieved (claim, abstract)."""
    features, gold, groups = [], [], []
    progress = Progress("evidence-selector features", len(claims), unit="claims")
    for claim in claims:
        claim_vector = token_encoder.embed([claim.claim])[0]
        for hit, signal in zip(hits[claim.id], RetrievalSignal.from_hits(hits[claim.id])):
            sentences = corpus[hit.passage.paper_id].sentences or (corpus[hit.passage.paper_id].title,)
            best = float((token_encoder.embed(list(sentences)) @ claim_vector).max())
            features.append(EvidenceSelector.features(signal, best))
            gold.append(hit.passage.paper_id in claim.evidence)
            groups.append(claim.id)
        progress.update(advance=1)
    return np.array(features, dtype=np.float64), np.array(gold, dtype=bool), np.array(groups)


def _evidence_f1(chosen: np.ndarray, gold: np.ndarray, gold_total: int) -> float:
    """Abstract-level F1 of choosing abstracts as evidence, stance aside."""
    correct, predicted = int((chosen & gold).sum()), int(chosen.sum())
    return 2 * correct / (predicted + gold_total) if predicted + gold_total else 0.0


def fit_selector(features: np.ndarray, gold: np.ndarray, groups: np.ndarray, gold_total: int) -> tuple[EvidenceSelector, dict]:
    """Logistic regression and its threshold (best out-of-fold evidence F1), from training claims
    only. Features are standardised before the (L2-regularised) fit, so the penalty treats
    cosines and shares alike; the scaling is folded back into the saved weights."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def model():
        return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=5000))

    if not (gold.any() and not gold.all()):
        raise ValueError("the selector needs retrieved abstracts that are evidence and ones that are not; use more training claims")
    out_of_fold = np.zeros(len(gold))
    folds = min(5, len(set(groups.tolist())))
    if folds >= 2:
        for fit_index, held_index in GroupKFold(n_splits=folds).split(features, gold, groups):
            if len(set(gold[fit_index].tolist())) < 2:
                out_of_fold[held_index] = gold[fit_index].mean()
                continue
            out_of_fold[held_index] = model().fit(features[fit_index], gold[fit_index]).predict_proba(features[held_index])[:, 1]
    candidates = np.round(np.arange(0.05, 0.951, 0.025), 3)
    threshold = float(max(candidates, key=lambda t: (_evidence_f1(out_of_fold >= t, gold, gold_total), t)))
    fitted = model().fit(features, gold)
    scaler, regression = fitted[0], fitted[1]
    weights = regression.coef_[0] / scaler.scale_
    selector = EvidenceSelector(tuple(float(w) for w in weights), float(regression.intercept_[0] - weights @ scaler.mean_), threshold)
    report = {
        "features": list(SELECTOR_FEATURES), "weights": list(selector.weights), "bias": selector.bias, "threshold": threshold,
        "training_abstracts": int(len(gold)), "training_evidence_abstracts": int(gold.sum()),
        "out_of_fold_evidence_f1": _evidence_f1(out_of_fold >= threshold, gold, gold_total),
        "out_of_fold_roc_auc": float(roc_auc_score(gold, out_of_fold)) if folds >= 2 else None,
    }
    return selector, report


def selector_validation(selector: EvidenceSelector, features: np.ndarray, gold: np.ndarray, gold_total: int) -> dict:
    """The selector on validation abstracts: separation, evidence F1 and calibration."""
    from sklearn.metrics import roc_auc_score

    probability = selector.probabilities(features)
    two_class = np.stack([1.0 - probability, probability], axis=1)
    return {
        "abstracts": int(len(gold)), "evidence_abstracts": int(gold.sum()),
        "roc_auc": float(roc_auc_score(gold, probability)) if gold.any() and not gold.all() else None,
        "retrieval_cosine_roc_auc": float(roc_auc_score(gold, features[:, 0])) if gold.any() and not gold.all() else None,
        "evidence_f1": _evidence_f1(probability >= selector.threshold, gold, gold_total),
        "ece": expected_calibration_error(two_class, gold.astype(np.int64)),
    }


def rationale_accuracy(head, token_encoder: TokenEncoder, temperature: float, claims: Sequence[SciFactClaim], corpus: Mapping[str, Abstract]) -> dict[float, float]:
    """Per candidate cosine weight (:data:`RATIONALE_COSINE_WEIGHTS`): the share of the claims'
    gold evidence abstracts whose best sentence by :func:`rationale_scores` is a gold rationale sentence."""
    abstracts = [
        (claim.claim, corpus[doc_id].sentences, set().union(*(r.sentences for r in rationales)))
        for claim in claims for doc_id, rationales in claim.evidence.items() if corpus[doc_id].sentences
    ]
    if not abstracts:
        return {}
    pairs = [(claim, sentence) for claim, sentences, _ in abstracts for sentence in sentences]
    probabilities, cosines = sentence_outputs(head, token_encoder, temperature, pairs)
    accuracy = {}
    for weight in RATIONALE_COSINE_WEIGHTS:
        hits, offset = 0, 0
        for _, sentences, gold in abstracts:
            window = slice(offset, offset + len(sentences))
            offset += len(sentences)
            hits += int(np.argmax(rationale_scores(probabilities[window], cosines[window], weight))) in gold
        accuracy[weight] = hits / len(abstracts)
    return accuracy


def fit_rationale_weight(development: dict[float, float], validation: dict[float, float]) -> dict:
    """The cosine weight with the best development accuracy (ties: the smaller weight; no
    development abstracts: 0, the head alone), and what it scores on validation."""
    weight = max(RATIONALE_COSINE_WEIGHTS, key=lambda w: (development.get(w, 0.0), -w)) if development else 0.0
    return {
        "cosine_weight": weight, "chosen_on": "development claims' gold evidence abstracts (top-1 sentence is a gold rationale)",
        "development_top1_accuracy": {str(w): a for w, a in development.items()},
        "validation_top1_accuracy": {str(w): a for w, a in validation.items()},
    }


def stance_prior_share(claims: Sequence[SciFactClaim]) -> dict:
    """The contradiction share that puts the corpus's stance prior back (a prior shift, Saerens
    et al., 2002): the class-weighted loss trains the model as if supported and contradicted
    were equally likely, so its stance odds are rescaled by the true prior odds, counted on the
    training claims' gold evidence abstracts. Contradicted when P(C)/P(S) > π_S/π_C, i.e. when
    P(C) > π_S/(π_S+π_C) of P(evidence). A rule, not a search: on 100 development claims the
    F1 by share was flat within noise (0.37-0.43 over 0.30-0.90 in the first recipe-7 run)."""
    labels = Counter(claim.gold_label(doc_id) for claim in claims for doc_id in claim.evidence)
    supported, contradicted = labels[SUPPORTED], labels[CONTRADICTED]
    share = (supported + 1) / (supported + contradicted + 2)  # add-one: a tiny set without one stance stays inside (0, 1)
    return {"contradiction_share": share, "rule": "prior shift: π_S / (π_S + π_C), add-one smoothed",
            "training_evidence_abstracts": {SUPPORTED: supported, CONTRADICTED: contradicted}}


def pretrain_stance(head, token_encoder: TokenEncoder, pairs: StancePairs, stage: StanceStage, *, seed: int, batch_size: int, weight_decay: float) -> dict:
    """Stage 1: the cross-encoder trained 3-way on the NLI training pairs, the epoch picked on
    the held-out slice; the report holds the held-out metrics."""
    encoded = {name: PairInputs.build(token_encoder, [(p.claim, p.sentence) for p in rows]) for name, rows in (("train", pairs.train), ("held_out", pairs.held_out))}
    held_out_labels = label_array(pairs.held_out)
    options = {
        "seed": seed, "epochs": stage.epochs, "patience": stage.patience, "batch_size": batch_size, "weight_decay": weight_decay,
        "learning_rate": stage.learning_rate, "backbone_learning_rate": stage.backbone_learning_rate, "max_steps": stage.max_steps,
    }
    report = fine_tune(head, encoded["train"], label_array(pairs.train), options, (encoded["held_out"], held_out_labels), what="stage 1 (NLI stance)")
    report["train_pairs_by_file"] = dict(Counter(p.source for p in pairs.train))
    report["held_out"] = sentence_metrics(head_logits(head, encoded["held_out"]), held_out_labels)
    return report


def stance_test_metrics(head, token_encoder: TokenEncoder, tests: Mapping[str, Sequence]) -> dict:
    """3-way metrics of the head on each NLI test file (never trained on)."""
    return {
        name: sentence_metrics(head_logits(head, PairInputs.build(token_encoder, [(p.claim, p.sentence) for p in rows])), label_array(rows))
        for name, rows in tests.items()
    }


def stance_on_gold_abstracts(claims: Sequence[SciFactClaim], scored: Mapping[int, list[Scored]], contradiction_share: float) -> dict:
    """Of the claims' retrieved gold evidence abstracts, the share whose stance the verifier gets
    right (its gate's stance rule, whether or not the selector labels the abstract), against
    always "supported"; and the share of contradicted ones it calls contradicted."""
    stance = Gate(min_evidence_probability=0.0, contradiction_share=contradiction_share)
    rows = [(claim.gold_label(row.doc_id), stance.label(row.verdict.probabilities, row.retrieval)) for claim in claims for row in scored[claim.id] if row.doc_id in claim.evidence]
    gold = Counter(g for g, _ in rows)
    return {
        "abstracts": len(rows), "gold": {label: gold[label] for label in (SUPPORTED, CONTRADICTED)},
        "accuracy": sum(g == p for g, p in rows) / len(rows) if rows else 0.0,
        "always_supported_accuracy": gold[SUPPORTED] / len(rows) if rows else 0.0,
        "contradiction_recall": sum(g == p == CONTRADICTED for g, p in rows) / gold[CONTRADICTED] if gold[CONTRADICTED] else 0.0,
    }


@dataclass(frozen=True)
class Recipe:
    """The SciFact stage's settings (stage 2; stage 1 is a :class:`StanceStage`); all of them enter the version."""

    backbone: str = DEFAULT_TEXT_MODEL
    seed: int = 13
    validation_fraction: float = 0.2
    epochs: int = 3  # recipe 9 kept epoch 2 (seed 13) and 4 (seed 14) of up to 8; stage 1 starts it nearer
    patience: int = 2
    development_fraction: float = 0.15
    batch_size: int = 32
    learning_rate: float = 1e-3
    backbone_learning_rate: float = 5e-5
    frozen_layers: int = FROZEN_LAYERS
    weight_decay: float = 0.01
    augment: bool = True
    max_claims: int | None = None
    max_steps: int | None = None
    retriever_k: int = EVIDENCE_K


def train_verifier(
    claims_path: Path,
    corpus_path: Path,
    out_dir: Path,
    recipe: Recipe = Recipe(),
    stance: StanceStage | None = None,
    *,
    settings: Settings,
    shipped_dir: Path | None = None,
    cache_path: Path | None = None,
    retrain: bool = False,
) -> TrainingReport:
    """Train (stage 1 on NLI when ``stance`` is given, stage 2 on SciFact), calibrate, gate
    and validate a verifier; save it as ``out_dir/<version>/``. A version already in
    ``out_dir`` or ``shipped_dir`` (committed with the project) is reused unless ``retrain``.
    ``settings`` give the catalog (backbone, evidence encoder) and, unless ``cache_path`` is
    given, the warehouse whose embedding cache holds the corpus vectors."""
    import_torch()  # before safetensors/transformers: see litsynth.models.torch_compat
    from safetensors.torch import save_file

    source = backbone_source(recipe.backbone, settings)
    hp = {
        **asdict(recipe), "recipe": RECIPE, "backbone_weights_sha256": weights_hash(source),
        "negative_docs": NEGATIVE_DOCS, "gold_doc_negatives": GOLD_DOC_NEGATIVES, "other_negatives": OTHER_NEGATIVES,
        "stage1": stance.recipe() if stance else None,
    }
    data = {"claims_sha256": sha256_hex(Path(claims_path).read_bytes()), "corpus_sha256": sha256_hex(Path(corpus_path).read_bytes())}
    stance_data = stance_pairs(stance) if stance else None
    if stance_data is not None:
        data["nli_sha256"] = stance_data.files_sha256
    version = content_id(json.dumps(data, sort_keys=True), json.dumps(hp, sort_keys=True))
    for folder in (Path(out_dir), *([Path(shipped_dir)] if shipped_dir else [])):
        if (folder / version / CARD_FILE).exists() and not retrain:
            return TrainingReport(version, folder / version, json.loads((folder / version / CARD_FILE).read_text(encoding="utf-8")), reused=True)
    target = Path(out_dir) / version

    started = time.monotonic()
    claims, corpus = load_labelled(claims_path, corpus_path)
    claims = claims[: recipe.max_claims]
    if not all(a.sentences_given for a in corpus.values()):
        raise DataFormatError(f"{corpus_path}: training reads gold rationale sentences by number, so it needs SciFact abstracts as sentence lists ('abstract'), not BEIR text")
    train_claims, validation_claims = split_claims(claims, recipe.validation_fraction)
    head_claims, development_claims = split_claims(train_claims, recipe.development_fraction, salt="scifact-development")
    encoder = selection_encoder(settings)
    retriever = corpus_retriever(corpus, encoder, cache_path or settings.warehouse_path)
    try:
        hits = retrieve(claims, retriever, max(NEGATIVE_DOCS, recipe.retriever_k))
    finally:
        retriever.close()
    train_pairs = [p for c in head_claims for p in claim_pairs(c, corpus, hits[c.id], augment=recipe.augment)]
    development_pairs = [p for c in development_claims for p in claim_pairs(c, corpus, hits[c.id], augment=False)]
    validation_pairs = [p for c in validation_claims for p in claim_pairs(c, corpus, hits[c.id], augment=False)]
    log.info("training pairs %s, development pairs %s, validation pairs %s", *map(_label_counts, (train_pairs, development_pairs, validation_pairs)))

    token_encoder = TokenEncoder(source, recipe.frozen_layers)
    head = build_cross_encoder(token_encoder.model, recipe.frozen_layers, recipe.seed)
    stages: dict = {"stage1": None}
    if stance_data is not None:
        stage_started = time.monotonic()
        stages["stage1"] = pretrain_stance(head, token_encoder, stance_data, stance, seed=recipe.seed, batch_size=recipe.batch_size, weight_decay=recipe.weight_decay)
        stages["stage1"]["seconds_with_encoding"] = time.monotonic() - stage_started

    stage_started = time.monotonic()
    train_inputs = PairInputs.build(token_encoder, [(p.claim, p.sentence) for p in train_pairs])
    development_inputs = PairInputs.build(token_encoder, [(p.claim, p.sentence) for p in development_pairs])
    development_labels = np.array([LABELS.index(p.label) for p in development_pairs], dtype=np.int64)
    validation_inputs = PairInputs.build(token_encoder, [(p.claim, p.sentence) for p in validation_pairs])
    validation_labels = np.array([LABELS.index(p.label) for p in validation_pairs], dtype=np.int64)
    log.info("encoded %d SciFact pairs (%.0f s)", len(train_pairs) + len(development_pairs) + len(validation_pairs), time.monotonic() - stage_started)
    train_labels = np.array([LABELS.index(p.label) for p in train_pairs], dtype=np.int64)
    training = fine_tune(head, train_inputs, train_labels, hp, (development_inputs, development_labels), what="stage 2 (SciFact)")
    training["seconds_with_encoding"] = time.monotonic() - stage_started
    half_precision(head)  # what is saved is what is measured

    validation_logits = head_logits(head, validation_inputs)
    has_validation = len(validation_labels) > 0
    calibration = calibration_report((head_logits(head, development_inputs), development_labels), (validation_logits, validation_labels))

    staging = Path(out_dir) / f".{version}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    save_file({k: v.half().contiguous() for k, v in head.state_dict().items()}, str(staging / MODEL_FILE))
    card = {
        "version": version,
        "weights_sha256": sha256_hex((staging / MODEL_FILE).read_bytes()),
        "weights_dtype": "float16",
        "backbone": {"id": recipe.backbone, "source": source, "weights_sha256": hp["backbone_weights_sha256"], "frozen_layers": recipe.frozen_layers},
        "cross_encoder": {
            "frozen_layers": recipe.frozen_layers, "trained_layers": len(head.layers),
            "trained_parameters": sum(p.numel() for p in head.parameters()),
        },
        "data": {**data, "claims_file": str(claims_path), "corpus_file": str(corpus_path), "nli_folder": str(stance.folder) if stance else None},
        "split": {
            "validation_fraction": recipe.validation_fraction, "train_claims": len(train_claims), "validation_claims": len(validation_claims),
            "development_fraction": recipe.development_fraction, "development_claims": len(development_claims),
            "development_claim_ids": [c.id for c in development_claims],
            "validation_claim_ids": [c.id for c in validation_claims],
            "train_pairs": _label_counts(train_pairs), "augmented_pairs": sum(p.augmented for p in train_pairs),
            "development_pairs": _label_counts(development_pairs),
            "validation_pairs": _label_counts(validation_pairs),
        },
        "hyperparameters": hp,
        "stage1": stages["stage1"],
        "training": training,
        "calibration": calibration,
        "validation_sentences": sentence_metrics(validation_logits, validation_labels) if has_validation else {},
    }
    if stance_data is not None:
        card["stage1"]["test_final"] = stance_test_metrics(head, token_encoder, stance_data.test)
        baseline = frozen_embedding_baseline(token_encoder, stance_data.train, stance_data.test)
        card["stage1"]["test_frozen_embedding_baseline"] = {name: sentence_metrics(baseline[name], label_array(rows)) for name, rows in stance_data.test.items()}

    train_hits, validation_hits = hits_at({c.id: hits[c.id] for c in train_claims}, recipe.retriever_k), hits_at(hits, recipe.retriever_k)
    gold_total = sum(len(c.evidence) for c in train_claims)
    selector_features = selector_rows(train_claims, corpus, train_hits, token_encoder)
    with heartbeat("evidence selector fit"):
        selector, card["selector"] = fit_selector(*selector_features, gold_total)
    card["selector"]["validation"] = selector_validation(
        selector, *selector_rows(validation_claims, corpus, validation_hits, token_encoder)[:2], sum(len(c.evidence) for c in validation_claims)
    )
    card["stance"] = stance_prior_share(train_claims)
    card["rationale"] = fit_rationale_weight(*(
        rationale_accuracy(head, token_encoder, calibration["temperature"], held_out, corpus) for held_out in (development_claims, validation_claims)
    ))
    (staging / CARD_FILE).write_text(json.dumps(card, indent=2), encoding="utf-8")
    trained = TrainedVerifier(staging, token_encoder=token_encoder)
    trained_scored = verify_hits(validation_claims, validation_hits, corpus, trained)
    trained_predictions = to_predictions(trained_scored, corpus)
    trained_metrics = {
        **score_predictions(validation_claims, trained_predictions),
        "abstract_label_only_f1_interval": label_only_interval(validation_claims, trained_predictions),
        "stance_on_retrieved_gold_abstracts": stance_on_gold_abstracts(validation_claims, trained_scored, trained.gate.contradiction_share),
    }
    _, baseline_tuned = _validate(validation_claims, corpus, validation_hits, BaselineVerifier(encoder))
    baseline_constant = score_predictions(
        validation_claims, to_predictions(verify_hits(validation_claims, validation_hits, corpus, BaselineVerifier(encoder)), corpus)
    )
    card["validation"] = {
        "retrieval_recall": retrieval_recall(validation_claims, validation_hits),
        "trained": trained_metrics,
        "baseline": baseline_tuned,
        "baseline_constant_gate": baseline_constant,
    }
    card["seconds"] = time.monotonic() - started
    (staging / CARD_FILE).write_text(json.dumps(card, indent=2), encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return TrainingReport(version, target, card, reused=False, model=head)


def half_precision(head) -> None:
    """Round the head's weights to float16 and back, in place: the saved (half-precision) model
    and the one in memory then give the same outputs."""
    head.load_state_dict({k: v.half().float() for k, v in head.state_dict().items()})


def hits_at(hits: Mapping[int, list[Hit]], k: int) -> dict[int, list[Hit]]:
    return {claim_id: rows[:k] for claim_id, rows in hits.items()}
