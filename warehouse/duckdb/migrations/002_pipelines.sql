-- One row per pipeline run: what ran, over which as_of, how it ended.
CREATE TABLE pipeline_runs (
    id            VARCHAR PRIMARY KEY,
    job           VARCHAR NOT NULL,
    as_of         DATE NOT NULL,
    started_at    TIMESTAMPTZ NOT NULL,
    finished_at   TIMESTAMPTZ,
    status        VARCHAR NOT NULL,
    counts        VARCHAR NOT NULL,
    model_version VARCHAR NOT NULL,
    digest        VARCHAR NOT NULL,
    error         VARCHAR NOT NULL
);
COMMENT ON TABLE pipeline_runs IS 'Pipeline run records; a run reads events with occurred_at before the end of its as_of day (Asia/Shanghai)';
COMMENT ON COLUMN pipeline_runs.status IS 'running, succeeded or failed; readers take outputs of succeeded runs only';
COMMENT ON COLUMN pipeline_runs.counts IS 'JSON object of counts (enterprises, per grade, …)';
COMMENT ON COLUMN pipeline_runs.model_version IS 'version of the model or rules used, e.g. the scorecard sc-<sha256 prefix>';
COMMENT ON COLUMN pipeline_runs.digest IS 'SHA-256 of the run outputs in canonical order: equal digests = identical outputs';

-- Each score run's scores: one row per enterprise and run.
CREATE TABLE scores (
    run_id        VARCHAR NOT NULL,
    uscc          VARCHAR NOT NULL,
    as_of         DATE NOT NULL,
    model_version VARCHAR NOT NULL,
    score_tenths  INTEGER NOT NULL,
    grade         VARCHAR NOT NULL,
    reasons       VARCHAR NOT NULL
);
COMMENT ON TABLE scores IS 'Quality-credit scores (质量信用评分) per score run and enterprise';
COMMENT ON COLUMN scores.score_tenths IS 'score in tenths of a point, 0–1000 (855 = 85.5)';
COMMENT ON COLUMN scores.grade IS 'A 守信, B 基本守信, C 失信, D 严重失信';
COMMENT ON COLUMN scores.reasons IS 'JSON array of reasons: rule, points, count, event ids, basis, detail; base + Σ points = score';
