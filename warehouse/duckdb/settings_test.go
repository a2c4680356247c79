package duckdb_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/qcredit/qcredit/warehouse/duckdb"
)

func TestMemoryLimitDefaultsToOneGigabyte(t *testing.T) {
	// given a warehouse path without settings, and one with memory_limit,
	// when opened, then DuckDB's memory is bounded to 1 GB, or as the path
	// says, and the file is the path before the settings.
	dir := t.TempDir()
	for _, c := range []struct{ path, want string }{
		{filepath.Join(dir, "a.duckdb"), "953.6 MiB"}, // 1 GB, as DuckDB prints it
		{filepath.Join(dir, "b.duckdb") + "?memory_limit=2GB&threads=1", "1.8 GiB"},
	} {
		s, err := duckdb.Open(t.Context(), c.path, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		var limit string
		if err := s.DB().QueryRowContext(t.Context(), `SELECT current_setting('memory_limit')`).Scan(&limit); err != nil {
			t.Fatal(err)
		}
		s.Close()
		if limit != c.want {
			t.Errorf("%s: memory_limit %q, want %q", c.path, limit, c.want)
		}
	}
	for _, f := range []string{"a.duckdb", "b.duckdb"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("no warehouse file %s: %v", f, err)
		}
	}
}
