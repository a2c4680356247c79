package main

import (
	"encoding/json"
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

func TestBenchImportReportsTheRateAtTheStoresBatchSize(t *testing.T) {
	// given no --batch, when bench import runs over a few thousand events,
	// then it reports every event stored, at DuckDB's own batch size, and a
	// rate that is events over seconds.
	out, err := run(t, "", "bench", "import", "--events", "3000", "--dir", t.TempDir())
	if err != nil {
		t.Fatalf("bench import: %v\n%s", err, out)
	}
	var report struct {
		Results []importBench `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil || len(report.Results) != 1 {
		t.Fatalf("report %q: %v", out, err)
	}
	r := report.Results[0]
	if r.Backend != "duckdb" || r.Events != 3000 || r.Batch != 2*122_880 {
		t.Errorf("result %+v, want 3000 events into duckdb at batches of 245,760", r)
	}
	if want := float64(r.Events) / r.Seconds; math.Abs(r.EventsPerSec-want) > want*1e-9 {
		t.Errorf("rate %v, but events over seconds is %v", r.EventsPerSec, want)
	}
}
