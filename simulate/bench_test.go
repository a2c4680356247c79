package simulate_test

import (
	"testing"

	"github.com/qcredit/qcredit/simulate"
)

// BenchmarkGenerate1M times planning and encoding a million lines.
func BenchmarkGenerate1M(b *testing.B) {
	cfg := simulate.Config{Events: 1_000_000, Years: 3, Seed: 1, End: end, BadRate: 0.01}
	for b.Loop() {
		n := 0
		if _, err := simulate.Generate(cfg, func(line []byte) error { n += len(line); return nil }); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(n)/1e6, "MB")
	}
	b.ReportMetric(float64(b.N)*1e6/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkPlan1M times planning alone.
func BenchmarkPlan1M(b *testing.B) {
	cfg := simulate.Config{Events: 1_000_000, Years: 3, Seed: 1, End: end}
	for b.Loop() {
		if _, err := simulate.NewPlan(cfg); err != nil {
			b.Fatal(err)
		}
	}
}
