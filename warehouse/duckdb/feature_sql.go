//go:build !duckdb_arrow

package duckdb

import (
	"context"

	"github.com/qcredit/qcredit/warehouse"
)

// featureRows reads the feature rows; builds with -tags duckdb_arrow read
// them as Arrow batches instead.
func (s *Store) featureRows(ctx context.Context, query string, args []any, windows int,
	add func(uscc string, r warehouse.FeatureRow) error) error {
	return s.featureRowsSQL(ctx, query, args, windows, add)
}
