-- Every validated supervision event, stored once per id.
CREATE TABLE events (
    id          VARCHAR NOT NULL, -- unique: Write anti-joins on it inside its transaction (one writer per file); no index, which would cost memory and insert speed at tens of millions of rows
    type        VARCHAR NOT NULL,
    uscc        VARCHAR NOT NULL,
    source      VARCHAR NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL,
    reported_at TIMESTAMPTZ,
    ref         VARCHAR NOT NULL,
    link        VARCHAR NOT NULL,
    result      VARCHAR NOT NULL,
    severity    VARCHAR NOT NULL,
    category    VARCHAR NOT NULL,
    amount      DOUBLE,
    due         DATE,
    data        VARCHAR NOT NULL,
    hash        UBIGINT NOT NULL,
    origin      VARCHAR NOT NULL,
    ingested_at TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE events IS 'Supervision events (contract v1), one row per event id; corrections arrive as new events';
COMMENT ON COLUMN events.id IS 'event id, <source>-<local id>; the idempotency key';
COMMENT ON COLUMN events.type IS 'event type, e.g. spot_check.completed';
COMMENT ON COLUMN events.uscc IS 'unified social credit code of the enterprise';
COMMENT ON COLUMN events.source IS 'GB/T 2260 code of the reporting bureau';
COMMENT ON COLUMN events.occurred_at IS 'when the fact happened (decision or inspection date)';
COMMENT ON COLUMN events.ref IS 'the record''s own id: check_id, case_no, licence_no, hazard_id, complaint_id, accident_id, cert_no, standard_no';
COMMENT ON COLUMN events.link IS 'a record this one refers to: retest_of of a spot check, equipment_id of equipment events';
COMMENT ON COLUMN events.result IS 'pass/fail (checks, inspections); verified/unverified (complaint closed); self_found/reported (hazard corrected)';
COMMENT ON COLUMN events.severity IS 'minor/major/critical (spot check); light/general/heavy (penalty); accident grade; serious/ordinary (hazard)';
COMMENT ON COLUMN events.category IS 'product (spot check); violation (penalty); licence kind or revocation reason; equipment category; complaint channel; certification scheme; award';
COMMENT ON COLUMN events.amount IS 'fine in yuan (penalty)';
COMMENT ON COLUMN events.due IS 'hazard deadline; licence valid_until';
COMMENT ON COLUMN events.data IS 'the event data as JSON, keys sorted';
COMMENT ON COLUMN events.hash IS 'content fingerprint: same id and hash = exact resend';
COMMENT ON COLUMN events.origin IS 'where it came from: kafka:topic:partition/offset, file:path:line, http:client:index';

-- Input that was not stored as an event: kept whole, with why and where from.
CREATE TABLE dead_letters (
    key             VARCHAR PRIMARY KEY,
    origin_kind     VARCHAR NOT NULL,
    origin_name     VARCHAR NOT NULL,
    origin_position VARCHAR NOT NULL,
    reason          VARCHAR NOT NULL,
    detail          VARCHAR NOT NULL,
    event_id        VARCHAR NOT NULL,
    raw             BLOB NOT NULL,
    received_at     TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE dead_letters IS 'Refused input with raw bytes, reason and origin; one row per origin and content';
COMMENT ON COLUMN dead_letters.key IS 'hash of origin and raw bytes: the same bad input arriving again is stored once';
COMMENT ON COLUMN dead_letters.reason IS 'malformed_json, unknown_type, missing_field, invalid_field, invalid_uscc, conflict';

-- Each enterprise's latest registered state: the latest value of each field
-- over its enterprise.registered/updated events, ordered by (occurred_at, id).
CREATE VIEW enterprises AS
SELECT
    uscc,
    arg_max(data->>'name', (occurred_at, id)) FILTER (WHERE data->>'name' IS NOT NULL AND type <> 'enterprise.deregistered') AS name,
    arg_max(data->>'region', (occurred_at, id)) FILTER (WHERE data->>'region' IS NOT NULL AND type <> 'enterprise.deregistered') AS region,
    arg_max(data->>'industry', (occurred_at, id)) FILTER (WHERE data->>'industry' IS NOT NULL AND type <> 'enterprise.deregistered') AS industry,
    arg_max(data->>'cluster', (occurred_at, id)) FILTER (WHERE data->>'cluster' IS NOT NULL AND type <> 'enterprise.deregistered') AS cluster,
    arg_max(data->>'scale', (occurred_at, id)) FILTER (WHERE data->>'scale' IS NOT NULL AND type <> 'enterprise.deregistered') AS scale,
    min(occurred_at) FILTER (WHERE type = 'enterprise.registered') AS registered_at,
    coalesce(arg_max(type = 'enterprise.deregistered', (occurred_at, id)) FILTER (WHERE type <> 'enterprise.updated'), false) AS deregistered,
    max(occurred_at) AS updated_at
FROM events
WHERE type IN ('enterprise.registered', 'enterprise.updated', 'enterprise.deregistered')
GROUP BY uscc;
