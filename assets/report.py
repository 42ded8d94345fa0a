"""Report stage: the grounded synthesis of each question, Markdown + HTML + leaderboard plot."""

from dagster import (
    AssetDep,
    AssetExecutionContext,
    MaterializeResult,
    MetadataValue,
    MultiToSingleDimensionPartitionMapping,
    asset,
)

from litsynth.report import load_report_data, quality_indicators, render_html, render_leaderboard_plot, render_markdown
from assets.partitions import question_partitions
from assets.resources import Project
from assets.automation import DOWNSTREAM

PER_QUESTION = MultiToSingleDimensionPartitionMapping(partition_dimension_name="question")


@asset(
    partitions_def=question_partitions,
    automation_condition=DOWNSTREAM,
    group_name="report",
    kinds={"markdown", "html"},
    deps=[
        "claims",
        "verifications",
        "claim_relations",
        "question_concepts",
        "prior_claim_matches",
        AssetDep("retrieval_metrics", partition_mapping=PER_QUESTION),
        AssetDep("embeddings", partition_mapping=PER_QUESTION),
    ],
    description="The question's report (var/reports/<question>/report.md and .html): the answer (concept coverage, the claims that bear most, conflicts) first, claims in full with verdicts, reasons and whole evidence, the model leaderboard, limitations from the data.",
)
def report(context: AssetExecutionContext, project: Project) -> MaterializeResult:
    settings = project.settings()
    question_id = context.partition_key
    folder = settings.path(settings.reports_dir) / question_id
    with project.connect() as con:
        data = load_report_data(con, question_id)
    plot = render_leaderboard_plot(data.leaderboard, folder / "leaderboard.png")
    markdown = render_markdown(data, plot_file=plot.name if plot else None)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.md").write_text(markdown, encoding="utf-8")
    images = {plot.name: plot.read_bytes()} if plot else {}
    (folder / "report.html").write_text(render_html(markdown, data.question["question"], images), encoding="utf-8")
    indicators = {k: v for k, v in quality_indicators(data).items() if v is not None}
    return MaterializeResult(
        metadata={
            "report": MetadataValue.md(markdown),
            "markdown_path": MetadataValue.path(str(folder / "report.md")),
            "html_path": MetadataValue.path(str(folder / "report.html")),
            **({"leaderboard_plot": MetadataValue.path(str(plot))} if plot else {}),
            "indicators": MetadataValue.json({k: (round(v, 4) if isinstance(v, float) else v) for k, v in indicators.items()}),
        }
    )
