package warehouse

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"
)

// API keys are kept as append-only records (a key created, a key revoked)
// and their state is derived from the records by ResolveKeys, the same way
// on every backend and every replica. The key itself is never stored: only
// its public id and a hash (the api package says which).

// KeyAction is what a key record records.
type KeyAction string

const (
	KeyActionCreate KeyAction = "create"
	KeyActionRevoke KeyAction = "revoke"
)

// KeyRecord is one record about the API key called Name.
type KeyRecord struct {
	Name   string
	Action KeyAction
	// ID is the key's public id (the part of the key that says which key
	// it is) and Hash the hash of the whole key; create records only.
	ID   string
	Hash string
	// Scope is what the key may do (public, ingest, partner, analyst, admin),
	// Source the region it is bound to ("" for none), ExpiresAt when it stops
	// working (zero: never); create records only.
	Scope     string
	Source    string
	ExpiresAt time.Time
	At        time.Time // when the record was made (second precision is enough)
}

// Validate says what is wrong with the record.
func (r KeyRecord) Validate() error {
	var errs []error
	if r.Name == "" {
		errs = append(errs, errors.New("key record: no name"))
	}
	if r.At.IsZero() {
		errs = append(errs, errors.New("key record: no time"))
	}
	switch r.Action {
	case KeyActionCreate:
		if r.ID == "" || r.Hash == "" || r.Scope == "" {
			errs = append(errs, fmt.Errorf("key record %s: a create needs an id, a hash and a scope", r.Name))
		}
	case KeyActionRevoke:
	default:
		errs = append(errs, fmt.Errorf("key record %s: action %q is not create or revoke", r.Name, r.Action))
	}
	return errors.Join(errs...)
}

// KeyState is one key as the records make it: its create record, and when
// it was revoked (nil while it is not).
type KeyState struct {
	KeyRecord
	RevokedAt *time.Time
}

// Active reports whether the key works at t: not revoked, not expired.
func (k KeyState) Active(t time.Time) bool {
	return k.RevokedAt == nil && (k.ExpiresAt.IsZero() || t.Before(k.ExpiresAt))
}

// ResolveKeys replays key records in time order (ties: create before
// revoke, then by id). A create gives its name a key unless the name
// already has one not revoked (a racing second create of the name is
// ignored, so every reader keeps the same one); a revoke revokes the name's
// key not yet revoked. Keys come back by name, then creation.
func ResolveKeys(records []KeyRecord) []KeyState {
	sorted := slices.Clone(records)
	slices.SortStableFunc(sorted, func(a, b KeyRecord) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.Action, b.Action), cmp.Compare(a.ID, b.ID))
	})
	var keys []KeyState
	live := map[string]int{} // name → index in keys of its key not revoked
	for _, r := range sorted {
		i, held := live[r.Name]
		switch r.Action {
		case KeyActionCreate:
			if held {
				continue
			}
			live[r.Name] = len(keys)
			keys = append(keys, KeyState{KeyRecord: r})
		case KeyActionRevoke:
			if held {
				at := r.At
				keys[i].RevokedAt = &at
				delete(live, r.Name)
			}
		}
	}
	slices.SortStableFunc(keys, func(a, b KeyState) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), a.At.Compare(b.At))
	})
	return keys
}
