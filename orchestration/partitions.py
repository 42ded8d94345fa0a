"""Partitions: one per research question (dynamic) and one per catalog model (static)."""

from __future__ import annotations

from dagster import DynamicPartitionsDefinition, MultiPartitionsDefinition, StaticPartitionsDefinition

from litsynth.config import Settings, project_root

QUESTION_PARTITIONS_NAME = "question"

question_partitions = DynamicPartitionsDefinition(name=QUESTION_PARTITIONS_NAME)

# The catalog shipped with the project defines the model partitions of this code location.
model_partitions = StaticPartitionsDefinition(Settings(project_root=project_root()).catalog().ids)

question_model_partitions = MultiPartitionsDefinition({"question": question_partitions, "model": model_partitions})
