package main

import (
	"math"
	"regexp"
	"strconv"
	"testing"
)

func TestBenchIngestReportsBothRates(t *testing.T) {
	// given the in-process broker, when bench ingest runs over a few thousand
	// events, then it prints the fetch and ingest rates and their ratio,
	// computed from the rates it printed.
	t.Setenv("TMPDIR", t.TempDir())
	out, err := run(t, "", "bench", "ingest", "--events", "3000", "--partitions", "2", "--batch-size", "500")
	if err != nil {
		t.Fatalf("bench ingest: %v\n%s", err, out)
	}
	perSecond := func(label string) float64 {
		m := regexp.MustCompile(regexp.QuoteMeta(label) + `\s+[0-9.]+ s\s+([0-9]+) events/s`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no %q line in\n%s", label, out)
		}
		v, _ := strconv.ParseFloat(m[1], 64)
		return v
	}
	fetch, ingest := perSecond("(a) bare fetch:"), perSecond("(b) ingest+DuckDB:")
	m := regexp.MustCompile(`ratio \(b\)/\(a\):\s+([0-9.]+)`).FindStringSubmatch(out)
	if m == nil || fetch <= 0 || ingest <= 0 {
		t.Fatalf("rates missing in\n%s", out)
	}
	ratio, _ := strconv.ParseFloat(m[1], 64)
	// The ratio is printed to two decimals from unrounded rates.
	if want := ingest / fetch; math.Abs(ratio-want) > 0.006+want*0.01 {
		t.Fatalf("ratio %v, but the printed rates give %v\n%s", ratio, want, out)
	}
}
