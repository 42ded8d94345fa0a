"""Dagster wiring: partitions, resources, checks, jobs, sensors, schedules and the Definitions."""
