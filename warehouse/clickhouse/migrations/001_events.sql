-- Rendered with text/template (see migrate.go) for one server or a cluster:
-- {{local "t"}} is the table that holds the rows (t, or t_local behind a
-- Distributed t on a cluster), {{engine "E" "t"}} the engine (Replicated on a
-- cluster), {{.OnCluster}} the ON CLUSTER clause, {{lc}} String or, on servers
-- that have it, LowCardinality(String), and {{comment "c"}} a column
-- comment where the server can keep it (not on 18.16's Replicated tables).
-- Every statement is idempotent (IF NOT
-- EXISTS) because ClickHouse DDL has no transactions: a migration that dies
-- half way is simply run again.

-- Every validated supervision event. ReplacingMergeTree keyed by id: exact
-- resends that slip past the write-time check (two writers racing on one
-- batch) are merged away in the background, and reads dedupe meanwhile.
CREATE TABLE IF NOT EXISTS {{.DB}}.{{local "events"}}{{.OnCluster}} (
    id          String {{comment "event id, <source>-<local id>; the idempotency key"}},
    type        {{lc}} {{comment "event type, e.g. spot_check.completed"}},
    uscc        String {{comment "unified social credit code (统一社会信用代码) of the enterprise"}},
    source      {{lc}} {{comment "GB/T 2260 code of the reporting bureau"}},
    occurred_at DateTime('Asia/Shanghai') {{comment "when the fact happened (decision or inspection date)"}},
    reported_at Nullable(DateTime('Asia/Shanghai')) {{comment "when the bureau reported it, if it said"}},
    ref         String {{comment "the record''s own id: check_id, case_no, licence_no, hazard_id, complaint_id, accident_id, cert_no, standard_no"}},
    link        String {{comment "a record this one refers to: retest_of of a spot check, equipment_id of equipment events"}},
    result      {{lc}} {{comment "pass/fail (checks, inspections); verified/unverified (complaint closed); self_found/reported (hazard corrected)"}},
    severity    {{lc}} {{comment "minor/major/critical (spot check); light/general/heavy (penalty); accident grade; serious/ordinary (hazard)"}},
    category    {{lc}} {{comment "product (spot check); violation (penalty); licence kind or revocation reason; equipment category; complaint channel; certification scheme; award"}},
    amount      Nullable(Float64) {{comment "fine in yuan (penalty)"}},
    due         Nullable(Date) {{comment "hazard deadline; licence valid_until"}},
    data        String {{comment "the event data as compact JSON, keys sorted (query with visitParamExtractString(data, ''name''))"}},
    hash        UInt64 {{comment "content fingerprint: same id and hash = exact resend"}},
    origin      String {{comment "where it came from: kafka:topic:partition/offset, file:path:line, http:client:index"}},
    ingested_at DateTime('Asia/Shanghai') {{comment "when qcredit stored it"}}
) ENGINE = {{engine "ReplacingMergeTree" "events"}}
ORDER BY id;
{{if .Cluster}}
CREATE TABLE IF NOT EXISTS {{.DB}}.events{{.OnCluster}} AS {{.DB}}.events_local
ENGINE = Distributed({{.Cluster}}, {{.DB}}, events_local, cityHash64(uscc));
{{end}}
{{if .TableComments}}
ALTER TABLE {{.DB}}.{{local "events"}}{{.OnCluster}} MODIFY COMMENT 'Supervision events (contract v1), one per event id; count with FINAL or uniqExact(id)';
{{end}}

-- Input that was not stored as an event, kept whole with why and where from;
-- one row per key (origin and raw bytes).
CREATE TABLE IF NOT EXISTS {{.DB}}.{{local "dead_letters"}}{{.OnCluster}} (
    key             String {{comment "hash of origin and raw bytes: the same bad input arriving again is stored once"}},
    origin_kind     {{lc}} {{comment "kafka, file or http"}},
    origin_name     String {{comment "topic, file path or client"}},
    origin_position String {{comment "partition/offset, line number or request index"}},
    reason          {{lc}} {{comment "malformed_json, unknown_type, missing_field, invalid_field, invalid_uscc, conflict"}},
    detail          String {{comment "what was wrong, for a person"}},
    event_id        String {{comment "the event id, when it could be read"}},
    raw             String {{comment "the input bytes as received"}},
    received_at     DateTime('Asia/Shanghai') {{comment "when it arrived"}}
) ENGINE = {{engine "ReplacingMergeTree" "dead_letters"}}
ORDER BY key;
{{if .Cluster}}
CREATE TABLE IF NOT EXISTS {{.DB}}.dead_letters{{.OnCluster}} AS {{.DB}}.dead_letters_local
ENGINE = Distributed({{.Cluster}}, {{.DB}}, dead_letters_local, cityHash64(key));
{{end}}
{{if .TableComments}}
ALTER TABLE {{.DB}}.{{local "dead_letters"}}{{.OnCluster}} MODIFY COMMENT 'Refused input with raw bytes, reason and origin; one per key';
{{end}}

-- Each enterprise's latest registered state: the latest value of each field
-- over its enterprise.registered/updated events, ordered by (occurred_at, id),
-- as in the DuckDB view. argMax/min/max give the same answer whether a row is
-- stored once or twice, so this view needs no FINAL.
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
FROM {{.DB}}.events
WHERE type IN ('enterprise.registered', 'enterprise.updated', 'enterprise.deregistered')
GROUP BY uscc;
