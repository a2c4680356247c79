package ingest

import (
	"errors"
	"testing"
	"time"
)

func TestHealthStateBrokerTroubleAndAnswer(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	s := newHealthState(func() time.Time { return now })

	// A trouble the client logged degrades health and counts.
	now = now.Add(time.Second)
	s.trouble("Unable to establish connection to consumer group coordinator")
	h := s.get()
	if h.Status != HealthDegraded || h.Error != "broker: Unable to establish connection to consumer group coordinator" || !h.Since.Equal(now) {
		t.Fatalf("after a trouble: %+v", h)
	}
	// A later failed fetch keeps the status (and its since), counts again.
	now = now.Add(time.Second)
	s.fetch(errors.New("fetch: failed to dial"))
	if h := s.get(); h.Status != HealthDegraded || h.Failures != 2 || h.Since.Equal(now) {
		t.Fatalf("after a failed fetch: %+v", h)
	}
	if n := s.troubleCount(); n != 2 {
		t.Fatalf("troubleCount = %d, want 2", n)
	}
	// A failing warehouse outlives the broker's recovery.
	s.write(errors.New("warehouse down"))
	s.brokerAnswered()
	if h := s.get(); h.Status != HealthDegraded || h.Error != "warehouse: warehouse down" {
		t.Fatalf("broker answered, warehouse failing: %+v", h)
	}
	now = now.Add(time.Second)
	s.write(nil)
	if h := s.get(); h.Status != HealthOK || h.Error != "" || !h.Since.Equal(now) {
		t.Fatalf("both recovered: %+v", h)
	}
	// Answering when nothing failed changes nothing.
	now = now.Add(time.Second)
	s.brokerAnswered()
	if h := s.get(); h.Status != HealthOK || h.Since.Equal(now) {
		t.Fatalf("answered while ok: %+v", h)
	}
	// Nothing moves a stopped worker.
	s.stopped()
	s.trouble("late")
	if h := s.get(); h.Status != HealthStopped {
		t.Fatalf("after stop: %+v", h)
	}
}
