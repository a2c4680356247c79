package pipelines

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/planning"
	"github.com/qcredit/qcredit/warehouse"
)

// Folding the events the planning jobs read into the domain's inputs.

// eventsOf reads the events of types in w.
func eventsOf(ctx context.Context, src PlanningEvents, w warehouse.Window, types ...model.EventType) ([]warehouse.EventRow, error) {
	var out []warehouse.EventRow
	err := src.PlanningEvents(ctx, warehouse.EventQuery{Window: w, Types: types}, func(e warehouse.EventRow) error {
		out = append(out, e)
		return nil
	})
	return out, err
}

// firmStates reads the firms' states at w's cutoff, by USCC.
func firmStates(ctx context.Context, src FirmStates, w warehouse.Window) (map[model.USCC]warehouse.FirmState, error) {
	out := map[model.USCC]warehouse.FirmState{}
	err := src.FirmStates(ctx, warehouse.Window{Cutoff: w.Cutoff, Watermark: w.Watermark}, func(f warehouse.FirmState) error {
		out[f.USCC] = f
		return nil
	})
	return out, err
}

// complaintTypes are the events of a complaint's life.
var complaintTypes = []model.EventType{model.EventComplaintReceived, model.EventComplaintAccepted,
	model.EventComplaintRejected, model.EventComplaintClosed}

var complaintSteps = map[model.EventType]planning.ComplaintStep{
	model.EventComplaintReceived: planning.ComplaintStepReceived,
	model.EventComplaintAccepted: planning.ComplaintStepAccepted,
	model.EventComplaintRejected: planning.ComplaintStepRejected,
	model.EventComplaintClosed:   planning.ComplaintStepClosed,
}

// complaintEvents are the complaint.* events as the domain reads them: the
// county is the reporting bureau's current code.
func complaintEvents(rows []warehouse.EventRow) []planning.ComplaintEvent {
	var out []planning.ComplaintEvent
	for _, e := range rows {
		step, ok := complaintSteps[e.Type]
		if !ok {
			continue
		}
		out = append(out, planning.ComplaintEvent{EventID: e.ID, ComplaintID: e.Facets.Ref, Step: step, USCC: e.USCC,
			County: model.CurrentCounty(e.Source), At: e.OccurredAt})
	}
	return out
}

// hazardTypes are a hazard's finding and its correction.
var hazardTypes = []model.EventType{model.EventEquipmentHazardFound, model.EventEquipmentHazardFixed}

// hazards joins each hazard found with its earliest correction (by USCC and
// hazard id), in the order found; corrections of hazards found outside the
// window are left out.
func hazards(rows []warehouse.EventRow) []planning.Hazard {
	type key struct {
		uscc model.USCC
		id   string
	}
	var out []planning.Hazard
	index := map[key]int{}
	for _, e := range rows {
		if e.Type != model.EventEquipmentHazardFound {
			continue
		}
		k := key{e.USCC, e.Facets.Ref}
		if _, dup := index[k]; dup {
			continue // a second report of the same hazard: the first counts
		}
		h := planning.Hazard{HazardID: e.Facets.Ref, EventID: e.ID, USCC: e.USCC, County: model.CurrentCounty(e.Source),
			EquipmentID: e.Facets.Link, Serious: e.Facets.Severity == "serious", FoundAt: e.OccurredAt}
		if d, err := time.ParseInLocation(time.DateOnly, e.Facets.Due, model.Shanghai); err == nil {
			h.Deadline = d
		}
		index[k] = len(out)
		out = append(out, h)
	}
	for _, e := range rows {
		i, ok := index[key{e.USCC, e.Facets.Ref}]
		if e.Type != model.EventEquipmentHazardFixed || !ok || !out[i].CorrectedAt.IsZero() {
			continue
		}
		out[i].CorrectedAt, out[i].SelfFound = e.OccurredAt, e.Facets.Result == "self_found"
	}
	return out
}

// qualifyHazardIDs makes hazard ids unique across using units, as the
// domain wants: an id reported by two units becomes "USCC/id" for both
// (bureaus' ids are unique per unit, and usually across them).
func qualifyHazardIDs(hs []planning.Hazard) []planning.Hazard {
	units := map[string]model.USCC{}
	shared := map[string]bool{}
	for _, h := range hs {
		if u, ok := units[h.HazardID]; ok && u != h.USCC {
			shared[h.HazardID] = true
		}
		units[h.HazardID] = h.USCC
	}
	out := slices.Clone(hs)
	for i := range out {
		if shared[out[i].HazardID] {
			out[i].HazardID = string(out[i].USCC) + "/" + out[i].HazardID
		}
	}
	return out
}

// licence is one licence granted, with its revocation if any.
type licence struct {
	USCC       model.USCC
	No, Kind   string
	Source     string
	GrantID    string
	GrantedAt  time.Time
	ValidUntil string // YYYY-MM-DD or ""
	RevokedAt  time.Time
}

var licenceTypes = []model.EventType{model.EventLicenceGranted, model.EventLicenceRevoked}

// licences folds grants and revocations (by USCC and licence number; a
// revocation cancels the grants before it).
func licences(rows []warehouse.EventRow) []licence {
	var out []licence
	for _, e := range rows {
		switch e.Type {
		case model.EventLicenceGranted:
			out = append(out, licence{USCC: e.USCC, No: e.Facets.Ref, Kind: e.Facets.Category, Source: e.Source,
				GrantID: e.ID, GrantedAt: e.OccurredAt, ValidUntil: e.Facets.Due})
		case model.EventLicenceRevoked:
			for i := range out {
				if out[i].USCC == e.USCC && out[i].No == e.Facets.Ref && out[i].RevokedAt.IsZero() {
					out[i].RevokedAt = e.OccurredAt
				}
			}
		}
	}
	return out
}

// heldOn reports whether the licence was in force on day (granted before
// its end, not revoked by then, valid until at least that date).
func (l licence) heldOn(day time.Time) bool {
	end := day.AddDate(0, 0, 1)
	return l.GrantedAt.Before(end) && (l.RevokedAt.IsZero() || !l.RevokedAt.Before(end)) &&
		(l.ValidUntil == "" || l.ValidUntil >= day.Format(time.DateOnly))
}

// dataFields reads an event's data into v, naming the event on failure.
func dataFields(e warehouse.EventRow, v any) error {
	if err := json.Unmarshal(e.Data, v); err != nil {
		return fmt.Errorf("event %s: data: %w", e.ID, err)
	}
	return nil
}

// suggestions are the county bureaus' plan.suggested for the plan year.
func suggestions(rows []warehouse.EventRow, year int) ([]planning.Suggestion, error) {
	var out []planning.Suggestion
	for _, e := range rows {
		var d struct {
			Year    int    `json:"year"`
			Batches int64  `json:"batches"`
			Note    string `json:"note"`
		}
		if err := dataFields(e, &d); err != nil {
			return nil, err
		}
		if d.Year != year || d.Batches < 1 {
			continue
		}
		out = append(out, planning.Suggestion{EventID: e.ID, County: model.CurrentCounty(e.Source), Product: e.Facets.Category,
			Batches: d.Batches, Note: d.Note})
	}
	return out, nil
}

// application is a testing agency's application (agency.applied) for a
// plan year's checks of some products.
type application struct {
	EventID  string
	AgencyID string
	Products []string
}

func applications(rows []warehouse.EventRow, year int) ([]application, error) {
	var out []application
	for _, e := range rows {
		var d struct {
			Year     int      `json:"year"`
			Products []string `json:"products"`
		}
		if err := dataFields(e, &d); err != nil {
			return nil, err
		}
		if d.Year == year {
			out = append(out, application{EventID: e.ID, AgencyID: e.Facets.Ref, Products: d.Products})
		}
	}
	return out, nil
}

// complaintProducts are the ids of complaint.received events naming a
// product, by product.
func complaintProducts(rows []warehouse.EventRow) (map[string][]string, error) {
	out := map[string][]string{}
	for _, e := range rows {
		if e.Type != model.EventComplaintReceived {
			continue
		}
		var d struct {
			Product string `json:"product"`
		}
		if err := dataFields(e, &d); err != nil {
			return nil, err
		}
		if p := strings.TrimSpace(d.Product); p != "" {
			out[p] = append(out[p], e.ID)
		}
	}
	return out, nil
}

// countyOf is the current county of a firm: of its registered region when
// known, else of the bureau that reported about it.
func countyOf(states map[model.USCC]warehouse.FirmState, uscc model.USCC, source string) string {
	if f, ok := states[uscc]; ok && f.Region != "" {
		return model.CurrentCounty(f.Region)
	}
	return model.CurrentCounty(source)
}

// mostCommon is the value with the highest count, ties to the smallest.
func mostCommon(counts map[string]int) string {
	best, n := "", 0
	for v, c := range counts {
		if c > n || (c == n && v < best) {
			best, n = v, c
		}
	}
	return best
}

// sortedKeys are a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.SortFunc(out, cmp.Compare[string])
	return out
}

// yearStart is 1 January of year, 00:00 Asia/Shanghai.
func yearStart(year int) time.Time { return time.Date(year, 1, 1, 0, 0, 0, 0, model.Shanghai) }
