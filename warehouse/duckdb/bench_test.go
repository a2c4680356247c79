package duckdb_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
	"github.com/qcredit/qcredit/warehouse/conformance"
	"github.com/qcredit/qcredit/warehouse/duckdb/duckdbtest"
)

func BenchmarkWrite(b *testing.B) {
	items := make([]warehouse.Item, 200000)
	for i := range items {
		items[i] = conformance.Event(b, fmt.Sprintf("x-%d", i), model.EventSpotCheckCompleted, conformance.FirmA,
			time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), map[string]any{"check_id": "C", "product": "p", "result": "pass"})
	}
	s := duckdbtest.Open(b)
	i := 0
	for b.Loop() {
		i++
		for j := range items {
			items[j].Record.ID = fmt.Sprintf("x-%d-%d", i, j)
		}
		if _, err := s.Write(b.Context(), warehouse.Batch{Items: items}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(items))/b.Elapsed().Seconds(), "events/s")
}
