package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/simulate"
	"github.com/qcredit/qcredit/warehouse"
)

func TestImportSimulatedFileTwice(t *testing.T) {
	// Given a simulated file with 2 % bad lines, resends and conflicts, when it
	// is imported twice, then stats hold every valid event once and every bad
	// line and conflict once, as the planted truth says.
	dir := t.TempDir()
	file, truthFile := filepath.Join(dir, "sim.jsonl"), filepath.Join(dir, "truth.json")
	t.Setenv("QCREDIT_WAREHOUSE", "duckdb://"+filepath.Join(dir, "w.duckdb"))
	if out, err := run(t, "", "simulate", "--enterprises", "300", "--years", "2", "--seed", "5", "--end", "2026-06-30",
		"--bad-rate", "0.02", "-q", "--out", file, "--truth", truthFile); err != nil {
		t.Fatalf("simulate: %v\n%s", err, out)
	}
	var truth simulate.Truth
	b, err := os.ReadFile(truthFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &truth); err != nil {
		t.Fatal(err)
	}
	if truth.BadLines == 0 || truth.DuplicateLines == 0 || truth.ConflictLines == 0 {
		t.Fatalf("the file should hold every kind of bad input: %+v", truth)
	}

	var first, second importCounts
	for i, into := range []*importCounts{&first, &second} {
		out, err := run(t, "", "import", "-q", file)
		if err != nil {
			t.Fatalf("import %d: %v\n%s", i+1, err, out)
		}
		if err := json.Unmarshal([]byte(out), into); err != nil {
			t.Fatalf("import %d summary: %v\n%s", i+1, err, out)
		}
	}
	valid, deadLetters := int64(truth.ValidUniqueEvents), int64(truth.BadLines+truth.ConflictLines)
	if int64(first.Stored) != valid || first.Duplicates != truth.DuplicateLines || int64(first.DeadLettered) != deadLetters {
		t.Errorf("first import %v; truth: %d valid, %d duplicates, %d dead letters", first, valid, truth.DuplicateLines, deadLetters)
	}
	if second.Stored != 0 || second.DeadLettered != 0 || int64(second.Duplicates) != valid+int64(truth.DuplicateLines) ||
		int64(second.DeadLettersKnown) != deadLetters {
		t.Errorf("second import stored something again: %v", second)
	}

	out, err := run(t, "", "stats")
	if err != nil {
		t.Fatalf("stats: %v", err)
	}
	var st warehouse.Stats
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatal(err)
	}
	if st.Events.Total != valid || st.DeadLetters.Total != deadLetters || st.Enterprises != int64(truth.Enterprises) {
		t.Errorf("stats %+v; truth %d events, %d dead letters, %d enterprises", st, valid, deadLetters, truth.Enterprises)
	}
	if st.DeadLetters.ByReason[string(model.DeadLetterConflict)] != int64(truth.ConflictLines) {
		t.Errorf("conflicts: stats %d, truth %d", st.DeadLetters.ByReason["conflict"], truth.ConflictLines)
	}
	for reason, n := range truth.BadReasons {
		if st.DeadLetters.ByReason[string(reason)] != int64(n) {
			t.Errorf("dead letters for %s: stats %d, truth %d", reason, st.DeadLetters.ByReason[string(reason)], n)
		}
	}
}
