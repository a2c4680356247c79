package ingest

import (
	"errors"
	"sync"
	"time"
)

// HealthStatus is the state of an ingest worker as /readyz reports it.
type HealthStatus string

const (
	// HealthOK: nothing has failed since the last success (or the start; a
	// broker that cannot be reached shows as degraded within seconds).
	HealthOK HealthStatus = "ok"
	// HealthDegraded: the broker or the warehouse fails and the worker is
	// retrying with backoff. Nothing is lost meanwhile: offsets are committed
	// only after the warehouse stored their batch.
	HealthDegraded HealthStatus = "degraded"
	HealthStopped  HealthStatus = "stopped" // the worker has returned
)

// Health is a snapshot of an ingest worker's state.
type Health struct {
	Status HealthStatus `json:"status"`
	// Since is when Status last changed.
	Since time.Time `json:"since"`
	// Error is the latest error while degraded.
	Error string `json:"error,omitempty"`
	// Failures counts consecutive failed attempts while degraded.
	Failures int `json:"failures,omitempty"`
}

// healthState is a worker's Health, shared between its goroutines and
// readers such as /readyz. The broker and the warehouse degrade it
// separately: it is ok only when neither is failing.
type healthState struct {
	mu       sync.Mutex
	now      func() time.Time
	h        Health
	fetchErr string
	writeErr string
	troubles int // errors the Kafka client reported while retrying by itself
}

func newHealthState(now func() time.Time) *healthState {
	return &healthState{now: now, h: Health{Status: HealthOK, Since: now()}}
}

func (s *healthState) get() Health {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.h
}

// fetch records the outcome of a fetch; a failed one counts as a trouble
// (see trouble).
func (s *healthState) fetch(err error) {
	s.record(&s.fetchErr, err)
	if err != nil {
		s.mu.Lock()
		s.troubles++
		s.mu.Unlock()
	}
}

// write records the outcome of a warehouse write.
func (s *healthState) write(err error) { s.record(&s.writeErr, err) }

// trouble records an error the Kafka client logged while it retries by
// itself (coordinator unreachable, a partition's leader refused): a fetch
// then just waits, so without this a dead broker would look healthy.
func (s *healthState) trouble(msg string) { s.fetch(errors.New(msg)) }

// troubleCount is how many troubles (and failed fetches) were recorded so far.
func (s *healthState) troubleCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.troubles
}

// brokerAnswered clears the broker's failure, if any.
func (s *healthState) brokerAnswered() {
	s.mu.Lock()
	failing := s.fetchErr != ""
	s.mu.Unlock()
	if failing {
		s.record(&s.fetchErr, nil)
	}
}

func (s *healthState) stopped() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.h = Health{Status: HealthStopped, Since: s.now()}
}

func (s *healthState) record(slot *string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.h.Status == HealthStopped {
		return
	}
	*slot = ""
	if err != nil {
		*slot = err.Error()
	}
	status, msg := HealthOK, ""
	switch {
	case s.fetchErr != "":
		status, msg = HealthDegraded, "broker: "+s.fetchErr
	case s.writeErr != "":
		status, msg = HealthDegraded, "warehouse: "+s.writeErr
	}
	if status != s.h.Status {
		s.h.Since, s.h.Failures = s.now(), 0
	}
	s.h.Status, s.h.Error = status, msg
	if err != nil {
		s.h.Failures++
	}
}
