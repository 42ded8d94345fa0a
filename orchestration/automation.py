"""Declarative automation: what refreshes downstream when questions or papers change.

Every asset downstream of the corpus materialises eagerly: a new question partition is
"newly missing" and gets built, and a partition whose inputs were re-materialised is rebuilt.
The automation sensor evaluates these conditions (the daemon runs it while `litsynth ui` is up).
"""

from dagster import AssetSelection, AutomationCondition, AutomationConditionSensorDefinition, DefaultSensorStatus

DOWNSTREAM = AutomationCondition.eager()

automation_sensor = AutomationConditionSensorDefinition(
    "litsynth_automation",
    target=AssetSelection.all(),
    default_status=DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Evaluates the assets' automation conditions: new partitions and changed inputs flow downstream.",
)

# Verifications use the best recorded verifier version, the shipped one included, so a verifier
# that was never trained here must not hold them back; a retrained verifier still refreshes them.
VERIFIED_DOWNSTREAM = DOWNSTREAM.replace(
    "any_deps_missing", AutomationCondition.any_deps_missing().ignore(AssetSelection.assets("verifier_model"))
)
