-- Partners' watches, webhooks and deliveries as append-only records: the
-- state is derived by replaying them, on every replica alike. Replacing by
-- the whole record: a retried insert stores it once.
CREATE TABLE IF NOT EXISTS {{.DB}}.{{local "partner_records"}}{{.OnCluster}} (
    partner String {{comment "the partner: its API key''s name"}},
    kind    String {{comment "watch, unwatch (key: a USCC), webhook (key: URL, value: signing secret), webhook_removed, delivered (key: the watch feed cursor)"}},
    key     String,
    value   String,
    at_us   UInt64 {{comment "microseconds since 1970"}}
) ENGINE = {{engine "ReplacingMergeTree" "partner_records"}}
ORDER BY (partner, kind, at_us, key);
{{if .Cluster}}
CREATE TABLE IF NOT EXISTS {{.DB}}.partner_records{{.OnCluster}} AS {{.DB}}.partner_records_local
ENGINE = Distributed({{.Cluster}}, {{.DB}}, partner_records_local, cityHash64(partner));
{{end}}
