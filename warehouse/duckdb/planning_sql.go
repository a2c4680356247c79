//go:build !duckdb_arrow

package duckdb

import (
	"context"
	"time"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// planningEventRows scans PlanningEvents' query row by row (the portable
// build; duckdb_arrow reads Arrow batches).
func (s *Store) planningEventRows(ctx context.Context, query string, args []any, fn func(warehouse.EventRow) error) error {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var e warehouse.EventRow
		var typ, uscc, data string
		var us int64
		f := &e.Facets
		if err := rows.Scan(&e.ID, &typ, &uscc, &e.Source, &us, &f.Ref, &f.Link, &f.Result, &f.Severity, &f.Category, &f.Due, &data); err != nil {
			return err
		}
		e.Type, e.USCC, e.OccurredAt, e.Data = model.EventType(typ), model.USCC(uscc), time.UnixMicro(us), []byte(data)
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}
