//go:build duckdb_arrow

package duckdb

import (
	"context"
	"database/sql/driver"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/duckdb/duckdb-go/v2"
)

// arrowQuery runs query and hands each Arrow batch to fn; the batch's
// memory is DuckDB's and gone after fn returns.
func (s *Store) arrowQuery(ctx context.Context, query string, args []any, fn func(arrow.RecordBatch) error) error {
	c, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Raw(func(dc any) error {
		ar, err := duckdb.NewArrowFromConn(dc.(driver.Conn))
		if err != nil {
			return err
		}
		rdr, err := ar.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rdr.Release()
		for rdr.Next() {
			if err := fn(rdr.RecordBatch()); err != nil {
				return err
			}
		}
		return rdr.Err()
	})
}
