-- API keys as append-only records (warehouse.ResolveKeys derives their
-- state) and the audit log of API calls by key. Neither is ever updated.
CREATE TABLE IF NOT EXISTS {{.DB}}.{{local "api_keys"}}{{.OnCluster}} (
    name       String,
    action     String {{comment "create (with the key''s id and SHA-256 hash, never the key) or revoke"}},
    key_id     String,
    hash       String {{comment "hex SHA-256 of the whole key"}},
    scope      String,
    source     String {{comment "the GB/T 2260 region the key is bound to, or empty"}},
    expires_us UInt64 {{comment "microseconds since 1970; 0: never"}},
    at_us      UInt64
) ENGINE = {{engine "ReplacingMergeTree" "api_keys"}}
ORDER BY (name, at_us, action, key_id);
{{if .Cluster}}
CREATE TABLE IF NOT EXISTS {{.DB}}.api_keys{{.OnCluster}} AS {{.DB}}.api_keys_local
ENGINE = Distributed({{.Cluster}}, {{.DB}}, api_keys_local, cityHash64(name));
{{end}}

-- Replacing by id: a retried flush of the audit buffer stores a call once.
CREATE TABLE IF NOT EXISTS {{.DB}}.{{local "api_audit"}}{{.OnCluster}} (
    id          String,
    at_us       UInt64,
    at          DateTime('Asia/Shanghai'),
    key_name    String,
    scope       {{lc}},
    method      {{lc}},
    route       {{lc}},
    params      String {{comment "path and query parameters as JSON, without secrets"}},
    status      UInt16,
    items       Int64,
    detail      String,
    duration_ms Int64
) ENGINE = {{engine "ReplacingMergeTree" "api_audit"}}
PARTITION BY toYYYYMM(at)
ORDER BY (at_us, id);
{{if .Cluster}}
CREATE TABLE IF NOT EXISTS {{.DB}}.api_audit{{.OnCluster}} AS {{.DB}}.api_audit_local
ENGINE = Distributed({{.Cluster}}, {{.DB}}, api_audit_local, cityHash64(id));
{{end}}
