"""Sensors: new research questions and new papers flow in by themselves.

Each sensor keeps, as its cursor, the content hash of every file it has acted on, so the same
file never triggers twice; an edited file (new hash) triggers again. Downstream refreshes are
left to the assets' automation conditions (assets/automation.py), which the automation sensor
below evaluates (the daemon runs it while `litsynth ui` is up).
"""

import json

from dagster import (
    AssetKey,
    AssetSelection,
    AutomationConditionSensorDefinition,
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from litsynth.config import ConfigError
from litsynth.corpus import discover_files
from litsynth.ids import content_id, sha256_hex
from litsynth.safeio import UnreadableFile, printable, read_regular
from assets.partitions import QUESTION_PARTITIONS_NAME, question_partitions
from assets.resources import Project

QUESTION_KEYS = [AssetKey("questions"), AssetKey("question_files")]
CORPUS_KEYS = [AssetKey("documents"), AssetKey("papers"), AssetKey("prior_reports")]


def _fingerprint(path, max_bytes: int) -> str:
    """Content hash; a file ingestion will reject unread (oversized, a FIFO, a link, gone) by its reason."""
    try:
        return sha256_hex(read_regular(path, max_bytes=max_bytes, limit_name="ingest.max_file_bytes"))
    except UnreadableFile as exc:
        return f"unread:{exc}"


def _changed(previous: dict[str, str], current: dict[str, str]) -> list[str]:
    return sorted(name for name, digest in current.items() if previous.get(name) != digest)


@sensor(
    name="new_questions",
    minimum_interval_seconds=30,
    default_status=DefaultSensorStatus.RUNNING,
    asset_selection=QUESTION_KEYS,
    description="A new or edited questions/*.yaml adds its question partition and reloads the questions table.",
)
def new_questions(context: SensorEvaluationContext, project: Project):
    settings = project.settings()
    folder = settings.path(settings.questions_dir)
    try:
        files = settings.question_files()
    except ConfigError as exc:
        return SkipReason(str(exc))
    current = {f.path.name: f.sha256 or f"{f.status}:{f.reason}" for f in files}
    changed = _changed(json.loads(context.cursor or "{}"), current)
    if not changed:
        return SkipReason(f"no new or edited question file in {folder}")
    cursor = json.dumps(current, sort_keys=True)
    for rejected in (f for f in files if f.status == "rejected"):
        # The others still load; the fix changes this file's hash and triggers again.
        context.log.warning(printable(f"question file rejected: {rejected.path.name}: {rejected.reason}"))
    questions = [f.question for f in files if f.status == "loaded"]
    known = set(context.instance.get_dynamic_partitions(QUESTION_PARTITIONS_NAME))
    new_ids = [q.id for q in questions if q.id not in known]
    return SensorResult(
        run_requests=[RunRequest(run_key=f"questions-{content_id(cursor)}", asset_selection=QUESTION_KEYS)],
        dynamic_partitions_requests=[question_partitions.build_add_request(new_ids)] if new_ids else [],
        cursor=cursor,
    )


@sensor(
    name="new_papers",
    minimum_interval_seconds=30,
    default_status=DefaultSensorStatus.RUNNING,
    asset_selection=CORPUS_KEYS,
    description="New or changed files in corpus/inbox/ are ingested; automation then refreshes every affected question.",
)
def new_papers(context: SensorEvaluationContext, project: Project):
    settings = project.settings()
    inbox = settings.path(settings.ingest.inbox_dir)
    if not inbox.is_dir():
        return SkipReason(f"no inbox folder at {inbox} yet; create it (ingest.inbox_dir) and drop paper files there")
    current = {str(p.relative_to(inbox)): _fingerprint(p, settings.ingest.max_file_bytes) for p in discover_files([inbox])}
    changed = _changed(json.loads(context.cursor or "{}"), current)
    if not changed:
        return SkipReason(f"no new or changed file in {inbox}")
    cursor = json.dumps(current, sort_keys=True)
    context.log.info(f"ingesting {len(changed)} new or changed inbox file(s): {changed[:10]}")
    return SensorResult(
        run_requests=[RunRequest(run_key=f"inbox-{content_id(cursor)}", asset_selection=CORPUS_KEYS, tags={"litsynth/inbox_files": ",".join(changed)[:200]})],
        cursor=cursor,
    )


automation_sensor = AutomationConditionSensorDefinition(
    "litsynth_automation",
    target=AssetSelection.all(),
    default_status=DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Evaluates the assets' automation conditions: new partitions and changed inputs flow downstream.",
)

sensors = [new_questions, new_papers, automation_sensor]
