//go:build !duckdb_arrow

package duckdb

import (
	"fmt"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/qcredit/qcredit/warehouse"
)

// stageEvents appends the batch to the temp table staging_events. This is the
// portable path; builds with -tags duckdb_arrow stage through Arrow instead,
// about twice as fast.
func stageEvents(r rawConn, items []warehouse.Item) (stagedEvents, error) {
	if _, err := r.exec("DELETE FROM staging_events"); err != nil {
		return nil, fmt.Errorf("clear staging: %w", err)
	}
	a, err := duckdb.NewAppender(r.conn, "temp", "main", "staging_events")
	if err != nil {
		return nil, fmt.Errorf("appender: %w", err)
	}
	now := time.Now()
	for _, it := range items {
		if err := a.AppendRow(eventRow(it, now)...); err != nil {
			a.Close()
			return nil, fmt.Errorf("stage %s: %w", it.Record.ID, err)
		}
	}
	if err := a.Close(); err != nil {
		return nil, fmt.Errorf("stage events: %w", err)
	}
	return tableStage{}, nil
}

type tableStage struct{}

func (tableStage) IDs() string  { return "staging_events" }
func (tableStage) Rows() string { return "staging_events" }
func (tableStage) Release()     {}
