package ingest

import (
	"testing"
	"time"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/simulate"
)

// BenchmarkDecode decodes and validates simulated events, one at a time.
func BenchmarkDecode(b *testing.B) {
	var lines [][]byte
	cfg := simulate.Config{Events: 100_000, Years: 3, Seed: 1, End: time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)}
	if _, err := simulate.Generate(cfg, func(l []byte) error {
		lines = append(lines, append([]byte(nil), l...))
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		if _, dl := (Decoder{}).Decode(lines[i%len(lines)], model.Origin{}); dl != nil {
			b.Fatal(dl.Detail)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
