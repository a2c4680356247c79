package duckdb_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
	"github.com/qcredit/qcredit/warehouse/conformance"
	"github.com/qcredit/qcredit/warehouse/duckdb"
	"github.com/qcredit/qcredit/warehouse/duckdb/duckdbtest"
)

func check(t *testing.T, id string, product string) warehouse.Item {
	return conformance.Event(t, id, model.EventSpotCheckCompleted, conformance.FirmA,
		time.Date(2025, 3, 1, 9, 30, 0, 0, time.UTC), map[string]any{"check_id": "C-" + id, "product": product, "result": "pass"})
}

func write(t *testing.T, s *duckdb.Store, items ...warehouse.Item) warehouse.WriteResult {
	t.Helper()
	res, err := s.Write(t.Context(), warehouse.Batch{Items: items})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestWriteFindsIDsStoredBeforeTheStoreOpened(t *testing.T) {
	// Given events written by an earlier process, when a new process writes
	// the same ids, then exact resends count as duplicates and changed events
	// as conflicts: the ids are read from the table, not only remembered.
	path := filepath.Join(t.TempDir(), "w.duckdb")
	first := duckdbtest.OpenFile(t, path)
	var items []warehouse.Item
	for i := range 5 {
		items = append(items, check(t, fmt.Sprintf("320830-%d", i), "电线电缆"))
	}
	write(t, first, items...)
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	s := duckdbtest.OpenFile(t, path)
	got := write(t, s, items[0], items[1], check(t, "320830-2", "插座"), check(t, "320830-9", "电线电缆"))
	want := warehouse.WriteResult{Stored: 1, Duplicates: 2, Conflicts: 1, DeadLettered: 1}
	if got != want {
		t.Errorf("second process: %+v, want %+v", got, want)
	}
	var n int
	if err := s.DB().QueryRowContext(t.Context(), `SELECT count(*) FROM events`).Scan(&n); err != nil || n != 6 {
		t.Errorf("events stored: %d (%v), want 6", n, err)
	}
}

func TestWriteStoresAnIDWhoseHashIsAlreadyKnown(t *testing.T) {
	// Given a new id whose hash the set already holds (a collision, or an id
	// remembered from a write that did not commit), when it is written, then
	// the table decides: it is stored.
	s := duckdbtest.Open(t)
	write(t, s, check(t, "320830-1", "电线电缆"))
	fresh := check(t, "320830-2", "电线电缆")
	duckdb.RememberID(s, fresh.Record.ID)
	if got := write(t, s, fresh); got != (warehouse.WriteResult{Stored: 1}) {
		t.Errorf("got %+v, want it stored", got)
	}
}

func TestWriteOfSeveralRowGroups(t *testing.T) {
	// Given a batch of two row groups and a bit (staged as three Arrow
	// slices), when it is written twice, then every event is stored once and
	// the second write counts each as a duplicate.
	s := duckdbtest.Open(t)
	base := check(t, "x", "电线电缆")
	items := make([]warehouse.Item, 2*duckdb.RowGroupRows+5)
	for i := range items {
		items[i] = base
		items[i].Record.ID = fmt.Sprintf("320830-%d", i)
		items[i].Record.Hash = uint64(i)
	}
	if got := write(t, s, items...); got != (warehouse.WriteResult{Stored: len(items)}) {
		t.Fatalf("first write: %+v", got)
	}
	if got := write(t, s, items...); got != (warehouse.WriteResult{Duplicates: len(items)}) {
		t.Fatalf("second write: %+v", got)
	}
	var n, distinct int
	if err := s.DB().QueryRowContext(t.Context(), `SELECT count(*), count(DISTINCT id) FROM events`).Scan(&n, &distinct); err != nil {
		t.Fatal(err)
	}
	if n != len(items) || distinct != len(items) {
		t.Errorf("%d events, %d ids; want %d", n, distinct, len(items))
	}
}
