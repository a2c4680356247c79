-- Partners' watches, webhooks and deliveries as append-only records: the
-- state is derived by replaying them, on every replica alike.
CREATE TABLE partner_records (
    partner     VARCHAR NOT NULL,
    kind        VARCHAR NOT NULL,
    key         VARCHAR NOT NULL,
    value       VARCHAR NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE partner_records IS 'Partner records: watch/unwatch (key: a USCC), webhook (key: URL, value: signing secret), webhook_removed, delivered (key: the watch feed cursor)';
COMMENT ON COLUMN partner_records.partner IS 'the partner: its API key''s name';
