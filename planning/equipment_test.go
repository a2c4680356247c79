package planning_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/planning"
)

// unitHazards makes hazards of one unit: self corrected by itself, other
// corrected after others found them, open still open.
func unitHazards(t *testing.T, u model.USCC, self, other, open int) []planning.Hazard {
	t.Helper()
	var out []planning.Hazard
	add := func(kind string, n int, corrected bool, selfFound bool) {
		for i := range n {
			h := planning.Hazard{HazardID: fmt.Sprintf("%s-%s-%d", u, kind, i), USCC: u, County: huaian,
				EquipmentID: "elevator-1", FoundAt: day(t, "2026-01-05"), SelfFound: selfFound}
			if corrected {
				h.CorrectedAt = day(t, "2026-01-20")
			}
			out = append(out, h)
		}
	}
	add("self", self, true, true)
	add("other", other, true, false)
	add("open", open, false, false)
	return out
}

func TestSelfCorrectionRate(t *testing.T) {
	tests := []struct {
		name              string
		self, other, open int
		rules             planning.EquipmentRules
		rate              string
		below             bool
	}{
		{"9 of 10 is 90 %: not below", 9, 1, 0, planning.DefaultEquipmentRules(), "0.9", false},
		{"8 of 9 is 88.9 %: below", 8, 1, 0, planning.DefaultEquipmentRules(), "0.888889", true},
		{"an open hazard counts against the unit", 9, 0, 1, planning.DefaultEquipmentRules(), "0.9", false},
		{"two open of ten: below", 8, 0, 2, planning.DefaultEquipmentRules(), "0.8", true},
		{"all corrected, but found by others: below", 0, 3, 0, planning.DefaultEquipmentRules(), "0", true},
		{"all found and corrected itself", 5, 0, 0, planning.DefaultEquipmentRules(), "1", false},
		{"one hazard is too few when three are needed", 0, 1, 0, planning.EquipmentRules{Target: 900_000, MinHazards: 3}, "0", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// given a unit's hazards, when its self-correction rate is computed, then under 90 % it is listed
			u := firmUSCC(huaian, 42)
			rep, err := planning.SelfCorrection(planning.EquipmentInput{AsOf: day(t, "2026-03-01"),
				Hazards: unitHazards(t, u, tt.self, tt.other, tt.open), Rules: tt.rules})
			if err != nil {
				t.Fatal(err)
			}
			got := rep.Units[0]
			if got.Rate.String() != tt.rate || got.Below != tt.below {
				t.Errorf("rate %s below %v, want %s %v", got.Rate, got.Below, tt.rate, tt.below)
			}
			if below := rep.Below(); tt.below != (len(below) == 1) || tt.below && !strings.Contains(below[0].Reasons[0].Detail, "below 90%") {
				t.Errorf("listed below: %+v", below)
			}
		})
	}
}

func TestSelfCorrectionCountsOnlyWhatHappened(t *testing.T) {
	// given a correction dated after the as_of day, when computed, then the hazard is still open
	u := firmUSCC(huaian, 43)
	hs := unitHazards(t, u, 1, 0, 0)
	hs[0].CorrectedAt = day(t, "2026-03-02")
	rep, err := planning.SelfCorrection(planning.EquipmentInput{AsOf: day(t, "2026-03-01"), Hazards: hs, Rules: planning.DefaultEquipmentRules()})
	if err != nil {
		t.Fatal(err)
	}
	if u := rep.Units[0]; u.Open != 1 || u.SelfCorrected != 0 {
		t.Errorf("unit %+v, want the hazard open on 2026-03-01", u)
	}
}

func TestSeriousHazardOverdue(t *testing.T) {
	u := firmUSCC(xuyi, 44)
	hazard := func(id string, serious bool, corrected string) planning.Hazard {
		h := planning.Hazard{HazardID: id, EventID: "ev-" + id, USCC: u, County: xuyi, EquipmentID: "boiler-2", Serious: serious,
			FoundAt: day(t, "2026-02-01"), Deadline: day(t, "2026-03-01")}
		if corrected != "" {
			h.CorrectedAt = day(t, corrected).Add(9 * time.Hour)
		}
		return h
	}
	tests := []struct {
		name string
		h    planning.Hazard
		asOf string
		days int64 // 0: not flagged
	}{
		{"open on its deadline day", hazard("h1", true, ""), "2026-03-01", 0},
		{"open the day after", hazard("h1", true, ""), "2026-03-02", 1},
		{"open ten days after", hazard("h1", true, ""), "2026-03-11", 10},
		{"an ordinary hazard is not flagged", hazard("h1", false, ""), "2026-03-11", 0},
		{"corrected in time", hazard("h1", true, "2026-02-27"), "2026-03-11", 0},
		{"corrected after the as_of day is still open then", hazard("h1", true, "2026-03-12"), "2026-03-11", 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// given a serious hazard with a deadline, when assessed on as_of, then flagged once past it while open
			rep, err := planning.SelfCorrection(planning.EquipmentInput{AsOf: day(t, tt.asOf), Hazards: []planning.Hazard{tt.h}, Rules: planning.DefaultEquipmentRules()})
			if err != nil {
				t.Fatal(err)
			}
			if tt.days == 0 {
				if len(rep.Overdue) != 0 {
					t.Errorf("flagged %+v, want none", rep.Overdue)
				}
				return
			}
			if len(rep.Overdue) != 1 || rep.Overdue[0].DaysOverdue != tt.days || rep.Overdue[0].Deadline != "2026-03-01" {
				t.Errorf("flagged %+v, want %d days past 2026-03-01", rep.Overdue, tt.days)
			}
		})
	}
}
