package model

import (
	"time"
)

// contentHash fingerprints everything an event says, so an exact resend of a
// stored event (same hash) is told apart from a different event that reuses
// its id (a conflict). Data must already be canonical.
//
// It is 64-bit FNV-1a over the fields, each followed by a zero byte; times
// are RFC 3339 in UTC with nanoseconds when present. Stored hashes depend on
// this exact definition: change it only with a migration.
func contentHash(e Event) uint64 {
	var buf [40]byte
	h := uint64(fnvOffset)
	h = fnvString(h, e.ID)
	h = fnvString(h, string(e.Type))
	h = fnvString(h, string(e.USCC))
	h = fnvString(h, e.Source)
	h = fnvBytes(h, e.OccurredAt.UTC().AppendFormat(buf[:0], time.RFC3339Nano))
	if e.ReportedAt != nil {
		h = fnvBytes(h, e.ReportedAt.UTC().AppendFormat(buf[:0], time.RFC3339Nano))
	} else {
		h = fnvBytes(h, nil)
	}
	return fnvBytes(h, e.Data)
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// fnvString and fnvBytes add s and a zero separator to an FNV-1a hash.
func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h * fnvPrime // the separator: h ^= 0, then multiply
}

func fnvBytes(h uint64, b []byte) uint64 {
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime
	}
	return h * fnvPrime
}
