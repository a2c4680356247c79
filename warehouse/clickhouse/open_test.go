package clickhouse_test

import (
	"errors"
	"log/slog"
	"testing"

	"github.com/qcredit/qcredit/warehouse"
	"github.com/qcredit/qcredit/warehouse/clickhouse"
)

func TestOpenExistingCreatesNothing(t *testing.T) {
	// Given a database that does not exist, opening it for a command that
	// only reads fails with ErrNoWarehouse and leaves it missing; opening it
	// to create it works.
	url := testURL(t)
	log := slog.New(slog.DiscardHandler)
	if _, err := clickhouse.OpenWith(t.Context(), url, warehouse.OpenModeExisting, log); !errors.Is(err, warehouse.ErrNoWarehouse) {
		t.Fatalf("want ErrNoWarehouse, got %v", err)
	}
	if _, err := clickhouse.OpenWith(t.Context(), url, warehouse.OpenModeExisting, log); !errors.Is(err, warehouse.ErrNoWarehouse) {
		t.Fatalf("the first attempt created the database: %v", err)
	}
	s, err := clickhouse.Open(t.Context(), url, log)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = clickhouse.OpenWith(t.Context(), url, warehouse.OpenModeExisting, log)
	if err != nil {
		t.Fatalf("after creating it: %v", err)
	}
	s.Close()
}
