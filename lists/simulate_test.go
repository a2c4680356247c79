package lists_test

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qcredit/qcredit/lists"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/simulate"
)

// city is a simulated city decoded into listing records, with every event
// by id so entries can be checked against what the bureaus reported.
type city struct {
	truth  simulate.Truth
	end    time.Time
	firms  map[model.USCC]*lists.FirmRecords
	events map[string]model.Record
}

func simulateCity(t testing.TB, cfg simulate.Config) *city {
	t.Helper()
	c := &city{firms: map[model.USCC]*lists.FirmRecords{}, events: map[string]model.Record{}}
	truth, err := simulate.Generate(cfg, func(line []byte) error {
		var e model.Event
		if err := json.Unmarshal(line, &e); err != nil {
			return fmt.Errorf("decode %s: %w", line, err)
		}
		rec, err := model.USCCPolicy{}.Validate(e)
		if err != nil {
			return fmt.Errorf("validate %s: %w", line, err)
		}
		c.events[rec.ID] = rec
		f := c.firms[rec.USCC]
		if f == nil {
			f = &lists.FirmRecords{USCC: rec.USCC}
			c.firms[rec.USCC] = f
		}
		if rec.Type == model.EventEnterpriseRegistered || rec.Type == model.EventEnterpriseUpdated {
			var d struct{ Name string }
			if err := json.Unmarshal(rec.Data, &d); err != nil {
				return err
			}
			f.Name = cmp.Or(d.Name, f.Name) // events come in time order: the latest name wins
		}
		return f.AddEvent(rec)
	})
	if err != nil {
		t.Fatal(err)
	}
	c.truth = truth
	c.end, err = time.ParseInLocation(time.DateOnly, truth.End, model.Shanghai)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// meetsARule says, from the raw records and without the lists package,
// whether a firm had a serious-list record decided at least 15 days before
// the end (so its notice period is over) that no revocation annulled.
func (c *city) meetsARule(f *lists.FirmRecords) bool {
	revoked := map[string]bool{}
	for _, r := range f.PenaltyRevocations {
		revoked[r.CaseNo] = true
	}
	due := c.end.AddDate(0, 0, -15)
	for _, p := range f.Penalties {
		if p.Severity == "heavy" && slices.Contains([]string{"counterfeit", "substandard", "unlicensed", "special_equipment", "obstruction"},
			p.Violation) && !revoked[p.CaseNo] && p.At.Before(due) {
			return true
		}
	}
	for _, l := range f.LicenceRevocations {
		if (l.Reason == "violation" || l.Reason == "fraud") && !revoked[l.LicenceNo] && !revoked[l.DecisionNo] && l.At.Before(due) {
			return true
		}
	}
	for _, a := range f.Accidents {
		if a.Grade != "general" && a.At.Before(due) {
			return true
		}
	}
	return false
}

// checkReason says what is wrong with a listed entry given the events it
// names: their types, severities, violations and the reason's text.
func (c *city) checkReason(r *lists.Rules, e *model.ListEntry) error {
	var recs []model.Record
	for _, id := range e.Events {
		rec, ok := c.events[id]
		if !ok {
			return fmt.Errorf("event %s was never reported", id)
		}
		if rec.USCC != e.USCC {
			return fmt.Errorf("event %s is of %s", id, rec.USCC)
		}
		recs = append(recs, rec)
	}
	slices.SortFunc(recs, func(a, b model.Record) int {
		return cmp.Or(a.OccurredAt.Compare(b.OccurredAt), strings.Compare(a.Facets.Ref, b.Facets.Ref))
	})
	first := recs[0]
	if !strings.HasSuffix(e.Key, ":"+first.Facets.Ref) || !strings.Contains(e.Reason, first.Facets.Ref) {
		return fmt.Errorf("key %s or reason %q does not name case %s", e.Key, e.Reason, first.Facets.Ref)
	}
	last := recs[len(recs)-1]
	if e.AuthorityCode != last.Source {
		return fmt.Errorf("authority %s, but the decision came from %s", e.AuthorityCode, last.Source)
	}
	switch e.Rule {
	case "serious.heavy_penalty":
		if first.Type != model.EventPenaltyDecided || first.Facets.Severity != "heavy" ||
			!strings.Contains(e.Reason, r.Labels.Violations[first.Facets.Category]) {
			return fmt.Errorf("rests on %s %s/%s", first.Type, first.Facets.Severity, first.Facets.Category)
		}
	case "serious.repeat_violation":
		for _, rec := range recs {
			if rec.Type != model.EventPenaltyDecided || rec.Facets.Category != first.Facets.Category {
				return fmt.Errorf("repetition mixes %s %s with %s", rec.Type, rec.Facets.Category, first.Facets.Category)
			}
		}
		if len(recs) < 2 || last.OccurredAt.After(first.OccurredAt.AddDate(0, 36, 0)) {
			return fmt.Errorf("repetition of %d penalties from %s to %s", len(recs), first.OccurredAt, last.OccurredAt)
		}
	case "serious.licence_revoked":
		if first.Type != model.EventLicenceRevoked || (first.Facets.Category != "violation" && first.Facets.Category != "fraud") {
			return fmt.Errorf("rests on %s for %s", first.Type, first.Facets.Category)
		}
	case "serious.accident":
		if first.Type != model.EventEquipmentAccident || first.Facets.Severity == "general" {
			return fmt.Errorf("rests on %s of grade %s", first.Type, first.Facets.Severity)
		}
	default:
		return fmt.Errorf("unknown rule %s", e.Rule)
	}
	return nil
}

func TestPlantedBadEnterprisesAreListed(t *testing.T) {
	// given a simulated Huai'an (3,000 firms over 3 years), when every firm is evaluated at the end of the
	// period, then each planted bad enterprise that meets a rule is listed, and every listed entry, planted
	// or not, rests on reported events that meet its rule, with the case and violation in its reason
	r := defaultRules(t)
	c := simulateCity(t, simulate.Config{Enterprises: 3000, Years: 3, Seed: 20260630,
		End: time.Date(2026, 6, 30, 0, 0, 0, 0, model.Shanghai)})
	statuses := map[model.USCC]lists.Status{}
	byRule := map[string]map[model.ListState]int{}
	reviews := map[lists.ReviewKind]int{}
	removals := map[model.Removal]int{}
	listedFirms, badEntries := 0, 0
	for uscc, f := range c.firms {
		st, err := r.Evaluate(*f, c.end)
		if err != nil {
			t.Fatal(err)
		}
		statuses[uscc] = st
		if st.Listed() {
			listedFirms++
		}
		for i := range st.Entries {
			e := &st.Entries[i]
			if byRule[e.Rule] == nil {
				byRule[e.Rule] = map[model.ListState]int{}
			}
			byRule[e.Rule][e.State]++
			if e.RemovedReason != "" {
				removals[e.RemovedReason]++
			}
			if e.State != model.ListStateListed {
				continue
			}
			if err := c.checkReason(r, e); err != nil {
				t.Errorf("%s: %v", e.Key, err)
			}
		}
		for _, rv := range st.Reviews {
			reviews[rv.Kind]++
		}
	}
	meeting, listedBad := 0, 0
	for _, uscc := range c.truth.BadEnterprises {
		st := statuses[uscc]
		if c.meetsARule(c.firms[uscc]) {
			meeting++
			if !st.Listed() {
				t.Errorf("planted bad enterprise %s meets a rule but is not listed: %+v", uscc, st.Entries)
			}
		}
		if st.Listed() {
			listedBad++
		}
		badEntries += len(st.ScoreReasons())
	}
	t.Logf("%d firms, %d planted bad: %d meet a rule, %d listed with %d listed entries; %d firms listed in all",
		c.truth.Enterprises, len(c.truth.BadEnterprises), meeting, listedBad, badEntries, listedFirms)
	for rule, states := range byRule {
		t.Logf("%s: %v", rule, states)
	}
	t.Logf("removals: %v; reviews: %v", removals, reviews)
	if len(c.truth.BadEnterprises) == 0 || meeting == 0 {
		t.Fatalf("the simulation planted no bad enterprise that meets a rule: %+v", c.truth.BadEnterprises)
	}
}
