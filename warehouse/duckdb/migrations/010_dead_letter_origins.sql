-- Dead letters once per input. The key was a hash of origin and raw bytes,
-- so a copy of a file stored its bad lines again; it is now a hash of the
-- reason and the raw bytes (warehouse.DeadLetterKey: the first 16 bytes of
-- SHA-256(reason, 0x00, raw) in hex), and every origin a dead letter was seen
-- at is a row of dead_letter_origins. Existing rows are merged by their new
-- key (first detail and origin kept) and all their origins moved; the
-- source of an old row is read from its raw bytes.
CREATE TABLE dead_letters_010 (
    key             VARCHAR PRIMARY KEY,
    reason          VARCHAR NOT NULL,
    detail          VARCHAR NOT NULL,
    event_id        VARCHAR NOT NULL,
    source          VARCHAR NOT NULL,
    raw             BLOB NOT NULL,
    received_at     TIMESTAMPTZ NOT NULL,
    origin_kind     VARCHAR NOT NULL,
    origin_name     VARCHAR NOT NULL,
    origin_position VARCHAR NOT NULL
);

CREATE TABLE dead_letter_origins (
    key             VARCHAR NOT NULL,
    origin_kind     VARCHAR NOT NULL,
    origin_name     VARCHAR NOT NULL,
    origin_position VARCHAR NOT NULL,
    received_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (key, origin_kind, origin_name, origin_position)
);

INSERT INTO dead_letters_010
SELECT new_key, arg_min(reason, received_at), arg_min(detail, received_at), arg_min(event_id, received_at),
    arg_min(coalesce(regexp_extract(try(decode(raw)), '"source"\s*:\s*"([^"\\]*)"', 1), ''), received_at),
    arg_min(raw, received_at), min(received_at),
    arg_min(origin_kind, received_at), arg_min(origin_name, received_at), arg_min(origin_position, received_at)
FROM (SELECT substr(sha256(reason::BLOB || '\x00'::BLOB || raw), 1, 32) AS new_key, * FROM dead_letters)
GROUP BY new_key;

INSERT INTO dead_letter_origins
SELECT substr(sha256(reason::BLOB || '\x00'::BLOB || raw), 1, 32), origin_kind, origin_name, origin_position, min(received_at)
FROM dead_letters
GROUP BY ALL;

DROP TABLE dead_letters;
ALTER TABLE dead_letters_010 RENAME TO dead_letters;

COMMENT ON TABLE dead_letters IS 'Refused input, once per content (raw bytes and reason), with why; where it was seen: dead_letter_origins';
COMMENT ON COLUMN dead_letters.key IS 'hash of reason and raw bytes: the same input refused again, from anywhere, is this row';
COMMENT ON COLUMN dead_letters.reason IS 'malformed_json, unknown_type, unknown_field, missing_field, invalid_field, invalid_uscc, conflict';
COMMENT ON COLUMN dead_letters.source IS 'the event''s source field when it could be read';
COMMENT ON COLUMN dead_letters.received_at IS 'when it was first seen';
COMMENT ON COLUMN dead_letters.origin_kind IS 'where it was first seen: kafka, file, stdin or http (every origin: dead_letter_origins)';
COMMENT ON TABLE dead_letter_origins IS 'Every origin each dead letter was seen at, once per origin';
COMMENT ON COLUMN dead_letter_origins.received_at IS 'when it was first seen there';
