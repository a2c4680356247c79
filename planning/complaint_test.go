package planning_test

import (
	"strings"
	"testing"
	"time"

	"github.com/qcredit/qcredit/planning"
)

// complaintEvents builds one complaint's events: steps as "received=2025-09-30".
func complaintEvents(t *testing.T, id, county string, steps ...string) []planning.ComplaintEvent {
	t.Helper()
	var out []planning.ComplaintEvent
	for i, s := range steps {
		step, date, _ := strings.Cut(s, "=")
		at := day(t, date).Add(10 * time.Hour) // during office hours
		out = append(out, planning.ComplaintEvent{EventID: id + "-" + step, ComplaintID: id, Step: planning.ComplaintStep(step),
			USCC: firmUSCC(county, 700+i), County: county, At: at})
	}
	return out
}

func overdueOf(t *testing.T, asOf string, events []planning.ComplaintEvent) []planning.OverdueComplaint {
	t.Helper()
	rep, err := planning.OverdueComplaints(planning.ComplaintsInput{AsOf: day(t, asOf), Events: events, Rules: planning.DefaultComplaintRules()})
	if err != nil {
		t.Fatal(err)
	}
	var out []planning.OverdueComplaint
	for _, c := range rep.Counties {
		out = append(out, c.Overdue...)
	}
	return out
}

func TestComplaintDecisionDeadline(t *testing.T) {
	tests := []struct {
		name     string
		steps    []string
		asOf     string
		deadline string // "" when not overdue
		late     int
	}{
		// 2025-03-07 is a Friday: 03-10 … 03-14, 03-17, 03-18.
		{"over a weekend, on the deadline day", []string{"received=2025-03-07"}, "2025-03-18", "", 0},
		{"over a weekend, the day after", []string{"received=2025-03-07"}, "2025-03-19", "2025-03-18", 1},
		// National Day 2025: 10-01 … 10-08 off; Sunday 09-28 and Saturday 10-11 worked.
		{"a make-up Sunday and Saturday count", []string{"received=2025-09-26"}, "2025-10-14", "2025-10-13", 1},
		{"over the National Day holiday, on time", []string{"received=2025-09-30"}, "2025-10-16", "", 0},
		{"over the National Day holiday, overdue", []string{"received=2025-09-30"}, "2025-10-20", "2025-10-16", 2},
		{"accepted on the deadline day is on time", []string{"received=2025-09-30", "accepted=2025-10-16"}, "2025-10-20", "", 0},
		{"rejected late is no longer open", []string{"received=2025-09-30", "rejected=2025-10-17"}, "2025-10-20", "", 0},
		// Spring Festival 2026: 02-15 … 02-23 off; Saturdays 02-14 and 02-28 worked.
		{"over the Spring Festival, due on a make-up Saturday", []string{"received=2026-02-12"}, "2026-02-27", "", 0},
		{"over the Spring Festival, overdue the Monday after", []string{"received=2026-02-12"}, "2026-03-02", "2026-02-28", 1},
		{"received on a holiday (2026-02-17), on time", []string{"received=2026-02-17"}, "2026-03-03", "", 0},
		{"received on a holiday (2026-02-17), overdue", []string{"received=2026-02-17"}, "2026-03-04", "2026-03-03", 1},
		{"a decision after the as_of day is not seen", []string{"received=2025-09-30", "accepted=2025-10-21"}, "2025-10-20", "2025-10-16", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// given a complaint's steps, when assessed on as_of, then overdue exactly after 7 working days
			got := overdueOf(t, tt.asOf, complaintEvents(t, "c1", huaian, tt.steps...))
			if tt.deadline == "" {
				if len(got) != 0 {
					t.Errorf("overdue %+v, want none", got)
				}
				return
			}
			if len(got) != 1 || got[0].Stage != planning.ComplaintStageDecision || got[0].Deadline != tt.deadline || got[0].WorkingDaysLate != tt.late {
				t.Fatalf("overdue %+v, want decision due %s, %d working days late", got, tt.deadline, tt.late)
			}
			if r := got[0].Reason; r.Rule != planning.RuleComplaintDecision || !strings.Contains(r.Detail, tt.deadline) || r.Basis == "" {
				t.Errorf("reason %+v", r)
			}
		})
	}
}

func TestComplaintClosureDeadline(t *testing.T) {
	// 45 working days after 2025-09-30 (holiday 10-01 … 10-08, Saturday 10-11 worked) is 2025-12-09.
	tests := []struct {
		name     string
		steps    []string
		asOf     string
		deadline string
	}{
		{"open on the deadline day", []string{"received=2025-09-28", "accepted=2025-09-30"}, "2025-12-09", ""},
		{"open the day after", []string{"received=2025-09-28", "accepted=2025-09-30"}, "2025-12-10", "2025-12-09"},
		{"closed in time", []string{"received=2025-09-28", "accepted=2025-09-30", "closed=2025-12-09"}, "2025-12-10", ""},
		{"rejected: nothing to close", []string{"received=2025-09-28", "rejected=2025-09-30"}, "2026-06-01", ""},
		{"closed without an acceptance event counts as decided on closing", []string{"received=2025-09-28", "closed=2025-09-30"}, "2026-06-01", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// given an accepted complaint, when assessed on as_of, then overdue exactly after 45 working days
			got := overdueOf(t, tt.asOf, complaintEvents(t, "c1", huaian, tt.steps...))
			if tt.deadline == "" {
				if len(got) != 0 {
					t.Errorf("overdue %+v, want none", got)
				}
				return
			}
			if len(got) != 1 || got[0].Stage != planning.ComplaintStageClosure || got[0].Deadline != tt.deadline || got[0].Since != "2025-09-30" {
				t.Errorf("overdue %+v, want closure due %s since 2025-09-30", got, tt.deadline)
			}
		})
	}
}

func TestComplaintDeadlinePastTheCalendar(t *testing.T) {
	// given a complaint received at the end of the calendar's data, when overdue, then its deadline says it is estimated
	got := overdueOf(t, "2027-01-07", complaintEvents(t, "c1", huaian, "received=2026-12-28"))
	if len(got) != 1 || got[0].Deadline != "2027-01-06" || !got[0].Estimated || !strings.Contains(got[0].Reason.Detail, "estimated") {
		t.Errorf("overdue %+v, want 2027-01-06 estimated (Monday to Friday past 2026)", got)
	}
}

func TestComplaintsPerCounty(t *testing.T) {
	// given overdue complaints in two counties and an orphan event, when reported, then grouped by county, orphan named
	events := append(complaintEvents(t, "c-b", xuyi, "received=2025-03-03"), complaintEvents(t, "c-a", huaian, "received=2025-03-05")...)
	events = append(events, complaintEvents(t, "c-c", xuyi, "received=2025-03-01")...)
	events = append(events, complaintEvents(t, "c-orphan", xuyi, "accepted=2025-03-04")...)
	rep, err := planning.OverdueComplaints(planning.ComplaintsInput{AsOf: day(t, "2025-04-01"), Events: events, Rules: planning.DefaultComplaintRules()})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Counties) != 2 || rep.Counties[0].County != huaian || rep.Counties[1].County != xuyi {
		t.Fatalf("counties %+v, want 320803 then 320830", rep.Counties)
	}
	x := rep.Counties[1].Overdue
	if len(x) != 2 || x[0].ComplaintID != "c-c" || x[1].ComplaintID != "c-b" {
		t.Errorf("盱眙 overdue %+v, want c-c (earlier deadline) then c-b", x)
	}
	if len(rep.Orphans) != 1 || rep.Orphans[0] != "c-orphan" {
		t.Errorf("orphans %v, want [c-orphan]", rep.Orphans)
	}
}
