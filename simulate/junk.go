package simulate

import (
	"bytes"
	"math/rand/v2"

	"github.com/qcredit/qcredit/model"
)

// unknownTypes are event types bureaus' systems have been seen to invent.
var unknownTypes = []string{"spot_check.started", "licence.suspended", "enterprise.created", "penalty.updated"}

// junk writes one line that is not a new valid event: half malformed, the
// rest resends and conflicts of recent valid lines (when there are any).
func (s *streamer) junk(r *rand.Rand, idx int32) error {
	x := r.Float64()
	switch {
	case x < 0.3 && len(s.ring) > 0:
		return s.duplicate(r)
	case x < 0.5 && len(s.ring) > 0:
		return s.conflict(r)
	}
	return s.malformed(r, idx)
}

// duplicate resends an earlier valid line byte for byte.
func (s *streamer) duplicate(r *rand.Rand) error {
	w := s.ring[r.IntN(len(s.ring))]
	e := &s.p.events[w.event]
	s.buf = s.p.appendEvent(s.buf[:0], e, envelope{id: w.id})
	s.truth.DuplicateLines++
	return s.write(Line{Key: s.keys[e.firm], Value: s.buf, Kind: LineDuplicate})
}

// conflict reuses an earlier valid line's id for an event an hour later: a
// correction sent as a rewrite, which the contract forbids.
func (s *streamer) conflict(r *rand.Rand) error {
	w := s.ring[r.IntN(len(s.ring))]
	e := &s.p.events[w.event]
	s.buf = s.p.appendEvent(s.buf[:0], e, envelope{id: w.id, shift: 3600})
	s.truth.ConflictLines++
	return s.write(Line{Key: s.keys[e.firm], Value: s.buf, Kind: LineConflict})
}

// malformed writes the next event broken in one of the ways ingest refuses,
// under an id of its own (so it never collides with a valid line).
func (s *streamer) malformed(r *rand.Rand, idx int32) error {
	e := &s.p.events[idx]
	env := envelope{id: s.nextID(e)}
	key := s.keys[e.firm]
	var reason model.DeadLetterReason
	switch r.IntN(4) {
	case 0:
		reason = model.DeadLetterMalformedJSON
	case 1:
		reason, env.uscc = model.DeadLetterInvalidUSCC, corruptUSCC(r, s.p.firms[e.firm].uscc)
		key = []byte(env.uscc)
	case 2:
		reason, env.typ = model.DeadLetterUnknownType, unknownTypes[r.IntN(len(unknownTypes))]
	default:
		reason, env.omit = model.DeadLetterMissingField, []string{"uscc", "source", "occurred_at", "data"}[r.IntN(4)]
		if env.omit == "data" && !leadsWithRequired(e) {
			env.omit = "occurred_at"
		}
		if env.omit == "uscc" {
			key = nil
		}
	}
	s.buf = s.p.appendEvent(s.buf[:0], e, env)
	if reason == model.DeadLetterMalformedJSON {
		s.buf = s.buf[:1+r.IntN(len(s.buf)-2)] // cut before the closing brace
	}
	s.truth.BadLines++
	s.truth.BadReasons[reason]++
	return s.write(Line{Key: key, Value: s.buf, Kind: LineBad, Reason: reason})
}

// leadsWithRequired says whether the event's first data field is required,
// so dropping it makes the line miss a required field.
func leadsWithRequired(e *event) bool {
	spec := model.EventSpecs[e.typ]
	for _, f := range spec.Fields {
		if f.Required && bytes.HasPrefix(e.data, []byte(`{"`+f.Name+`":"`)) {
			return true
		}
	}
	return false
}

// corruptUSCC changes the check character, as a typo would.
func corruptUSCC(r *rand.Rand, u string) string {
	c := u[17]
	for c == u[17] {
		c = usccChars[r.IntN(len(usccChars))]
	}
	return u[:17] + string(c)
}
