-- One row per step of the CLI's run plans (orchestration/run_plan.py) that last succeeded: the
-- fingerprint of what it read (code, settings, verifier versions, input tables). A step whose
-- fingerprint is unchanged is up to date and not run again by `litsynth run`.
CREATE TABLE IF NOT EXISTS plan_steps (
    job           VARCHAR NOT NULL,
    partition_key VARCHAR NOT NULL,           -- '' for an unpartitioned job
    fingerprint   VARCHAR NOT NULL,           -- sha256 hex
    seconds       DOUBLE NOT NULL,
    finished_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (job, partition_key)
);
