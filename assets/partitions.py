"""Partitions: one per research question (dynamic) and one per catalog model (static).

The model partitions are the ids of the code location's catalog (``models.yaml`` of
:func:`assets.resources.location_project`), fixed when the location loads.
"""

from __future__ import annotations

from dagster import AssetExecutionContext, DynamicPartitionsDefinition, MultiPartitionKey, MultiPartitionsDefinition, StaticPartitionsDefinition

from assets.resources import location_project

QUESTION_PARTITIONS_NAME = "question"

question_partitions = DynamicPartitionsDefinition(name=QUESTION_PARTITIONS_NAME)
model_partitions = StaticPartitionsDefinition(location_project().settings().catalog().ids)
question_model_partitions = MultiPartitionsDefinition({"question": question_partitions, "model": model_partitions})


def question_and_model(context: AssetExecutionContext) -> tuple[str, str]:
    """The question id and model id of a question × model partition run."""
    key = context.partition_key
    assert isinstance(key, MultiPartitionKey), f"expected a question × model partition, got {key!r}"
    return key.keys_by_dimension["question"], key.keys_by_dimension["model"]
