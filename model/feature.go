package model

import (
	"fmt"
	"slices"
)

// FeatureKind is what the score's feature aggregation groups an
// enterprise's records into. Each kind's rows carry a sub, a category and a
// flag drawn from the vocabulary of FeatureVocabulary, so a rule that names
// anything else can never match and is refused when its file loads.
type FeatureKind string

const (
	FeatureRegistered FeatureKind = "registered" // enterprise.registered; no window filter
	// FeatureSpotCheck: sub "pass" or the failure severity; flag "retest"
	// when a failed check has retest_of. Rows with sub "pass" (passed checks
	// and inspections, most of all events) carry one id, the greatest:
	// grade A evidence needs one, and listing them all would dominate the
	// run's cost and storage.
	FeatureSpotCheck  FeatureKind = "spot_check"
	FeatureInspection FeatureKind = "inspection" // equipment.inspected; sub: pass/fail
	// FeaturePenalty: penalty.decided not revoked by a penalty.revoked of the
	// same case_no before the cutoff; sub: severity; category: violation;
	// flag "repaired" when a credit.repaired names its case_no.
	FeaturePenalty        FeatureKind = "penalty"
	FeatureLicenceRevoked FeatureKind = "licence_revoked" // category: reason
	// FeatureHazard: equipment.hazard_found; sub: serious/ordinary; flag
	// "overdue" when due < as_of and no hazard_corrected of its hazard_id
	// before the cutoff.
	FeatureHazard        FeatureKind = "hazard"
	FeatureAccident      FeatureKind = "accident"      // sub: accident grade
	FeatureComplaint     FeatureKind = "complaint"     // complaint.closed with verified = true
	FeatureCertification FeatureKind = "certification" // certification.granted not withdrawn (same cert_no) before the cutoff
	FeatureStandard      FeatureKind = "standard"      // standard.declared
	FeatureAward         FeatureKind = "award"         // award.granted
)

// Feature flags.
const (
	FlagRetest   = "retest"
	FlagRepaired = "repaired"
	FlagOverdue  = "overdue"
)

// FeatureValues are the subs, categories and flags rows of one kind can
// carry; "" is always possible. A nil list means the value is free text
// (no rule may name one, as nothing could be checked).
type FeatureValues struct {
	Subs, Categories, Flags []string
}

// FeatureVocabulary is every feature kind the warehouses produce with the
// values its rows can carry, taken from the event contract's enums.
var FeatureVocabulary = map[FeatureKind]FeatureValues{
	FeatureRegistered: {},
	FeatureSpotCheck: {Subs: append([]string{"pass"}, enumOf(EventSpotCheckCompleted, "severity")...),
		Flags: []string{FlagRetest}},
	FeatureInspection: {Subs: enumOf(EventEquipmentInspected, "result")},
	FeaturePenalty: {Subs: enumOf(EventPenaltyDecided, "severity"), Categories: enumOf(EventPenaltyDecided, "violation"),
		Flags: []string{FlagRepaired}},
	FeatureLicenceRevoked: {Categories: enumOf(EventLicenceRevoked, "reason")},
	FeatureHazard:         {Subs: []string{"ordinary", "serious"}, Flags: []string{FlagOverdue}},
	FeatureAccident:       {Subs: enumOf(EventEquipmentAccident, "grade")},
	FeatureComplaint:      {},
	FeatureCertification:  {},
	FeatureStandard:       {},
	FeatureAward:          {},
}

// enumOf is the enum of one field of an event type's contract.
func enumOf(t EventType, field string) []string {
	for _, f := range EventSpecs[t].Fields {
		if f.Name == field {
			return f.Enum
		}
	}
	panic(fmt.Sprintf("contract has no field %s.%s", t, field)) // a build defect: the vocabulary names the contract's own fields
}

// CheckFeatureMatch says what is wrong with a rule's match: an unknown kind,
// or a sub, category or flag its kind's rows never carry.
func CheckFeatureMatch(kind string, subs, categories, flags []string) error {
	v, ok := FeatureVocabulary[FeatureKind(kind)]
	if !ok {
		return fmt.Errorf("unknown kind %q (known: %v)", kind, featureKinds())
	}
	for _, c := range []struct {
		what  string
		given []string
		known []string
	}{{"sub", subs, v.Subs}, {"category", categories, v.Categories}, {"flag", flags, v.Flags}} {
		for _, g := range c.given {
			if g != "" && !slices.Contains(c.known, g) {
				return fmt.Errorf("kind %s has no %s %q (its rows carry %q)", kind, c.what, g, c.known)
			}
		}
	}
	return nil
}

func featureKinds() []string {
	out := make([]string, 0, len(FeatureVocabulary))
	for k := range FeatureVocabulary {
		out = append(out, string(k))
	}
	slices.Sort(out)
	return out
}
