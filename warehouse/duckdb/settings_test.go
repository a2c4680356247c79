package duckdb_test

import (
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/qcredit/qcredit/warehouse/duckdb"
)

func TestSettingsFollowTheFile(t *testing.T) {
	// given a warehouse path with DuckDB settings after '?', when opened,
	// then DuckDB runs with them and the file is the path before them.
	dir := t.TempDir()
	s, err := duckdb.Open(t.Context(), filepath.Join(dir, "b.duckdb")+"?memory_limit=2GB&threads=1", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var limit, threads string
	if err := s.DB().QueryRowContext(t.Context(), `SELECT current_setting('memory_limit'), current_setting('threads')`).
		Scan(&limit, &threads); err != nil {
		t.Fatal(err)
	}
	if limit != "1.8 GiB" || threads != "1" { // 2 GB as DuckDB prints it
		t.Errorf("memory_limit %q, threads %q: want 1.8 GiB and 1", limit, threads)
	}
	if _, err := os.Stat(filepath.Join(dir, "b.duckdb")); err != nil {
		t.Errorf("no warehouse file b.duckdb: %v", err)
	}
}

func TestReleaseMemoryEmptiesTheBlockCache(t *testing.T) {
	// given a table read after a reopen (its blocks now cached), when the
	// store releases memory, then no table block stays cached and the
	// memory limit is what it was: the path's, or DuckDB's default.
	for _, settings := range []string{"?memory_limit=3GB", ""} {
		t.Run("path"+settings, func(t *testing.T) { testReleaseMemory(t, settings) })
	}
}

func testReleaseMemory(t *testing.T, settings string) {
	path := filepath.Join(t.TempDir(), "w.duckdb") + settings
	s, err := duckdb.Open(t.Context(), path, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().ExecContext(t.Context(), `CREATE TABLE t AS SELECT range AS x, md5(range::VARCHAR) AS y FROM range(8000000)`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = duckdb.Open(t.Context(), path, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Read on a connection of its own, held open meanwhile: the limit is
	// the instance's, whichever connection asks (RESET left the
	// instance's at the lowered one while the connection that reset it
	// showed the default).
	other, err := s.DB().Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	cached := func() (n int64, limit string) {
		t.Helper()
		if err := other.QueryRowContext(t.Context(), `SELECT (SELECT memory_usage_bytes FROM duckdb_memory() WHERE tag = 'BASE_TABLE'),
			current_setting('memory_limit')`).Scan(&n, &limit); err != nil {
			t.Fatal(err)
		}
		return n, limit
	}
	var distinct int64
	if err := s.DB().QueryRowContext(t.Context(), `SELECT count(DISTINCT y) FROM t`).Scan(&distinct); err != nil {
		t.Fatal(err)
	}
	before, limit := cached()
	if err := s.ReleaseMemory(t.Context()); err != nil {
		t.Fatal(err)
	}
	after, limitAfter := cached()
	if before < 100<<20 || after > before/2 || !sameLimit(limit, limitAfter) {
		t.Errorf("cached %d bytes, then %d after releasing; memory_limit %s, then %s", before, after, limit, limitAfter)
	}
	// The buffer manager has its limit back, not only the setting: the
	// same query again needs far more than the lowered 64 MB.
	if err := other.QueryRowContext(t.Context(), `SELECT count(DISTINCT y) FROM t`).Scan(&distinct); err != nil {
		t.Errorf("a large query after releasing: %v", err)
	}
}

// sameLimit says whether two memory limits as DuckDB shows them ("18.8
// GiB") are the same up to the last digit shown: DuckDB's default is 80 %
// of the machine's memory, which a limit set again from its rounded text
// can only approach.
func sameLimit(a, b string) bool {
	var x, y float64
	var ua, ub string
	if _, err := fmt.Sscanf(a, "%g %s", &x, &ua); err != nil {
		return false
	}
	if _, err := fmt.Sscanf(b, "%g %s", &y, &ub); err != nil {
		return false
	}
	return ua == ub && math.Abs(x-y) <= 0.1+1e-9
}
