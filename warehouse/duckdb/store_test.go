package duckdb_test

import (
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/qcredit/qcredit/warehouse"
	"github.com/qcredit/qcredit/warehouse/conformance"
	"github.com/qcredit/qcredit/warehouse/duckdb"
)

func openTemp(t *testing.T) warehouse.Store {
	t.Helper()
	s, err := duckdb.Open(t.Context(), filepath.Join(t.TempDir(), "w.duckdb"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Migrate(t.Context()); err != nil {
		s.Close()
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	conformance.Run(t, openTemp)
}

func openTempB(b *testing.B) warehouse.Store {
	s, err := duckdb.Open(b.Context(), filepath.Join(b.TempDir(), "w.duckdb"), slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.Migrate(b.Context()); err != nil {
		b.Fatal(err)
	}
	return s
}
