-- Events in USCC order, for the credit file's per-enterprise reads. events
-- stays ordered by id (a write looks its batch's ids up by that key); a
-- materialized view keeps this copy of the timeline's columns ordered by
-- (uscc, occurred_at, id), filled here from what is already stored. Rows
-- the view and the copy both take collapse (Replacing by that key); the
-- timeline reads with FINAL.
-- ingested_us is ingested_at in microseconds: a run's watermark must tell
-- apart batches stored within the same second. 18.16 has no ADD COLUMN IF
-- NOT EXISTS: Migrate takes "already exists" as done for ADD COLUMN.
ALTER TABLE {{.DB}}.{{local "events"}}{{.OnCluster}} ADD COLUMN ingested_us UInt64 DEFAULT toUInt64(ingested_at) * 1000000 AFTER ingested_at;
{{if .Cluster}}
-- The Distributed table holds no rows (inserts are synchronous): it is made
-- again over the altered shards rather than altered (18.16 refuses ALTER ON
-- CLUSTER of a Distributed table over replicated shards).
DROP TABLE IF EXISTS {{.DB}}.events{{.OnCluster}};
CREATE TABLE IF NOT EXISTS {{.DB}}.events{{.OnCluster}} AS {{.DB}}.events_local
ENGINE = Distributed({{.Cluster}}, {{.DB}}, events_local, cityHash64(uscc));
{{end}}
CREATE TABLE IF NOT EXISTS {{.DB}}.{{local "events_by_uscc"}}{{.OnCluster}} (
    uscc        String,
    occurred_at DateTime('Asia/Shanghai'),
    id          String,
    type        {{lc}},
    source      {{lc}},
    reported_at Nullable(DateTime('Asia/Shanghai')),
    data        String,
    ingested_us UInt64
) ENGINE = {{engine "ReplacingMergeTree" "events_by_uscc"}}
ORDER BY (uscc, occurred_at, id);
{{if .Cluster}}
CREATE TABLE IF NOT EXISTS {{.DB}}.events_by_uscc{{.OnCluster}} AS {{.DB}}.events_by_uscc_local
ENGINE = Distributed({{.Cluster}}, {{.DB}}, events_by_uscc_local, cityHash64(uscc));
{{end}}
CREATE MATERIALIZED VIEW IF NOT EXISTS {{.DB}}.events_by_uscc_mv{{.OnCluster}}
TO {{.DB}}.{{local "events_by_uscc"}}
AS SELECT uscc, occurred_at, id, type, source, reported_at, data, ingested_us FROM {{.DB}}.{{local "events"}};
INSERT INTO {{.DB}}.events_by_uscc (uscc, occurred_at, id, type, source, reported_at, data, ingested_us)
SELECT uscc, occurred_at, id, type, source, reported_at, data, ingested_us FROM {{.DB}}.events FINAL;

-- The enterprises view reads the USCC-ordered copy, so a lookup of one
-- enterprise reads its own rows only (with the predicate pushed into the
-- GROUP BY; see Store.Enterprise) instead of every event.
DROP TABLE IF EXISTS {{.DB}}.enterprises{{.OnCluster}};
CREATE VIEW IF NOT EXISTS {{.DB}}.enterprises{{.OnCluster}} AS
SELECT
    uscc,
    argMaxIf(visitParamExtractString(data, 'name'), (occurred_at, id), visitParamHas(data, 'name') AND type != 'enterprise.deregistered') AS name,
    argMaxIf(visitParamExtractString(data, 'region'), (occurred_at, id), visitParamHas(data, 'region') AND type != 'enterprise.deregistered') AS region,
    argMaxIf(visitParamExtractString(data, 'industry'), (occurred_at, id), visitParamHas(data, 'industry') AND type != 'enterprise.deregistered') AS industry,
    argMaxIf(visitParamExtractString(data, 'cluster'), (occurred_at, id), visitParamHas(data, 'cluster') AND type != 'enterprise.deregistered') AS cluster,
    argMaxIf(visitParamExtractString(data, 'scale'), (occurred_at, id), visitParamHas(data, 'scale') AND type != 'enterprise.deregistered') AS scale,
    if(countIf(type = 'enterprise.registered') > 0, toNullable(minIf(occurred_at, type = 'enterprise.registered')), NULL) AS registered_at,
    argMaxIf(type = 'enterprise.deregistered', (occurred_at, id), type != 'enterprise.updated') = 1 AS deregistered,
    max(occurred_at) AS updated_at
FROM {{.DB}}.events_by_uscc
WHERE type IN ('enterprise.registered', 'enterprise.updated', 'enterprise.deregistered')
GROUP BY uscc;
