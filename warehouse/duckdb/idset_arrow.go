//go:build duckdb_arrow

package duckdb

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/duckdb/duckdb-go/v2"
)

// eachStoredID calls each with every stored event id, read as Arrow batches
// (30M ids in about a second). The string is only valid during the call.
func eachStoredID(r rawConn, each func(id string)) error {
	ar, err := duckdb.NewArrowFromConn(r.conn)
	if err != nil {
		return err
	}
	rdr, err := ar.QueryContext(r.ctx, `SELECT id FROM events`)
	if err != nil {
		return err
	}
	defer rdr.Release()
	for rdr.Next() {
		ids, ok := rdr.RecordBatch().Column(0).(*array.String)
		if !ok {
			return fmt.Errorf("id column is %s, want utf8", rdr.RecordBatch().Column(0).DataType())
		}
		for i := range ids.Len() {
			each(ids.Value(i))
		}
	}
	return rdr.Err()
}
