package warehouse

import (
	"errors"
	"fmt"
	"time"
)

// AuditRecord is one API call by a key, recorded append-only.
type AuditRecord struct {
	// ID makes a record unique, so a retried write stores it once.
	ID     string    `json:"id"`
	At     time.Time `json:"at"`
	Key    string    `json:"key"`   // the key's name
	Scope  string    `json:"scope"` // the key's scope
	Method string    `json:"method"`
	Route  string    `json:"route"` // the route's pattern, /api/v1/enterprises/:uscc
	// Params are the path and query parameters as a JSON object, without
	// secrets or personal data.
	Params string `json:"params"`
	Status int    `json:"status"`
	// Items is how many items the call returned or took (-1: not counted).
	Items int `json:"items"`
	// Detail is a JSON object of what the call served (a list's version, …).
	Detail     string `json:"detail"`
	DurationMS int64  `json:"duration_ms"`
}

// AuditQuery selects audit records, oldest first. Zero fields select all.
type AuditQuery struct {
	Since time.Time // at or after
	Until time.Time // before
	Key   string
	Scope string
	Route string
	Limit int // at most this many; 0: no limit
}

// Validate says what is wrong with the query.
func (q AuditQuery) Validate() error {
	var errs []error
	if q.Limit < 0 {
		errs = append(errs, fmt.Errorf("limit %d: want 0 (no limit) or more", q.Limit))
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
		errs = append(errs, errors.New("since must be before until"))
	}
	return errors.Join(errs...)
}
