//go:build duckdb_arrow

package duckdb

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/qcredit/qcredit/model"
)

// listingRows reads the listing records as Arrow batches: a city of a
// million firms has over a million of them, and database/sql's scanning
// value by value cost as much as the score run's own evaluation of them.
func (s *Store) listingRows(ctx context.Context, query string, args []any, add func(model.Record) error) error {
	labels := labelInterner{}
	return s.arrowQuery(ctx, query, args, func(rec arrow.RecordBatch) error { return addListingBatch(rec, labels, add) })
}

// addListingBatch hands each row of one batch to add; strings are copied
// out of DuckDB's memory (repeated ones interned).
func addListingBatch(rec arrow.RecordBatch, labels labelInterner, add func(model.Record) error) error {
	if rec.NumCols() != 10 {
		return fmt.Errorf("listing batch has %d columns, want 10", rec.NumCols())
	}
	text := make([]*array.String, 10)
	for i := range text {
		if i == 4 {
			continue
		}
		a, ok := rec.Column(i).(*array.String)
		if !ok {
			return fmt.Errorf("listing column %d is %s, want utf8", i, rec.Column(i).DataType())
		}
		text[i] = a
	}
	at, ok := rec.Column(4).(*array.Timestamp)
	if !ok {
		return fmt.Errorf("listing column 4 is %s, want a timestamp", rec.Column(4).DataType())
	}
	toTime, err := at.DataType().(*arrow.TimestampType).GetToTimeFunc()
	if err != nil {
		return err
	}
	var uscc model.USCC // one copy per firm: its records come together
	for row := range int(rec.NumRows()) {
		if u := text[0].Value(row); u != string(uscc) {
			uscc = model.USCC(strings.Clone(u))
		}
		r := model.Record{Event: model.Event{USCC: uscc, ID: strings.Clone(text[1].Value(row)),
			Type: model.EventType(labels.get(text[2].Value(row))), Source: labels.get(text[3].Value(row)),
			OccurredAt: toTime(at.Value(row)).In(time.UTC)},
			Facets: model.Facets{Ref: strings.Clone(text[5].Value(row)), Link: strings.Clone(text[6].Value(row)), Result: labels.get(text[7].Value(row)),
				Severity: labels.get(text[8].Value(row)), Category: labels.get(text[9].Value(row))}}
		if err := add(r); err != nil {
			return err
		}
	}
	return nil
}
