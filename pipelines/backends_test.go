package pipelines_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/qcredit/qcredit/ingest"
	"github.com/qcredit/qcredit/internal/testenv"
	"github.com/qcredit/qcredit/pipelines"
	"github.com/qcredit/qcredit/simulate"
	"github.com/qcredit/qcredit/warehouse"
	"github.com/qcredit/qcredit/warehouse/clickhouse"
	"github.com/qcredit/qcredit/warehouse/duckdb/duckdbtest"
)

func TestScoreIsIdenticalOnBothBackends(t *testing.T) {
	// Given the same simulated city imported into DuckDB and ClickHouse,
	// when score runs as of the same day with the same scorecard, then both
	// runs have the same counts and the same output digest.
	base := testenv.ClickHouse(t)
	b := make([]byte, 6)
	rand.Read(b)
	url := strings.TrimRight(base, "/") + "/qcredit_test_" + hex.EncodeToString(b)
	ch, err := clickhouse.Open(t.Context(), url, quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ch.DropDatabase(context.WithoutCancel(t.Context()))
		ch.Close()
	})
	if _, err := ch.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	duck := duckdbtest.Open(t)
	var buf bytes.Buffer
	if _, err := simulate.Generate(simulate.Config{Enterprises: 1500, Years: 3, Seed: 5, End: simEnd},
		func(line []byte) error { buf.Write(line); buf.WriteByte('\n'); return nil }); err != nil {
		t.Fatal(err)
	}
	sc := defaultScorecard(t)
	var runs []warehouse.Run
	for _, s := range []warehouse.Store{duck, ch} {
		if _, err := (ingest.Importer{Store: s}).Import(t.Context(), "sim.jsonl", bytes.NewReader(buf.Bytes())); err != nil {
			t.Fatal(err)
		}
		run, err := newRunner(t, s, sc).Run(t.Context(), pipelines.RunRequest{Job: pipelines.JobScore, AsOf: simAsOf})
		if err != nil {
			t.Fatalf("%T: %v", s, err)
		}
		runs = append(runs, run)
	}
	if runs[0].Digest != runs[1].Digest || runs[0].Counts["enterprises"] == 0 {
		t.Errorf("DuckDB run %+v\nClickHouse run %+v", runs[0], runs[1])
	}
	for k, v := range runs[0].Counts {
		if runs[1].Counts[k] != v {
			t.Errorf("count %s: DuckDB %d, ClickHouse %d", k, v, runs[1].Counts[k])
		}
	}
}
