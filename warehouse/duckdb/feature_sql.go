//go:build !duckdb_arrow

package duckdb

import (
	"context"

	"github.com/qcredit/qcredit/warehouse"
)

// featureRows reads the feature rows through database/sql: the portable
// path; builds with -tags duckdb_arrow read them as Arrow batches instead.
func (s *Store) featureRows(ctx context.Context, query string, args []any, windows int,
	add func(uscc string, r warehouse.FeatureRow) error) error {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var (
		uscc string
		dest = make([]any, 0, 6+windows)
	)
	for rows.Next() {
		r := warehouse.FeatureRow{Counts: make([]int64, windows)}
		var ids any // a LIST scans as []any; duckdb.Composite decodes by reflection, far slower
		dest = append(dest[:0], &uscc, &r.Kind, &r.Sub, &r.Category, &r.Flag)
		for i := range r.Counts {
			dest = append(dest, &r.Counts[i])
		}
		dest = append(dest, &ids)
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		list, _ := ids.([]any)
		r.IDs = make([]string, len(list))
		for i, v := range list {
			r.IDs[i], _ = v.(string)
		}
		if err := add(uscc, r); err != nil {
			return err
		}
	}
	return rows.Err()
}
