package clickhouse_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/qcredit/qcredit/ingest"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
	"github.com/qcredit/qcredit/warehouse/duckdb/duckdbtest"
)

func TestSameImportSameStatsAsDuckDB(t *testing.T) {
	// Given one JSONL file with resends, conflicts and broken lines, when it is
	// imported twice into DuckDB and into ClickHouse (in batches smaller than
	// the file), then both report identical stats and enterprise states.
	path := filepath.Join(t.TempDir(), "events.jsonl")
	if err := os.WriteFile(path, append(bytes.Join(fixtureLines(20000, 7), []byte("\n")), '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	duck := duckdbtest.Open(t)
	click := openTest(t)
	defer click.Close()

	var stats [2]warehouse.Stats
	for i, s := range []warehouse.Store{duck, click} {
		im := ingest.Importer{Store: s, BatchSize: 3000}
		for range 2 {
			if _, err := im.ImportFile(t.Context(), path); err != nil {
				t.Fatalf("import into %T: %v", s, err)
			}
		}
		var err error
		if stats[i], err = s.Stats(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if !reflect.DeepEqual(stats[0], stats[1]) {
		t.Fatalf("stats differ:\nduckdb     %+v\nclickhouse %+v", stats[0], stats[1])
	}
	if stats[0].Events.Total < 18000 || stats[0].DeadLetters.ByReason[string(model.DeadLetterConflict)] == 0 ||
		stats[0].DeadLetters.ByReason[string(model.DeadLetterMalformedJSON)] == 0 {
		t.Errorf("the fixture should hold events, conflicts and broken lines: %+v", stats[0])
	}
	found := 0
	for f := range 300 { // of 2,000 firms: a lookup scans the events
		uscc := model.CompleteUSCC(fixtureUSCCPrefix(f))
		want, werr := duck.Enterprise(t.Context(), uscc)
		got, gerr := click.Enterprise(t.Context(), uscc)
		if errors.Is(werr, warehouse.ErrNotFound) && errors.Is(gerr, warehouse.ErrNotFound) {
			continue
		}
		if werr != nil || gerr != nil || !sameEnterprise(want, got) {
			t.Fatalf("enterprise %s:\nduckdb     %+v %v\nclickhouse %+v %v", uscc, want, werr, got, gerr)
		}
		found++
	}
	if found < 150 {
		t.Errorf("only %d of 300 fixture firms found", found)
	}
}

func sameEnterprise(a, b model.Enterprise) bool {
	return a.USCC == b.USCC && a.Name == b.Name && a.Region == b.Region && a.Industry == b.Industry &&
		a.Cluster == b.Cluster && a.Scale == b.Scale && a.RegisteredAt.Equal(b.RegisteredAt) &&
		a.Deregistered == b.Deregistered && a.UpdatedAt.Equal(b.UpdatedAt)
}
