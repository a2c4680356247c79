package lists

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/qcredit/qcredit/model"
)

// Outcome is the decision on an objection.
type Outcome string

const (
	OutcomeUpheld   Outcome = "upheld"   // the firm is not listed (or the listing is withdrawn)
	OutcomeRejected Outcome = "rejected" // the listing goes ahead
)

// Source is the event a record comes from.
type Source struct {
	EventID string
	// Bureau is the GB/T 2260 code of the reporting bureau (the event's
	// source): for a decision, the bureau that decided it.
	Bureau string
	At     time.Time // occurred_at: the decision, accident or repair
}

// Penalty is a penalty.decided.
type Penalty struct {
	Source
	CaseNo    string
	Violation string
	Severity  string
}

// PenaltyRevocation is a penalty.revoked: the decision with CaseNo was
// annulled. It also annuls a licence revocation whose licence or decision
// number it names (revoking a licence is itself a penalty).
type PenaltyRevocation struct {
	Source
	CaseNo string
}

// LicenceRevocation is a licence.revoked.
type LicenceRevocation struct {
	Source
	LicenceNo  string
	DecisionNo string // optional
	Reason     string
}

// Accident is an equipment.accident.
type Accident struct {
	Source
	AccidentID string
	Grade      string
}

// Repair is a credit.repaired of the case, licence or accident number it names.
type Repair struct {
	Source
	CaseNo string
}

// Objection is a listing.objection_received against the pending entry Key.
type Objection struct {
	Source
	ObjectionID string
	Key         string
}

// ObjectionDecision is a listing.objection_decided.
type ObjectionDecision struct {
	Source
	ObjectionID string
	Outcome     Outcome
}

// FirmRecords are one firm's listing-relevant records up to a run's cutoff,
// in any order.
type FirmRecords struct {
	USCC               model.USCC
	Name               string
	Penalties          []Penalty
	PenaltyRevocations []PenaltyRevocation
	LicenceRevocations []LicenceRevocation
	Accidents          []Accident
	Repairs            []Repair
	Objections         []Objection
	ObjectionDecisions []ObjectionDecision
}

// Validate says what is missing from the records.
func (f *FirmRecords) Validate() error {
	var errs []error
	// The USCC is only required: records come from the warehouse, which
	// stores validated codes (and benchmarks' synthetic ones).
	if f.USCC == "" {
		errs = append(errs, errors.New("uscc is required"))
	}
	for _, p := range f.Penalties {
		errs = append(errs, missing("penalty", p.Source, "case_no", p.CaseNo, "violation", p.Violation, "severity", p.Severity)...)
	}
	for _, p := range f.PenaltyRevocations {
		errs = append(errs, missing("penalty revocation", p.Source, "case_no", p.CaseNo)...)
	}
	for _, l := range f.LicenceRevocations {
		errs = append(errs, missing("licence revocation", l.Source, "licence_no", l.LicenceNo, "reason", l.Reason)...)
	}
	for _, a := range f.Accidents {
		errs = append(errs, missing("accident", a.Source, "accident_id", a.AccidentID, "grade", a.Grade)...)
	}
	for _, r := range f.Repairs {
		errs = append(errs, missing("credit repair", r.Source, "case_no", r.CaseNo)...)
	}
	for _, o := range f.Objections {
		errs = append(errs, missing("objection", o.Source, "objection_id", o.ObjectionID, "key", o.Key)...)
	}
	for _, d := range f.ObjectionDecisions {
		errs = append(errs, missing("objection decision", d.Source, "objection_id", d.ObjectionID)...)
		if d.Outcome != OutcomeUpheld && d.Outcome != OutcomeRejected {
			errs = append(errs, fmt.Errorf("objection decision %s: outcome %q is not upheld or rejected", d.EventID, d.Outcome))
		}
	}
	return errors.Join(errs...)
}

// missing reports the empty fields of one record, given as name, value pairs.
func missing(what string, s Source, fields ...string) []error {
	var errs []error
	if s.EventID == "" || s.Bureau == "" || s.At.IsZero() {
		errs = append(errs, fmt.Errorf("%s %q: event id, bureau and time are required", what, s.EventID))
	}
	for i := 0; i+1 < len(fields); i += 2 {
		if fields[i+1] == "" {
			errs = append(errs, fmt.Errorf("%s %s: %s is required", what, s.EventID, fields[i]))
		}
	}
	return errs
}

// empty reports whether no record can list the firm or touch a listing.
func (f *FirmRecords) empty() bool {
	return len(f.Penalties) == 0 && len(f.LicenceRevocations) == 0 && len(f.Accidents) == 0 && len(f.Objections) == 0 &&
		len(f.ObjectionDecisions) == 0
}

// AddEvent files a validated event under its record kind; events of other
// types are ignored. It is the one mapping from the contract's fields to
// records: which facet holds the case number, the violation, the grade.
func (f *FirmRecords) AddEvent(rec model.Record) error {
	src := Source{EventID: rec.ID, Bureau: rec.Source, At: rec.OccurredAt}
	fc := &rec.Facets
	switch rec.Type {
	case model.EventPenaltyDecided:
		f.Penalties = append(f.Penalties, Penalty{Source: src, CaseNo: fc.Ref, Violation: fc.Category, Severity: fc.Severity})
	case model.EventPenaltyRevoked:
		f.PenaltyRevocations = append(f.PenaltyRevocations, PenaltyRevocation{Source: src, CaseNo: fc.Ref})
	case model.EventLicenceRevoked:
		// decision_no fills the Link facet; events stored before it did keep
		// it in their data alone.
		decision := fc.Link
		if decision == "" && len(rec.Data) > 0 {
			var d struct {
				DecisionNo string `json:"decision_no"`
			}
			if err := json.Unmarshal(rec.Data, &d); err != nil {
				return fmt.Errorf("licence revocation %s: data: %w", rec.ID, err)
			}
			decision = d.DecisionNo
		}
		f.LicenceRevocations = append(f.LicenceRevocations, LicenceRevocation{Source: src, LicenceNo: fc.Ref,
			DecisionNo: decision, Reason: fc.Category})
	case model.EventEquipmentAccident:
		f.Accidents = append(f.Accidents, Accident{Source: src, AccidentID: fc.Ref, Grade: fc.Severity})
	case model.EventCreditRepaired:
		f.Repairs = append(f.Repairs, Repair{Source: src, CaseNo: fc.Ref})
	case model.EventListingObjectionReceived:
		f.Objections = append(f.Objections, Objection{Source: src, ObjectionID: fc.Ref, Key: fc.Link})
	case model.EventListingObjectionDecided:
		f.ObjectionDecisions = append(f.ObjectionDecisions, ObjectionDecision{Source: src, ObjectionID: fc.Ref,
			Outcome: Outcome(fc.Result)})
	}
	return nil
}
