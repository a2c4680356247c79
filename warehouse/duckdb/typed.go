package duckdb

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// EventsOfTypes streams the events of the given types ingested after t, in
// (ingested_at, id) order. Events are appended in ingestion order, so the
// zone maps of ingested_at skip what was read before.
func (s *Store) EventsOfTypes(ctx context.Context, types []model.EventType, after time.Time, fn func(warehouse.IngestedEvent) error) error {
	if len(types) == 0 {
		return nil
	}
	args := make([]any, 0, len(types)+1)
	args = append(args, after)
	for _, t := range types {
		args = append(args, string(t))
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, type, uscc, source, occurred_at, reported_at, data, ingested_at FROM events
		WHERE ingested_at > ? AND type IN (?`+strings.Repeat(", ?", len(types)-1)+`) ORDER BY ingested_at, id`, args...)
	if err != nil {
		return fmt.Errorf("events of types: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e warehouse.IngestedEvent
		var typ, code, data string
		var reported sql.NullTime
		if err := rows.Scan(&e.ID, &typ, &code, &e.Source, &e.OccurredAt, &reported, &data, &e.IngestedAt); err != nil {
			return fmt.Errorf("events of types: %w", err)
		}
		e.Type, e.USCC, e.Data = model.EventType(typ), model.USCC(code), json.RawMessage(data)
		if reported.Valid {
			e.ReportedAt = &reported.Time
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}
