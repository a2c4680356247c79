// Package duckdbtest opens real DuckDB warehouses for other packages' tests.
package duckdbtest

import (
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/qcredit/qcredit/warehouse/duckdb"
)

// Open opens a fresh, migrated warehouse in the test's temp directory and
// closes it when the test ends.
func Open(t testing.TB) *duckdb.Store {
	t.Helper()
	return OpenFile(t, filepath.Join(t.TempDir(), "w.duckdb"))
}

// OpenFile opens (creating when missing) and migrates the warehouse at path,
// and closes it when the test ends.
func OpenFile(t testing.TB, path string) *duckdb.Store {
	t.Helper()
	s, err := duckdb.Open(t.Context(), path, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}
