"""Automation conditions of the assets: what refreshes downstream when questions or papers change.

Every asset downstream of the corpus materialises eagerly: a new question partition is
"newly missing" and gets built, and a partition whose inputs were re-materialised is rebuilt.
The automation sensor (orchestration/sensors.py) evaluates these conditions.
"""

from dagster import AssetSelection, AutomationCondition

DOWNSTREAM = AutomationCondition.eager()

# Verifications use the best recorded verifier version, the shipped one included, so a verifier
# that was never trained here must not hold them back; a retrained verifier still refreshes them.
VERIFIED_DOWNSTREAM = DOWNSTREAM.replace(
    "any_deps_missing", AutomationCondition.any_deps_missing().ignore(AssetSelection.assets("verifier_model"))
)
