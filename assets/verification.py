"""Verification stage: a verifier trained here, and every claim checked against other papers."""

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from assets.extraction import paper_systems, question_subjects
from litsynth.embeddings import embed_cached
from litsynth import tables
from litsynth.models.text_encoder import selection_encoder
from litsynth.relations import RelationClaim, relation_rows
from litsynth.verify.verdicts import ClaimToVerify, verify_claims
from litsynth.verify.evidence import EvidenceRetriever, Passage
from litsynth.verify.verifiers import choose_verifier
from litsynth.warehouse import empty_frame, replace_rows
from assets.checks import suite_check
from assets.automation import DOWNSTREAM, VERIFIED_DOWNSTREAM
from assets.metadata import table_metadata
from assets.partitions import question_partitions
from assets.resources import Project

GROUP = "verification"


@asset(
    group_name=GROUP,
    kinds={"pytorch", "safetensors"},
    description=(
        "A 3-way claim verifier (supports / contradicts / not enough evidence): the packaged MiniLM's upper layers "
        "pretrained on NLI stance (stage 1), fine-tuned as a cross-encoder on SciFact-format claims (stage 2), calibrated by "
        "temperature scaling on held-out claims, scored on a validation split never trained on, versioned under var/; "
        "a version shipped in models/verifier/ with the same inputs is reused, not retrained."
    ),
)
def verifier_model(context: AssetExecutionContext, project: Project) -> MaterializeResult:
    from litsynth.verify.scifact_source import locate_training_data
    from litsynth.verify.stance_pretraining import configured_stage
    from litsynth.verify.train import Recipe, train_verifier

    settings = project.settings()
    if not settings.verifier.train:
        return MaterializeResult(metadata={"status": "training disabled (setting verifier.train is false): verifications use the shipped or baseline verifier"})
    verifier = settings.verifier
    data = locate_training_data(settings.path(verifier.claims), settings.path(verifier.corpus), verifier.source_url, settings.path(verifier.download_dir))
    if not data.found:
        context.log.warning(f"{data.origin}; verifications use the transparent baseline")
        return MaterializeResult(metadata={"status": "no training data: verifications use the baseline", "training_data": data.origin})
    context.log.info(f"verifier training data: {data.origin}")
    stance = configured_stage(settings)
    if stance is not None and not stance.folder.is_dir():
        context.log.warning(f"NLI folder {stance.folder} not found: training without stage 1 (stance pretraining); set verifier.nli_dir to it")
        stance = None
    report = train_verifier(
        data.claims, data.corpus, settings.path(verifier.model_dir), Recipe(backbone=verifier.backbone), stance,
        settings=settings, shipped_dir=settings.shipped_verifier_dir,
    )
    card = report.card
    validation = card.get("validation", {})
    return MaterializeResult(
        metadata={
            "status": "reused" if report.reused else "trained",
            "training_data": data.origin,
            "version": report.version,
            "path": MetadataValue.path(str(report.path)),
            "validation": MetadataValue.json(validation),
            "calibration": MetadataValue.json(card.get("calibration", {})),
            "evidence_selector": MetadataValue.json(card.get("selector", {})),
            "stance": MetadataValue.json(card.get("stance", {})),
            "cross_encoder": MetadataValue.json(card.get("cross_encoder", {})),
            "best_epoch": card.get("training", {}).get("best_epoch"),
            "stage1": MetadataValue.json({k: v for k, v in (card.get("stage1") or {}).items() if k != "development_nll_by_epoch"}),
            "split": MetadataValue.json({k: v for k, v in card.get("split", {}).items() if not k.endswith("_claim_ids")}),
        }
    )


@asset(
    partitions_def=question_partitions,
    automation_condition=VERIFIED_DOWNSTREAM,
    group_name=GROUP,
    kinds={"duckdb", "pytorch"},
    deps=["claims", "chunks", "claim_entities", "verifier_model"],
    description=(
        "Every claim with a label, a calibrated confidence, the independent evidence passage (other papers only) and the "
        "reason; a claim about a specific system counts only evidence about that system. Plus a grounding verdict."
    ),
)
def verifications(context: AssetExecutionContext, project: Project) -> MaterializeResult:
    settings = project.settings()
    question_id = context.partition_key
    encoder = selection_encoder(settings)
    choice = choose_verifier(settings, encoder)
    verifier_name = f"trained:{choice.verifier.version}" if hasattr(choice.verifier, "version") else "baseline"
    context.log.info(f"verifier: {choice.reason}")
    with project.connect() as con:
        passages = [Passage(chunk_id, paper_id, text) for chunk_id, paper_id, _, _, text, _ in tables.question_chunks(con, question_id)]
        source = {p.passage_id: p.text for p in passages}
        systems = paper_systems(con, question_id)
        subjects = question_subjects(con, question_id)
        claims = [
            ClaimToVerify(claim_id, paper_id, text, source[chunk_id], subjects[claim_id])
            for claim_id, paper_id, text, chunk_id, *_ in tables.question_claims(con, question_id)
        ]
        rows = empty_frame("verifications")
        if claims:  # claims come from chunks, so there are passages too
            vectors, _ = embed_cached(con, encoder, [p.text for p in passages])
            retriever = EvidenceRetriever(passages, encoder, passage_vectors=vectors)
            try:
                rows = verify_claims(
                    question_id, claims, retriever, choice.verifier, encoder, verifier_name=verifier_name, paper_systems=systems
                )
            finally:
                retriever.close()
        replace_rows(con, "verifications", rows, {"question_id": question_id})
        metadata = table_metadata(con, "verifications", rows.sort("confidence", descending=True), ["label", "confidence", "grounding", "evidence_text"])
    labels = dict(rows.group_by("label").len().iter_rows())
    return MaterializeResult(
        metadata={
            **metadata,
            "verifier": verifier_name,
            "verifier_choice": choice.reason,
            "labels": MetadataValue.json(labels),
            "with_evidence": int(rows["evidence_text"].is_not_null().sum()),
            "grounding": MetadataValue.json(dict(rows.group_by("grounding").len().iter_rows())),
            "claim_scopes": MetadataValue.json(dict(rows.group_by("claim_scope").len().iter_rows())),
        }
    )


@asset(
    partitions_def=question_partitions,
    automation_condition=DOWNSTREAM,
    group_name=GROUP,
    kinds={"duckdb", "python"},
    deps=["verifications", "claim_entities"],
    description=(
        "Claims of different papers that corroborate or conflict with each other, or report different results on the "
        "same benchmark: from the figures they state (same system, benchmark and metric) and from the verifier's evidence."
    ),
)
def claim_relations(context: AssetExecutionContext, project: Project) -> MaterializeResult:
    question_id = context.partition_key
    with project.connect() as con:
        subjects = question_subjects(con, question_id)
        claims = tables.question_claims(con, question_id)
        in_chunk: dict[str, list[str]] = {}
        for claim_id, _, _, chunk_id, *_ in claims:
            in_chunk.setdefault(chunk_id, []).append(claim_id)
        verdicts = tables.question_verdicts(con, question_id)
        related = [RelationClaim(claim_id, paper_id, text, subjects[claim_id]) for claim_id, paper_id, text, *_ in claims]
        rows = relation_rows(question_id, related, verdicts, in_chunk)
        replace_rows(con, "claim_relations", rows, {"question_id": question_id})
        metadata = table_metadata(con, "claim_relations", rows, ["relation", "shared_entity", "benchmark", "claim_quantity", "other_quantity"])
    return MaterializeResult(metadata={**metadata, "relations": MetadataValue.json(dict(rows.group_by("relation").len().iter_rows()))})


claim_relations_expectations = suite_check("claim_relations", blocking=False)
