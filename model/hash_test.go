package model

import (
	"testing"
	"time"
)

func TestContentHashIsStable(t *testing.T) {
	// given an event, when it is hashed, then the hash is the one stored
	// warehouses hold for it (64-bit FNV-1a over its fields as first shipped):
	// a changed definition would turn every resend into a conflict.
	cst := time.FixedZone("CST", 8*3600)
	reported := time.Date(2025, 3, 2, 9, 0, 0, 0, cst)
	e := Event{ID: "320804-42", Type: "spot_check.completed", USCC: "91320804MA5D5HY67E", Source: "320804",
		OccurredAt: time.Date(2025, 3, 1, 9, 30, 0, 0, cst), ReportedAt: &reported,
		Data: []byte(`{"check_id":"C-1","product":"电线","result":"pass"}`)}
	if got, want := contentHash(e), uint64(0xf332797b39adb462); got != want {
		t.Fatalf("content hash %#x, want %#x", got, want)
	}
	e.ReportedAt = nil
	if contentHash(e) == 0xf332797b39adb462 {
		t.Fatal("reported_at does not enter the hash")
	}
}
