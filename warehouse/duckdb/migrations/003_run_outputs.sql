-- Versioned run outputs, the same way for every job (DESIGN.md, Warehouse).

-- uscc_sort_key(u) is model.USCC.SortKey: an integer that orders as the
-- code's first 12 characters (base 31 in the code's alphabet). Tables kept
-- in this order let DuckDB's zone maps, which keep only an 8-byte prefix of
-- strings, narrow a lookup by USCC to one row group.
CREATE MACRO uscc_sort_key(u) AS (
    greatest(instr('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(u, 1, 1)) - 1, 0)::BIGINT * 25408476896404831 +
    greatest(instr('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(u, 2, 1)) - 1, 0)::BIGINT * 819628286980801 +
    greatest(instr('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(u, 3, 1)) - 1, 0)::BIGINT * 26439622160671 +
    greatest(instr('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(u, 4, 1)) - 1, 0)::BIGINT * 852891037441 +
    greatest(instr('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(u, 5, 1)) - 1, 0)::BIGINT * 27512614111 +
    greatest(instr('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(u, 6, 1)) - 1, 0)::BIGINT * 887503681 +
    greatest(instr('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(u, 7, 1)) - 1, 0)::BIGINT * 28629151 +
    greatest(instr('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(u, 8, 1)) - 1, 0)::BIGINT * 923521 +
    greatest(instr('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(u, 9, 1)) - 1, 0)::BIGINT * 29791 +
    greatest(instr('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(u, 10, 1)) - 1, 0)::BIGINT * 961 +
    greatest(instr('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(u, 11, 1)) - 1, 0)::BIGINT * 31 +
    greatest(instr('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(u, 12, 1)) - 1, 0)::BIGINT * 1
);

-- One record per run: versions count per job from 1; a run reads events with
-- occurred_at before the end of its as_of day and ingested_at ≤ watermark.
CREATE TABLE runs (
    job           VARCHAR NOT NULL,
    version       INTEGER NOT NULL,
    id            VARCHAR NOT NULL,
    as_of         DATE NOT NULL,
    watermark     TIMESTAMPTZ NOT NULL,
    like_run      VARCHAR NOT NULL,
    model_version VARCHAR NOT NULL,
    started_at    TIMESTAMPTZ NOT NULL,
    finished_at   TIMESTAMPTZ,
    status        VARCHAR NOT NULL,
    counts        VARCHAR NOT NULL,
    digest        VARCHAR NOT NULL,
    error         VARCHAR NOT NULL,
    PRIMARY KEY (job, version)
);
COMMENT ON TABLE runs IS 'Pipeline runs of every job; the current output of a job is its succeeded run with the greatest as_of not after today, then watermark, then version';
COMMENT ON COLUMN runs.id IS '<job>-<version>';
COMMENT ON COLUMN runs.watermark IS 'the run read events with ingested_at up to this time: re-running with it reproduces the digest';
COMMENT ON COLUMN runs.like_run IS 'the run whose watermark this one reused (pipeline run --like), or empty';
COMMENT ON COLUMN runs.status IS 'running, succeeded or failed; readers take outputs of succeeded runs only';
COMMENT ON COLUMN runs.counts IS 'JSON object of counts (enterprises, per grade, late events, …)';
COMMENT ON COLUMN runs.digest IS 'SHA-256 of the run outputs in canonical order: equal digests = identical outputs';

-- Every job's outputs, keyed within the run. Each run writes its rows in key
-- order, so a score run's rows are in USCC (and ukey) order.
CREATE TABLE run_outputs (
    job     VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    key     VARCHAR NOT NULL,
    uscc    VARCHAR NOT NULL,
    ukey    BIGINT NOT NULL,
    label   VARCHAR NOT NULL,
    value   BIGINT NOT NULL,
    payload VARCHAR NOT NULL
);
COMMENT ON TABLE run_outputs IS 'Outputs of every pipeline run, keyed by (job, version, key)';
COMMENT ON COLUMN run_outputs.key IS 'the output''s key within its run: the USCC of a score, a list entry''s key, a cluster id';
COMMENT ON COLUMN run_outputs.uscc IS 'the enterprise the output concerns, or empty';
COMMENT ON COLUMN run_outputs.ukey IS 'uscc_sort_key(uscc): narrows lookups by USCC';
COMMENT ON COLUMN run_outputs.label IS 'headline: the grade of a score, the list of an entry, the level of a warning';
COMMENT ON COLUMN run_outputs.value IS 'headline number: the score in tenths of a point, …';
COMMENT ON COLUMN run_outputs.payload IS 'the output as JSON (a score''s reasons, an entry, a warning with evidence)';

-- The runs and scores of before: each job's runs numbered by start, each
-- run's watermark its start (it read what had been ingested by then).
CREATE TEMP TABLE run_versions AS
SELECT id AS old_id, job, row_number() OVER (PARTITION BY job ORDER BY started_at, id) AS version FROM pipeline_runs;
INSERT INTO runs
SELECT p.job, v.version, p.job || '-' || v.version, p.as_of, p.started_at, '', p.model_version, p.started_at,
       p.finished_at, p.status, p.counts, p.digest, p.error
FROM pipeline_runs p JOIN run_versions v ON v.old_id = p.id;
INSERT INTO run_outputs
SELECT 'score', v.version, s.uscc, s.uscc, uscc_sort_key(s.uscc), s.grade, s.score_tenths, s.reasons
FROM scores s JOIN run_versions v ON v.old_id = s.run_id
ORDER BY v.version, uscc_sort_key(s.uscc), s.uscc;
DROP TABLE run_versions;
DROP TABLE scores;
DROP TABLE pipeline_runs;

-- Leases: who may run a job (one run at a time) or a scheduled slot (once).
CREATE TABLE leases (
    name       VARCHAR PRIMARY KEY,
    holder     VARCHAR NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE leases IS 'job/<job>: the process running it; slot/<job>/<time>: the process that ran that scheduled slot';
