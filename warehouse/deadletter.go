package warehouse

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/qcredit/qcredit/model"
)

// StoredDeadLetter is one refused input as the warehouse keeps it: once per
// content (the same raw bytes refused for the same reason), with every
// origin it was seen at.
type StoredDeadLetter struct {
	Key     string                 `json:"key"`
	Reason  model.DeadLetterReason `json:"reason"`
	Detail  string                 `json:"detail"`
	EventID string                 `json:"event_id"`
	Source  string                 `json:"source"`
	// Raw is the input as received; bytes that are not UTF-8 show as U+FFFD in JSON.
	Raw string `json:"raw"`
	// Received is when it was first seen.
	Received time.Time          `json:"received_at"`
	Origins  []DeadLetterOrigin `json:"origins"`
}

// DeadLetterOrigin is one place a dead letter was seen, and when first.
type DeadLetterOrigin struct {
	model.Origin
	Received time.Time `json:"received_at"`
}

// DeadLetterFilter selects dead letters, oldest first. Zero fields select all.
type DeadLetterFilter struct {
	Reason model.DeadLetterReason
	Source string    // the event's source field, e.g. 320830
	Since  time.Time // first seen at or after
	Limit  int       // at most this many; 0 means no limit
}

// Validate says what is wrong with the filter, every problem at once.
func (f DeadLetterFilter) Validate() error {
	var errs []error
	if f.Reason != "" && !slices.Contains(model.DeadLetterReasons(), f.Reason) {
		var names []string
		for _, r := range model.DeadLetterReasons() {
			names = append(names, string(r))
		}
		errs = append(errs, fmt.Errorf("reason %q: want one of %s", f.Reason, strings.Join(names, ", ")))
	}
	if f.Limit < 0 {
		errs = append(errs, fmt.Errorf("limit %d: want 0 (no limit) or more", f.Limit))
	}
	return errors.Join(errs...)
}

// GroupOrigins attaches origins (of any order) to the letters they belong to,
// each letter's oldest first. Backends read letters and origins in two
// queries and join them here.
func GroupOrigins(letters []StoredDeadLetter, origins map[string][]DeadLetterOrigin) {
	for i := range letters {
		o := origins[letters[i].Key]
		slices.SortFunc(o, func(a, b DeadLetterOrigin) int {
			if c := a.Received.Compare(b.Received); c != 0 {
				return c
			}
			return strings.Compare(a.Origin.String(), b.Origin.String())
		})
		if o == nil {
			o = []DeadLetterOrigin{}
		}
		letters[i].Origins = o
	}
}
