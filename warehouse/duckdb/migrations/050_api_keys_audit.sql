-- API keys as append-only records (warehouse.ResolveKeys derives their
-- state) and the audit log of API calls by key. Neither is ever updated.
CREATE TABLE api_keys (
    name       VARCHAR NOT NULL,
    action     VARCHAR NOT NULL,
    key_id     VARCHAR NOT NULL,
    hash       VARCHAR NOT NULL,
    scope      VARCHAR NOT NULL,
    source     VARCHAR NOT NULL,
    expires_at TIMESTAMPTZ,
    recorded_at TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE api_keys IS 'API key records: create (with the key''s id and SHA-256 hash, never the key) or revoke; the state is derived by replaying them';
COMMENT ON COLUMN api_keys.hash IS 'hex SHA-256 of the whole key';
COMMENT ON COLUMN api_keys.source IS 'the GB/T 2260 region the key is bound to, or empty';

CREATE TABLE api_audit (
    id          VARCHAR NOT NULL,
    at_time     TIMESTAMPTZ NOT NULL,
    key_name    VARCHAR NOT NULL,
    scope       VARCHAR NOT NULL,
    method      VARCHAR NOT NULL,
    route       VARCHAR NOT NULL,
    params      VARCHAR NOT NULL,
    status      INTEGER NOT NULL,
    items       BIGINT NOT NULL,
    detail      VARCHAR NOT NULL,
    duration_ms BIGINT NOT NULL
);
COMMENT ON TABLE api_audit IS 'Every partner, analyst, ingest and admin API call: key, scope, route, parameters (no secrets), status, items, details';
