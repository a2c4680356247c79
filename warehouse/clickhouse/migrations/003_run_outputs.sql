-- Versioned run outputs, the same way for every job (DESIGN.md, Warehouse).
-- See 001 for the template helpers; every statement is idempotent.

-- One record per run, versioned per job. ClickHouse has no UPDATE: finishing
-- a run inserts its record again with record = 2, and readers take FINAL.
CREATE TABLE IF NOT EXISTS {{.DB}}.{{local "runs"}}{{.OnCluster}} (
    job           {{lc}},
    version       UInt32 {{comment "per job, from 1"}},
    id            String {{comment "<job>-<version>"}},
    as_of         Date {{comment "a run reads events with occurred_at before the end of its as_of day (Asia/Shanghai)"}},
    watermark_us  UInt64 {{comment "and ingested_us up to this (microseconds since 1970): re-running with it reproduces the digest"}},
    like_run      String {{comment "the run whose watermark this one reused (pipeline run --like), or empty"}},
    model_version String,
    started_at    DateTime('Asia/Shanghai'),
    started_us    UInt64,
    finished_at   Nullable(DateTime('Asia/Shanghai')),
    finished_us   UInt64 {{comment "0 while running"}},
    status        {{lc}} {{comment "running, succeeded or failed; readers take outputs of succeeded runs only"}},
    counts        String {{comment "JSON object of counts (enterprises, per grade, late events, …)"}},
    digest        String {{comment "SHA-256 of the run outputs in canonical order: equal digests = identical outputs"}},
    error         String,
    record        UInt32 {{comment "1 when begun, 2 when finished: the highest is the record"}}
) ENGINE = {{engine "ReplacingMergeTree" "runs" "record"}}
ORDER BY (job, version);
{{if .Cluster}}
CREATE TABLE IF NOT EXISTS {{.DB}}.runs{{.OnCluster}} AS {{.DB}}.runs_local
ENGINE = Distributed({{.Cluster}}, {{.DB}}, runs_local, cityHash64(job));
{{end}}

-- Every job's outputs, keyed within the run, in the order a version is read
-- whole (the read model, list snapshots). Replacing: a retried write or
-- migration stores a key once; readers skip a repeated key meanwhile.
CREATE TABLE IF NOT EXISTS {{.DB}}.{{local "run_outputs"}}{{.OnCluster}} (
    job     {{lc}},
    version UInt32,
    key     String {{comment "the output''s key within its run: the USCC of a score, a list entry''s key, a cluster id"}},
    uscc    String {{comment "the enterprise the output concerns, or empty"}},
    label   {{lc}} {{comment "headline: the grade of a score, the list of an entry, the level of a warning"}},
    value   Int64 {{comment "headline number: the score in tenths of a point, …"}},
    payload String {{comment "the output as JSON (a score''s reasons, an entry, a warning with evidence)"}}
) ENGINE = {{engine "ReplacingMergeTree" "run_outputs"}}
ORDER BY (job, version, key);
{{if .Cluster}}
CREATE TABLE IF NOT EXISTS {{.DB}}.run_outputs{{.OnCluster}} AS {{.DB}}.run_outputs_local
ENGINE = Distributed({{.Cluster}}, {{.DB}}, run_outputs_local, cityHash64(uscc));
{{end}}

-- The same outputs' headlines in USCC order, for an enterprise's history
-- (score history, listing history), kept by a materialized view.
CREATE TABLE IF NOT EXISTS {{.DB}}.{{local "run_outputs_by_uscc"}}{{.OnCluster}} (
    uscc    String,
    job     {{lc}},
    version UInt32,
    key     String,
    label   {{lc}},
    value   Int64
) ENGINE = {{engine "ReplacingMergeTree" "run_outputs_by_uscc"}}
ORDER BY (uscc, job, version, key);
{{if .Cluster}}
CREATE TABLE IF NOT EXISTS {{.DB}}.run_outputs_by_uscc{{.OnCluster}} AS {{.DB}}.run_outputs_by_uscc_local
ENGINE = Distributed({{.Cluster}}, {{.DB}}, run_outputs_by_uscc_local, cityHash64(uscc));
{{end}}
CREATE MATERIALIZED VIEW IF NOT EXISTS {{.DB}}.run_outputs_by_uscc_mv{{.OnCluster}}
TO {{.DB}}.{{local "run_outputs_by_uscc"}}
AS SELECT uscc, job, version, key, label, value FROM {{.DB}}.{{local "run_outputs"}} WHERE uscc != '';

-- Lease claims (warehouse.ResolveLease): who runs a job, who ran a slot.
CREATE TABLE IF NOT EXISTS {{.DB}}.{{local "lease_claims"}}{{.OnCluster}} (
    name     String {{comment "job/<job>: the process running it; slot/<job>/<time>: the process that ran that scheduled slot"}},
    holder   String,
    at_us    UInt64,
    until_us UInt64,
    release  UInt8
) ENGINE = {{engine "MergeTree" "lease_claims"}}
ORDER BY (name, at_us);
{{if .Cluster}}
CREATE TABLE IF NOT EXISTS {{.DB}}.lease_claims{{.OnCluster}} AS {{.DB}}.lease_claims_local
ENGINE = Distributed({{.Cluster}}, {{.DB}}, lease_claims_local, cityHash64(name));
{{end}}

-- The runs and scores of before: each job's runs numbered by start, each
-- run's watermark its start (it read what had been ingested by then).
-- GLOBAL: on a cluster both sides are Distributed tables. The new version
-- is named run_version: pipeline_runs has a version column of its own (the
-- record's), which 18.16 would take instead.
INSERT INTO {{.DB}}.runs (job, version, id, as_of, watermark_us, like_run, model_version, started_at, started_us,
    finished_at, finished_us, status, counts, digest, error, record)
SELECT job, run_version, concat(job, '-', toString(run_version)), as_of, toUInt64(started_at) * 1000000, '', model_version,
    started_at, toUInt64(started_at) * 1000000, finished_at, ifNull(toUInt64(finished_at), 0) * 1000000, status, counts,
    digest, error, 2
FROM {{.DB}}.pipeline_runs FINAL
GLOBAL ANY INNER JOIN (
    SELECT old_id AS id, v AS run_version FROM (
        SELECT job, arrayMap(t -> tupleElement(t, 2), arraySort(groupArray((started_at, id)))) AS ids
        FROM {{.DB}}.pipeline_runs FINAL GROUP BY job
    ) ARRAY JOIN ids AS old_id, arrayEnumerate(ids) AS v
) USING id;
INSERT INTO {{.DB}}.run_outputs (job, version, key, uscc, label, value, payload)
SELECT 'score', run_version, uscc, uscc, grade, score_tenths, reasons
FROM {{.DB}}.scores
GLOBAL ANY INNER JOIN (
    SELECT old_id AS run_id, v AS run_version FROM (
        SELECT job, arrayMap(t -> tupleElement(t, 2), arraySort(groupArray((started_at, id)))) AS ids
        FROM {{.DB}}.pipeline_runs FINAL GROUP BY job
    ) ARRAY JOIN ids AS old_id, arrayEnumerate(ids) AS v
) USING run_id;
