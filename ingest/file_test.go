package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qcredit/qcredit/ingest"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
	"github.com/qcredit/qcredit/warehouse/duckdb/duckdbtest"
)

func line(id, uscc, result string) string {
	sev := ""
	if result == "fail" {
		sev = `,"severity":"minor"`
	}
	return fmt.Sprintf(`{"id":%q,"type":"spot_check.completed","uscc":%q,"source":"320830","occurred_at":"2025-03-01T09:00:00+08:00","data":{"check_id":"C-%s","product":"龙虾","result":%q%s}}`,
		id, uscc, id, result, sev)
}

// importFixture is 10 valid events, one exact resend, one conflicting reuse
// of an id, a blank line and one line of each kind of bad input.
func importFixture(t *testing.T) (path string, bad int) {
	firm := string(model.CompleteUSCC("91320830MA1AAA01"))
	var lines []string
	for i := range 10 {
		lines = append(lines, line(fmt.Sprintf("320830-%d", i), firm, "pass"))
	}
	lines = append(lines,
		line("320830-3", firm, "pass"), // exact resend
		line("320830-4", firm, "fail"), // conflict
		"",
		`{"id":"320830-x","type":`, // broken JSON
		strings.Replace(line("320830-11", firm, "pass"), firm, firm[:17]+"0", 1), // bad USCC
		strings.Replace(line("320830-12", firm, "pass"), "spot_check.completed", "spot_check.begun", 1),
		strings.Replace(line("320830-13", firm, "pass"), `"product":"龙虾",`, "", 1), // missing field
	)
	path = filepath.Join(t.TempDir(), "events.jsonl")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, 4
}

func TestImportTwiceStoresEverythingOnce(t *testing.T) {
	// Given a file with valid, repeated, conflicting and bad lines, when it is
	// imported twice, then every valid event is stored once, every bad line
	// and the conflict are dead-lettered once, and the second import stores nothing.
	s := duckdbtest.Open(t)
	path, bad := importFixture(t)
	im := ingest.Importer{Store: s, BatchSize: 4, Workers: 2}

	first, err := im.ImportFile(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	want := ingest.ImportSummary{Lines: 16, Blank: 1, Valid: 12, Refused: 4,
		WriteResult: warehouse.WriteResult{Stored: 10, Duplicates: 1, Conflicts: 1, DeadLettered: bad + 1}}
	if first != want {
		t.Errorf("first import:\n got %+v\nwant %+v", first, want)
	}
	second, err := im.ImportFile(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	want.WriteResult = warehouse.WriteResult{Duplicates: 11, Conflicts: 1, DeadLetterRepeats: bad + 1}
	if second != want {
		t.Errorf("second import:\n got %+v\nwant %+v", second, want)
	}
	st, err := s.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if st.Events.Total != 10 || st.DeadLetters.Total != int64(bad+1) {
		t.Errorf("stats: %+v", st)
	}
	var result string // batches are written in file order: the first line of an id is the one kept
	if err := s.DB().QueryRowContext(t.Context(), `SELECT result FROM events WHERE id = '320830-4'`).Scan(&result); err != nil || result != "pass" {
		t.Errorf("320830-4 stored with result %q (%v), want the first line's pass", result, err)
	}
	for reason, n := range map[model.DeadLetterReason]int64{model.DeadLetterMalformedJSON: 1, model.DeadLetterInvalidUSCC: 1,
		model.DeadLetterUnknownType: 1, model.DeadLetterMissingField: 1, model.DeadLetterConflict: 1} {
		if st.DeadLetters.ByReason[string(reason)] != n {
			t.Errorf("dead letters for %s: got %d, want %d", reason, st.DeadLetters.ByReason[string(reason)], n)
		}
	}
}

func TestImportKeepsLineNumbersAcrossChunks(t *testing.T) {
	// Given a bad line after more than a chunk of input, its dead letter
	// names its true line number.
	s := duckdbtest.Open(t)
	firm := string(model.CompleteUSCC("91320830MA1AAA01"))
	var b strings.Builder
	n := 0
	for b.Len() < 3<<20 {
		b.WriteString(line(fmt.Sprintf("320830-%d", n), firm, "pass") + "\n")
		n++
	}
	b.WriteString("not json\n")
	path := filepath.Join(t.TempDir(), "big.jsonl")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := ingest.Importer{Store: s}.ImportFile(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Stored != n || sum.DeadLettered != 1 {
		t.Fatalf("summary %+v, want %d stored and 1 dead letter", sum, n)
	}
	var pos string
	db := s.DB()
	if err := db.QueryRowContext(t.Context(), `SELECT origin_position FROM dead_letters`).Scan(&pos); err != nil {
		t.Fatal(err)
	}
	if pos != fmt.Sprint(n+1) {
		t.Errorf("dead letter at line %s, want %d", pos, n+1)
	}
}

func TestImportOfMissingFileFails(t *testing.T) {
	s := duckdbtest.Open(t)
	if _, err := (ingest.Importer{Store: s}).ImportFile(t.Context(), filepath.Join(t.TempDir(), "nope.jsonl")); err == nil {
		t.Fatal("want an error for a missing file")
	}
}

// failingStore fails every write after the first ok ones.
type failingStore struct {
	warehouse.Store
	ok     int
	writes int
}

func (s *failingStore) Write(ctx context.Context, b warehouse.Batch) (warehouse.WriteResult, error) {
	if s.writes++; s.writes > s.ok {
		return warehouse.WriteResult{}, errors.New("warehouse went away (test)")
	}
	return s.Store.Write(ctx, b)
}

func TestImportStopsAtTheFirstFailedWrite(t *testing.T) {
	// Given a warehouse that fails its second write, when a file of several
	// batches is imported, then the import fails with that error, the first
	// batch is stored and nothing after the failed one is written.
	s := &failingStore{Store: duckdbtest.Open(t), ok: 1}
	path, _ := importFixture(t)
	sum, err := ingest.Importer{Store: s, BatchSize: 4, Workers: 2}.ImportFile(t.Context(), path)
	if err == nil || !strings.Contains(err.Error(), "warehouse went away") {
		t.Fatalf("import error %v, want the failed write's", err)
	}
	if sum.Stored != 4 || s.writes != 2 {
		t.Errorf("stored %d in %d writes, want the first batch of 4 and no write after the failed second", sum.Stored, s.writes)
	}
}
