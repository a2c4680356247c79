-- Pipeline run records. ClickHouse has no UPDATE: finishing a run inserts the
-- record again with a higher version, and readers take the latest version
-- (ReplacingMergeTree(version) plus FINAL).
CREATE TABLE IF NOT EXISTS {{.DB}}.{{local "pipeline_runs"}}{{.OnCluster}} (
    id            String,
    job           {{lc}},
    as_of         Date {{comment "a run reads events with occurred_at before the end of its as_of day (Asia/Shanghai)"}},
    started_at    DateTime('Asia/Shanghai'),
    finished_at   Nullable(DateTime('Asia/Shanghai')),
    status        {{lc}} {{comment "running, succeeded or failed; readers take outputs of succeeded runs only"}},
    counts        String {{comment "JSON object of counts (enterprises, per grade, …)"}},
    model_version String {{comment "version of the model or rules used, e.g. the scorecard sc-<sha256 prefix>"}},
    digest        String {{comment "SHA-256 of the run outputs in canonical order: equal digests = identical outputs"}},
    error         String,
    version       UInt32 {{comment "1 when begun, 2 when finished: the highest is the record"}}
) ENGINE = {{engine "ReplacingMergeTree" "pipeline_runs" "version"}}
ORDER BY id;
{{if .Cluster}}
CREATE TABLE IF NOT EXISTS {{.DB}}.pipeline_runs{{.OnCluster}} AS {{.DB}}.pipeline_runs_local
ENGINE = Distributed({{.Cluster}}, {{.DB}}, pipeline_runs_local, cityHash64(id));
{{end}}

-- Each score run's scores (质量信用评分): one row per enterprise and run.
CREATE TABLE IF NOT EXISTS {{.DB}}.{{local "scores"}}{{.OnCluster}} (
    run_id        String,
    uscc          String,
    as_of         Date,
    model_version String,
    score_tenths  Int32 {{comment "score in tenths of a point, 0–1000 (855 = 85.5)"}},
    grade         {{lc}} {{comment "A 守信, B 基本守信, C 失信, D 严重失信"}},
    reasons       String {{comment "JSON array of reasons: rule, points, count, event ids, basis, detail; base + Σ points = score"}}
) ENGINE = {{engine "MergeTree" "scores"}}
ORDER BY (run_id, uscc);
{{if .Cluster}}
CREATE TABLE IF NOT EXISTS {{.DB}}.scores{{.OnCluster}} AS {{.DB}}.scores_local
ENGINE = Distributed({{.Cluster}}, {{.DB}}, scores_local, cityHash64(uscc));
{{end}}
