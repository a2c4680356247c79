//go:build !duckdb_arrow

package duckdb

import "database/sql/driver"

// eachStoredID calls each with every stored event id.
func eachStoredID(r rawConn, each func(id string)) error {
	return r.rows(`SELECT id FROM events`, func(v []driver.Value) error {
		each(v[0].(string))
		return nil
	})
}
