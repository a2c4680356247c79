//go:build !duckdb_arrow

package duckdb

import (
	"database/sql/driver"
	"fmt"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/qcredit/qcredit/warehouse"
)

// appenderEvents is a batch for the temp table staging_events. This is the
// portable path; builds with -tags duckdb_arrow stage through Arrow instead,
// about twice as fast, and build their batch before the write's turn.
type appenderEvents []warehouse.Item

func newEventBatch(items []warehouse.Item) eventBatch { return appenderEvents(items) }

func (appenderEvents) release() {}

// stage appends the batch to staging_events.
func (items appenderEvents) stage(r rawConn, stamp time.Time) (stagedEvents, error) {
	if _, err := r.exec("DELETE FROM staging_events"); err != nil {
		return nil, fmt.Errorf("clear staging: %w", err)
	}
	a, err := duckdb.NewAppender(r.conn, "temp", "main", "staging_events")
	if err != nil {
		return nil, fmt.Errorf("appender: %w", err)
	}
	for _, it := range items {
		if err := a.AppendRow(eventRow(it, stamp)...); err != nil {
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

// eventRow is one event in the column order of the events table.
func eventRow(it warehouse.Item, stamp time.Time) []driver.Value {
	r := it.Record
	return []driver.Value{r.ID, string(r.Type), string(r.USCC), r.Source, r.OccurredAt, optTime(r.ReportedAt),
		r.Facets.Ref, r.Facets.Link, r.Facets.Result, r.Facets.Severity, r.Facets.Category,
		optFloat(r.Facets.Amount), optDate(r.Facets.Due), string(r.Data), r.Hash, it.Origin.String(), stamp,
		r.USCC.SortKey()}
}

func optTime(t *time.Time) driver.Value {
	if t == nil {
		return nil
	}
	return *t
}

func optFloat(f *float64) driver.Value {
	if f == nil {
		return nil
	}
	return *f
}

func optDate(d string) driver.Value {
	if d == "" {
		return nil
	}
	t, err := time.Parse(time.DateOnly, d)
	if err != nil {
		return nil
	}
	return t
}
