-- The bureau's own planning records (warehouse.PlanningRecord): the inspector
-- pool, the testing-agency registry and every step of a verifiable draw,
-- append-only; the state is derived from them in recorded order.
CREATE TABLE planning_records (
    kind        VARCHAR NOT NULL,
    key         VARCHAR NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL,
    body        VARCHAR NOT NULL
);
COMMENT ON TABLE planning_records IS 'Inspector pool, agency registry and draw steps, append-only; state derived in recorded order';
COMMENT ON COLUMN planning_records.kind IS 'inspector, agency or draw';
COMMENT ON COLUMN planning_records.key IS 'inspector id, agency id or draw id';
COMMENT ON COLUMN planning_records.recorded_at IS 'stamped like events.ingested_at: a run reads records up to its watermark';
COMMENT ON COLUMN planning_records.body IS 'the record as JSON';

-- Each draw's secret seed, kept apart: nothing public reads this table, and
-- the seed is published only with the draw's result.
CREATE TABLE draw_seeds (
    draw_id   VARCHAR PRIMARY KEY,
    seed      BLOB NOT NULL,
    stored_at TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE draw_seeds IS 'Secret seeds of draws (32 bytes each; SHA-256 of the seed is the published commitment); revealed only at the draw';
