package pipelines_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/qcredit/qcredit/ingest"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/pipelines"
	"github.com/qcredit/qcredit/simulate"
	"github.com/qcredit/qcredit/warehouse"
)

func TestStatsIsIdenticalOnBothBackends(t *testing.T) {
	// Given the same simulated city with bad input mixed in, imported into
	// DuckDB and ClickHouse, when stats runs as of the same day, then both
	// runs have the same digest and counts, and the outputs hold every
	// county's months with spot checks, failures and dead letters.
	var buf bytes.Buffer
	if _, err := simulate.Generate(simulate.Config{Enterprises: 800, Years: 3, Seed: 9, End: simEnd, BadRate: 0.02},
		func(line []byte) error { buf.Write(line); buf.WriteByte('\n'); return nil }); err != nil {
		t.Fatal(err)
	}
	runs := map[string]warehouse.Run{}
	for name, s := range bothBackends(t) {
		if _, err := (ingest.Importer{Store: s}).Import(t.Context(), "sim.jsonl", bytes.NewReader(buf.Bytes())); err != nil {
			t.Fatal(err)
		}
		r, err := pipelines.NewRunner(s, quiet, pipelines.RunnerOptions{Jobs: []pipelines.Job{pipelines.NewStatsJob(s)}})
		if err != nil {
			t.Fatal(err)
		}
		// As of today: refused input counts in the month it arrived (now).
		run, err := r.Run(t.Context(), pipelines.RunRequest{Job: pipelines.JobStats})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		runs[name] = run
		if name == "duckdb" {
			checkStatsOutputs(t, s, run)
		}
	}
	d, c := runs["duckdb"], runs["clickhouse"]
	if d.Digest != c.Digest || d.Counts["county_months"] == 0 {
		t.Errorf("DuckDB run %+v\nClickHouse run %+v", d, c)
	}
	for k, v := range d.Counts {
		if c.Counts[k] != v {
			t.Errorf("count %s: DuckDB %d, ClickHouse %d", k, v, c.Counts[k])
		}
	}
}

// checkStatsOutputs checks what a user of the dashboards would see: the
// months of the window, failures never above checks, refused input counted.
func checkStatsOutputs(t *testing.T, s backend, run warehouse.Run) {
	t.Helper()
	months := map[string]bool{}
	today := time.Now().In(model.Shanghai).Format("2006-01")
	var checks, fails, dead, events int64
	err := s.ReadOutputs(t.Context(), warehouse.OutputQuery{Job: run.Job, Version: run.Version, Payload: true}, func(o warehouse.OutputRow) error {
		if !strings.HasPrefix(o.Key, "month/") {
			return nil
		}
		var m model.CountyMonth
		if err := json.Unmarshal(o.Payload, &m); err != nil {
			return err
		}
		if m.SpotCheckFailures > m.SpotChecks || m.Month > today || m.Month < "2023-07" {
			t.Errorf("%s: %+v", o.Key, m)
		}
		months[m.Month] = true
		checks, fails, dead, events = checks+m.SpotChecks, fails+m.SpotCheckFailures, dead+m.DeadLetters, events+m.Events
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(months) < 30 || len(months) > pipelines.StatsMonths || checks == 0 || fails == 0 || dead == 0 || events == 0 {
		t.Errorf("%d months (want %d), %d checks, %d failures, %d dead letters, %d events", len(months), pipelines.StatsMonths, checks, fails, dead, events)
	}
}
