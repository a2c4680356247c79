package duckdb_test

import (
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
	"github.com/qcredit/qcredit/warehouse/duckdb"
)

func TestMigration010MovesDeadLettersToTheirContentKeys(t *testing.T) {
	// Given dead letters stored before 010, once per origin (the same bad
	// line from a file and from its copy, and one other), when 010 runs,
	// then the line is one dead letter with both origins, nothing is lost,
	// and its key is the one writes compute: the line arriving again from
	// a third origin adds an origin, not a dead letter.
	s, err := duckdb.Open(t.Context(), filepath.Join(t.TempDir(), "w.duckdb"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.MigrateTo(t.Context(), 9); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 3, 1, 9, 0, 0, 0, model.Shanghai)
	for i, row := range [][]any{
		{"old-1", "file", "/a.jsonl", "3", "invalid_uscc", "uscc: check", "320826-1", []byte(`{"id":"320826-1","source":"320826"}`), at},
		{"old-2", "file", "/copy.jsonl", "3", "invalid_uscc", "uscc: check", "320826-1", []byte(`{"id":"320826-1","source":"320826"}`), at.Add(time.Hour)},
		{"old-3", "kafka", "qcredit.events", "0/9", "malformed_json", "broken JSON", "", []byte(`{"id":`), at},
	} {
		if _, err := s.DB().ExecContext(t.Context(), `INSERT INTO dead_letters VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, row...); err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
	}
	if _, err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	got, err := s.DeadLetters(t.Context(), warehouse.DeadLetterFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d dead letters after 010, want 2: %+v", len(got), got)
	}
	var uscc warehouse.StoredDeadLetter
	for _, dl := range got {
		if dl.Reason == model.DeadLetterInvalidUSCC {
			uscc = dl
		}
	}
	if len(uscc.Origins) != 2 || uscc.Source != "320826" || !uscc.Received.Equal(at) || uscc.Origins[1].Name != "/copy.jsonl" {
		t.Errorf("merged dead letter %+v", uscc)
	}
	again := model.DeadLetter{Origin: model.Origin{Kind: "file", Name: "/third.jsonl", Position: "3"}, Reason: model.DeadLetterInvalidUSCC,
		Detail: "uscc: check", Raw: []byte(`{"id":"320826-1","source":"320826"}`), Received: at.Add(2 * time.Hour)}
	res, err := s.Write(t.Context(), warehouse.Batch{DeadLetters: []model.DeadLetter{again}})
	if err != nil || res != (warehouse.WriteResult{DeadLetterRepeats: 1}) {
		t.Errorf("the same line from a third file: %+v, %v; want a repeat", res, err)
	}
	if st, err := s.Stats(t.Context()); err != nil || st.DeadLetters.Total != 2 || st.DeadLetters.ByOrigin["file"] != 1 || st.DeadLetters.ByOrigin["kafka"] != 1 {
		t.Errorf("stats %+v, %v", st.DeadLetters, err)
	}
}
