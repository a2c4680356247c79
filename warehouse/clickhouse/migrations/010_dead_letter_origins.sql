-- Dead letters once per input. The key was a hash of origin and raw bytes,
-- so a copy of a file stored its bad lines again; it is now a hash of the
-- reason and the raw bytes (warehouse.DeadLetterKey: the first 16 bytes of
-- SHA-256(reason, 0x00, raw) in hex), and every origin a dead letter was seen
-- at is a row of dead_letter_origins. Existing rows are merged by their new
-- key (first detail and origin kept) and all their origins moved; the
-- source of an old row is read from its raw bytes.
--
-- DDL has no transactions, so every statement can run again after a failure
-- half way: the new dead_letters keeps the old columns (origin_* = where it
-- was first seen), so the copies below read either version of the table;
-- the first statement re-creates an empty one if a failed run dropped it
-- before renaming; the tables are ReplacingMergeTree, so rows copied twice
-- are one when read with FINAL.
CREATE TABLE IF NOT EXISTS {{.DB}}.{{local "dead_letters"}}{{.OnCluster}} (
    key String, origin_kind String, origin_name String, origin_position String, reason String,
    detail String, event_id String, raw String, received_at DateTime('Asia/Shanghai')
) ENGINE = {{engine "ReplacingMergeTree" "dead_letters"}}
ORDER BY key;
{{if .Cluster}}
CREATE TABLE IF NOT EXISTS {{.DB}}.dead_letters{{.OnCluster}} AS {{.DB}}.dead_letters_local
ENGINE = Distributed({{.Cluster}}, {{.DB}}, dead_letters_local, cityHash64(key));
{{end}}

CREATE TABLE IF NOT EXISTS {{.DB}}.{{local "dead_letters_010"}}{{.OnCluster}} (
    key             String {{comment "hash of reason and raw bytes: the same input refused again, from anywhere, is this row"}},
    reason          {{lc}} {{comment "malformed_json, unknown_type, unknown_field, missing_field, invalid_field, invalid_uscc, conflict"}},
    detail          String {{comment "what was wrong, for a person"}},
    event_id        String {{comment "the event id, when it could be read"}},
    source          {{lc}} {{comment "the event''s source field, when it could be read"}},
    raw             String {{comment "the input bytes as received"}},
    received_at     DateTime('Asia/Shanghai') {{comment "when it was first seen"}},
    origin_kind     {{lc}} {{comment "where it was first seen: kafka, file, stdin or http (every origin: dead_letter_origins)"}},
    origin_name     String {{comment "topic, file path or client where first seen"}},
    origin_position String {{comment "partition/offset, line number or request index where first seen"}}
) ENGINE = {{engine "ReplacingMergeTree" "dead_letters_010"}}
ORDER BY key;
{{if .Cluster}}
CREATE TABLE IF NOT EXISTS {{.DB}}.dead_letters_010{{.OnCluster}} AS {{.DB}}.dead_letters_010_local
ENGINE = Distributed({{.Cluster}}, {{.DB}}, dead_letters_010_local, cityHash64(key));
{{end}}

CREATE TABLE IF NOT EXISTS {{.DB}}.{{local "dead_letter_origins"}}{{.OnCluster}} (
    key             String {{comment "the dead letter''s key"}},
    origin_kind     {{lc}} {{comment "kafka, file, stdin or http"}},
    origin_name     String {{comment "topic, file path or client"}},
    origin_position String {{comment "partition/offset, line number or request index"}},
    received_at     DateTime('Asia/Shanghai') {{comment "when it was first seen there"}}
) ENGINE = {{engine "ReplacingMergeTree" "dead_letter_origins"}}
ORDER BY (key, origin_kind, origin_name, origin_position);
{{if .Cluster}}
CREATE TABLE IF NOT EXISTS {{.DB}}.dead_letter_origins{{.OnCluster}} AS {{.DB}}.dead_letter_origins_local
ENGINE = Distributed({{.Cluster}}, {{.DB}}, dead_letter_origins_local, cityHash64(key));
{{end}}
{{if .TableComments}}
ALTER TABLE {{.DB}}.{{local "dead_letter_origins"}}{{.OnCluster}} MODIFY COMMENT 'Every origin each dead letter was seen at, once per origin';
{{end}}

INSERT INTO {{.DB}}.dead_letters_010 (key, reason, detail, event_id, source, raw, received_at, origin_kind, origin_name, origin_position)
SELECT new_key, any(reason), argMin(detail, received_at), argMin(event_id, received_at),
    argMin(extract(raw, '"source"\\s*:\\s*"([^"\\\\]*)"'), received_at), any(raw), min(received_at),
    argMin(origin_kind, received_at), argMin(origin_name, received_at), argMin(origin_position, received_at)
FROM (
    SELECT lower(hex(substring(SHA256(concat(reason, '\0', raw)), 1, 16))) AS new_key,
        reason, detail, event_id, raw, received_at, origin_kind, origin_name, origin_position
    FROM {{.DB}}.dead_letters FINAL
)
GROUP BY new_key;

INSERT INTO {{.DB}}.dead_letter_origins (key, origin_kind, origin_name, origin_position, received_at)
SELECT lower(hex(substring(SHA256(concat(reason, '\0', raw)), 1, 16))) AS new_key, origin_kind, origin_name, origin_position, min(received_at)
FROM {{.DB}}.dead_letters FINAL
GROUP BY new_key, origin_kind, origin_name, origin_position;

DROP TABLE IF EXISTS {{.DB}}.dead_letters{{.OnCluster}};
{{if .Cluster}}
DROP TABLE IF EXISTS {{.DB}}.dead_letters_local{{.OnCluster}};
{{end}}
RENAME TABLE {{.DB}}.{{local "dead_letters_010"}} TO {{.DB}}.{{local "dead_letters"}}{{.OnCluster}};
{{if .Cluster}}
DROP TABLE IF EXISTS {{.DB}}.dead_letters_010{{.OnCluster}};
CREATE TABLE IF NOT EXISTS {{.DB}}.dead_letters{{.OnCluster}} AS {{.DB}}.dead_letters_local
ENGINE = Distributed({{.Cluster}}, {{.DB}}, dead_letters_local, cityHash64(key));
{{end}}
{{if .TableComments}}
ALTER TABLE {{.DB}}.{{local "dead_letters"}}{{.OnCluster}} MODIFY COMMENT 'Refused input, once per content (raw bytes and reason); where it was seen: dead_letter_origins';
{{end}}
