package clickhouse

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// EventsOfTypes streams the events of the given types ingested after t, in
// (ingested_us, id) order. A row stored twice by racing writers (not merged
// yet) may come twice: callers keep events by id.
func (s *Store) EventsOfTypes(ctx context.Context, types []model.EventType, after time.Time, fn func(warehouse.IngestedEvent) error) error {
	if len(types) == 0 {
		return nil
	}
	args := make([]any, 0, len(types)+1)
	args = append(args, micros(after))
	for _, t := range types {
		args = append(args, string(t))
	}
	rows, err := s.conn.Query(ctx, `SELECT id, type, uscc, source, occurred_at, reported_at, data, ingested_us FROM `+s.table("events")+`
		WHERE ingested_us > ? AND type IN (?`+strings.Repeat(", ?", len(types)-1)+`) ORDER BY ingested_us, id`, args...)
	if err != nil {
		return fmt.Errorf("events of types: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e warehouse.IngestedEvent
		var typ, code, data string
		var us uint64
		if err := rows.Scan(&e.ID, &typ, &code, &e.Source, &e.OccurredAt, &e.ReportedAt, &data, &us); err != nil {
			return fmt.Errorf("events of types: %w", err)
		}
		e.Type, e.USCC, e.Data, e.IngestedAt = model.EventType(typ), model.USCC(code), json.RawMessage(data), fromMicros(us)
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}
