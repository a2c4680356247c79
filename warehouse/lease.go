package warehouse

import (
	"cmp"
	"slices"
	"time"
)

// A lease gives one holder (a process) a named right for a while: to run a
// job (no second run while one is going, on any replica) or to run one
// scheduled slot (each slot runs once, whichever replica fires first).
// DuckDB grants leases in a transaction. ClickHouse has no transactions:
// holders append claims, wait for their inserts to settle, and every reader
// resolves the same claims to the same holder with ResolveLease.

// LeaseClaim is one claim on a lease: holder asks for it from At until
// Until; a claim with Release ends the holder's lease at At.
type LeaseClaim struct {
	Name    string
	Holder  string
	At      time.Time
	Until   time.Time
	Release bool
}

// LeaseHolder is who holds a lease and until when.
type LeaseHolder struct {
	Holder string
	Until  time.Time
}

// ResolveLease replays the claims of one lease in time order (ties by
// holder): a claim takes the lease when it is free (never held, expired or
// released); a claim of the holder extends or releases it; a claim of anyone
// else while it is held is ignored. Every reader seeing the same claims gets
// the same holder. The result's Until may be before now: the lease is free.
func ResolveLease(claims []LeaseClaim) LeaseHolder {
	sorted := slices.Clone(claims)
	slices.SortFunc(sorted, func(a, b LeaseClaim) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.Holder, b.Holder))
	})
	var h LeaseHolder
	for _, c := range sorted {
		held := h.Holder != "" && c.At.Before(h.Until)
		switch {
		case held && c.Holder != h.Holder:
			continue
		case c.Release:
			if c.Holder == h.Holder {
				h.Until = c.At
			}
		case held:
			h.Until = maxTime(h.Until, c.Until)
		default:
			h = LeaseHolder{Holder: c.Holder, Until: c.Until}
		}
	}
	return h
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
