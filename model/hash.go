package model

import (
	"hash/fnv"
	"time"
)

// contentHash fingerprints everything an event says, so an exact resend of a
// stored event (same hash) is told apart from a different event that reuses
// its id (a conflict). Data must already be canonical.
func contentHash(e Event) uint64 {
	h := fnv.New64a()
	sep := []byte{0}
	for _, s := range []string{e.ID, string(e.Type), string(e.USCC), e.Source,
		e.OccurredAt.UTC().Format(time.RFC3339Nano), reportedAt(e), string(e.Data)} {
		h.Write([]byte(s))
		h.Write(sep)
	}
	return h.Sum64()
}

func reportedAt(e Event) string {
	if e.ReportedAt == nil {
		return ""
	}
	return e.ReportedAt.UTC().Format(time.RFC3339Nano)
}
