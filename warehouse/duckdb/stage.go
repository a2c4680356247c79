package duckdb

import (
	"context"
	"database/sql/driver"
	"io"
	"time"
)

// rawConn runs statements on the write connection's driver connection, so
// one transaction can span staging (appender or Arrow), queries and inserts.
type rawConn struct {
	ctx  context.Context
	conn driver.Conn
}

func (r rawConn) exec(query string) (int64, error) {
	res, err := r.conn.(driver.ExecerContext).ExecContext(r.ctx, query, nil)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// rows runs a query and calls each with every row's values.
func (r rawConn) rows(query string, each func([]driver.Value) error) error {
	rows, err := r.conn.(driver.QueryerContext).QueryContext(r.ctx, query, nil)
	if err != nil {
		return err
	}
	defer rows.Close()
	vals := make([]driver.Value, len(rows.Columns()))
	for {
		err := rows.Next(vals)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := each(vals); err != nil {
			return err
		}
	}
}

// rowGroupRows is DuckDB's default row group size: the unit in which it
// compresses and writes a table.
const rowGroupRows = 122_880

// eventBatch is a batch's events made ready, before the write's turn, to be
// staged in the write's transaction.
type eventBatch interface {
	// stage makes the batch visible to SQL with ingested_at set to stamp.
	stage(r rawConn, stamp time.Time) (stagedEvents, error)
	release()
}

// stagedEvents is a batch made visible to SQL as two relations: one with the
// ids and hashes (for classification), one with full rows (for the insert).
// Implementations: Arrow views (build tag duckdb_arrow, the fast path) or a
// temp table filled by the appender.
//
// Read each relation with SELECT *, once: an Arrow view is a stream (a
// second scan finds it empty), and duckdb-go's stream ignores the columns
// DuckDB projects, so a narrower SELECT reads the wrong buffers.
type stagedEvents interface {
	IDs() string  // relation with columns id, hash
	Rows() string // relation with the columns of events, in order
	Release()
}
