-- The bureau's own planning records (warehouse.PlanningRecord): the inspector
-- pool, the testing-agency registry and every step of a verifiable draw,
-- append-only; the state is derived from them in recorded order. Replacing
-- by (kind, key, recorded_us): a retried insert stores a record once.
CREATE TABLE IF NOT EXISTS {{.DB}}.{{local "planning_records"}}{{.OnCluster}} (
    kind        {{lc}} {{comment "inspector, agency or draw"}},
    key         String {{comment "inspector id, agency id or draw id"}},
    recorded_us UInt64 {{comment "stamped like events.ingested_us: a run reads records up to its watermark"}},
    body        String {{comment "the record as JSON"}}
) ENGINE = {{engine "ReplacingMergeTree" "planning_records"}}
ORDER BY (kind, key, recorded_us);
{{if .Cluster}}
CREATE TABLE IF NOT EXISTS {{.DB}}.planning_records{{.OnCluster}} AS {{.DB}}.planning_records_local
ENGINE = Distributed({{.Cluster}}, {{.DB}}, planning_records_local, cityHash64(key));
{{end}}

-- Each draw's secret seed, kept apart: nothing public reads this table
-- (grant analysts no access to it), and the seed is published only with the
-- draw's result.
CREATE TABLE IF NOT EXISTS {{.DB}}.{{local "draw_seeds"}}{{.OnCluster}} (
    draw_id   String,
    seed      String {{comment "32 bytes; SHA-256 of it is the published commitment"}},
    stored_us UInt64
) ENGINE = {{engine "ReplacingMergeTree" "draw_seeds"}}
ORDER BY draw_id;
{{if .Cluster}}
CREATE TABLE IF NOT EXISTS {{.DB}}.draw_seeds{{.OnCluster}} AS {{.DB}}.draw_seeds_local
ENGINE = Distributed({{.Cluster}}, {{.DB}}, draw_seeds_local, cityHash64(draw_id));
{{end}}
