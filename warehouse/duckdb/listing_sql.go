//go:build !duckdb_arrow

package duckdb

import (
	"context"

	"github.com/qcredit/qcredit/model"
)

// listingRows reads the listing records through database/sql: the portable
// path; builds with -tags duckdb_arrow read them as Arrow batches instead.
func (s *Store) listingRows(ctx context.Context, query string, args []any, add func(model.Record) error) error {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var r model.Record
		var typ, uscc string
		f := &r.Facets
		if err := rows.Scan(&uscc, &r.ID, &typ, &r.Source, &r.OccurredAt, &f.Ref, &f.Link, &f.Result, &f.Severity, &f.Category); err != nil {
			return err
		}
		r.Type, r.USCC = model.EventType(typ), model.USCC(uscc)
		if err := add(r); err != nil {
			return err
		}
	}
	return rows.Err()
}
