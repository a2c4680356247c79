package warehouse

import (
	"fmt"

	"github.com/qcredit/qcredit/model"
)

// EventRef is what a retraction is checked against: the retracted event's
// type, source and enterprise.
type EventRef struct {
	Type   model.EventType
	Source string
	USCC   model.USCC
}

// RetractionTargets are the ids the batch's retractions name: the stored
// events a backend looks up for CheckRetractions.
func RetractionTargets(items []Item) []string {
	var out []string
	for _, it := range items {
		if it.Record.Type == model.EventRetracted {
			out = append(out, it.Record.Facets.Link)
		}
	}
	return out
}

// CheckRetractions keeps the items that may be stored: a retraction only
// when the event it names is stored (stored, by id) or in the batch, was
// sent by the same bureau about the same enterprise, and is no retraction
// itself. The others become dead letters saying why, so a bureau hears
// that its retraction did nothing. items is not modified.
func CheckRetractions(items []Item, stored map[string]EventRef) (kept []Item, refused []model.DeadLetter) {
	inBatch := map[string]EventRef{}
	for _, it := range items {
		r := it.Record
		inBatch[r.ID] = EventRef{Type: r.Type, Source: r.Source, USCC: r.USCC}
	}
	no := map[string]bool{}
	for _, it := range items {
		r := it.Record
		if r.Type != model.EventRetracted {
			continue
		}
		target := r.Facets.Link
		ref, ok := stored[target]
		if !ok {
			ref, ok = inBatch[target]
		}
		var why string
		switch {
		case !ok:
			why = fmt.Sprintf("retracts event %q, which is not stored (send the retraction after the event)", target)
		case ref.Type == model.EventRetracted:
			why = fmt.Sprintf("retracts %q, itself a retraction (send the event again instead)", target)
		case ref.Source != r.Source:
			why = fmt.Sprintf("retracts %q, which bureau %s sent: only it may retract it", target, ref.Source)
		case ref.USCC != r.USCC:
			why = fmt.Sprintf("retracts %q, which is about %s, not %s", target, ref.USCC, r.USCC)
		default:
			continue
		}
		no[r.ID] = true
		refused = append(refused, model.DeadLetter{Origin: it.Origin, Reason: model.DeadLetterInvalidField,
			Detail: "data.event_id: " + why, Raw: it.Raw, EventID: r.ID, Source: r.Source})
	}
	if len(refused) == 0 {
		return items, nil
	}
	kept = make([]Item, 0, len(items)-len(refused))
	for _, it := range items {
		if !no[it.Record.ID] {
			kept = append(kept, it)
		}
	}
	return kept, refused
}
