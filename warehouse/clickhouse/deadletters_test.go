package clickhouse_test

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
	"github.com/qcredit/qcredit/warehouse/clickhouse"
	"github.com/qcredit/qcredit/warehouse/conformance"
)

func TestDeadLetterConformance(t *testing.T) {
	conformance.RunDeadLetters(t, func(t *testing.T) conformance.DeadLetterStore { return openTest(t) })
}

func TestMigration010MovesDeadLettersToTheirContentKeys(t *testing.T) {
	// Given dead letters stored before 010, once per origin (the same bad
	// line from a file and from its copy, and one other), when 010 runs
	// (whole, or again after an attempt that died after dropping the old
	// table, or after renaming the new one), then the line is one dead letter
	// with both origins, nothing is lost, and its key is the one writes
	// compute: the line arriving again from a third origin adds an origin,
	// not a dead letter.
	for _, tt := range []struct {
		name  string
		until string // the failed attempt ran its statements up to the first with this prefix
	}{{"once", ""}, {"after a failure past the drop", "DROP TABLE"}, {"after a failure past the rename", "RENAME TABLE"}} {
		t.Run(tt.name, func(t *testing.T) { testMigration010(t, tt.until) })
	}
}

func testMigration010(t *testing.T, failedUntil string) {
	s, err := clickhouse.Open(t.Context(), testURL(t), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.MigrateTo(t.Context(), 9); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 3, 1, 9, 0, 0, 0, model.Shanghai)
	// INSERT … SELECT: the native protocol sends VALUES as data blocks, which Exec does not.
	for _, row := range []string{
		fmt.Sprintf(`'old-1', 'file', '/a.jsonl', '3', 'invalid_uscc', 'uscc: check', '320826-1', '{"id":"320826-1","source":"320826"}', toDateTime(%d)`, at.Unix()),
		fmt.Sprintf(`'old-2', 'file', '/copy.jsonl', '3', 'invalid_uscc', 'uscc: check', '320826-1', '{"id":"320826-1","source":"320826"}', toDateTime(%d)`, at.Add(time.Hour).Unix()),
		fmt.Sprintf(`'old-3', 'kafka', 'qcredit.events', '0/9', 'malformed_json', 'broken JSON', '', '{"id":', toDateTime(%d)`, at.Unix()),
	} {
		q := fmt.Sprintf(`INSERT INTO %s.dead_letters (key, origin_kind, origin_name, origin_position, reason, detail, event_id, raw, received_at) SELECT %s`,
			s.Schema().DB, row)
		if err := s.Conn().Exec(t.Context(), q); err != nil {
			t.Fatal(err)
		}
	}
	if failedUntil != "" {
		runUntil(t, s, 10, failedUntil)
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

// runUntil runs migration version's statements up to and including the
// first that starts with prefix, as an attempt that died there would have.
func runUntil(t *testing.T, s *clickhouse.Store, version int, prefix string) {
	t.Helper()
	ms, err := clickhouse.Render(s.Schema())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Version != version {
			continue
		}
		for _, stmt := range m.Statements {
			if err := s.Conn().Exec(t.Context(), stmt); err != nil {
				t.Fatalf("%v\n%s", err, stmt)
			}
			if strings.HasPrefix(stmt, prefix) {
				return
			}
		}
	}
	t.Fatalf("migration %d has no statement starting %q", version, prefix)
}
