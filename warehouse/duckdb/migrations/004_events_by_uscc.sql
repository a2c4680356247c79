-- Events kept in USCC order, for the credit file's per-enterprise reads.
-- DuckDB has no clustered index: a lookup by USCC in a table in arrival order
-- scans every row group (30M events: 330 ms), while in ukey order its zone
-- maps narrow the scan to one row group (1-3 ms). The table is rewritten in
-- that order here and later by Store.Optimize when enough unsorted rows
-- have been appended (events_layout.sorted_rows counts the sorted prefix).
CREATE TABLE events_by_uscc (
    id          VARCHAR NOT NULL,
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
    ingested_at TIMESTAMPTZ NOT NULL,
    ukey        BIGINT NOT NULL
);
INSERT INTO events_by_uscc
SELECT *, uscc_sort_key(uscc) FROM events ORDER BY uscc_sort_key(uscc), uscc, occurred_at, id;
DROP VIEW enterprises;
DROP TABLE events;
ALTER TABLE events_by_uscc RENAME TO events;
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
COMMENT ON COLUMN events.ingested_at IS 'when the warehouse stored it; pipeline runs read events up to their watermark';
COMMENT ON COLUMN events.ukey IS 'uscc_sort_key(uscc); the table is kept in this order (see events_layout)';

-- The view now groups by ukey too, so a lookup of one enterprise
-- (WHERE ukey = … AND uscc = …) is pushed into the sorted scan.
CREATE VIEW enterprises AS
SELECT
    uscc,
    ukey,
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
GROUP BY uscc, ukey;

CREATE TABLE events_layout (sorted_rows BIGINT NOT NULL);
COMMENT ON TABLE events_layout IS 'how many rows at the start of events are in ukey order; rows appended after them are not';
INSERT INTO events_layout SELECT count(*) FROM events;
