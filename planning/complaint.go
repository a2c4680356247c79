package planning

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/qcredit/qcredit/model"
)

// Complaint follow-up (有报必查、有查必果, measures 三(二)4(6)): every complaint
// received is accepted or rejected within 7 working days, and an accepted one
// is closed within 45 working days of its acceptance (DOMAIN.md, Working days).

const (
	RuleComplaintDecision = "complaint.decision_overdue"
	RuleComplaintClosure  = "complaint.closure_overdue"
	basisComplaints       = "淮安市质监局市场主体监管实施办法 三(二)4(6)：群众举报“有报必查，有查必果”；投诉自收到之日起7个工作日内决定是否受理，受理后45个工作日内办结"
)

// ComplaintStep is one step of a complaint's life.
type ComplaintStep string

const (
	ComplaintStepReceived ComplaintStep = "received"
	ComplaintStepAccepted ComplaintStep = "accepted"
	ComplaintStepRejected ComplaintStep = "rejected"
	ComplaintStepClosed   ComplaintStep = "closed"
)

// ComplaintEvent is one complaint.* event as the job reads it.
type ComplaintEvent struct {
	EventID     string
	ComplaintID string
	Step        ComplaintStep
	USCC        model.USCC
	// County is the event's source: the bureau handling the complaint.
	County string
	At     time.Time // occurred_at
}

// ComplaintRules are the deadlines, in working days.
type ComplaintRules struct {
	// DecideWithin: accept or reject within this many working days of receipt.
	DecideWithin int `json:"decide_within"`
	// CloseWithin: close within this many working days of acceptance.
	CloseWithin int `json:"close_within"`
}

// DefaultComplaintRules are 7 and 45 working days.
func DefaultComplaintRules() ComplaintRules { return ComplaintRules{DecideWithin: 7, CloseWithin: 45} }

// Validate says what is wrong with the rules.
func (r ComplaintRules) Validate() error {
	if r.DecideWithin < 1 || r.CloseWithin < 1 {
		return fmt.Errorf("complaint deadlines %d and %d working days: want at least 1 each", r.DecideWithin, r.CloseWithin)
	}
	return nil
}

// Complaint is one complaint folded from its events: the earliest of each
// step. Zero times are steps not taken.
type Complaint struct {
	ID                                   string
	USCC                                 model.USCC
	County                               string
	Received, Accepted, Rejected, Closed time.Time
}

// decided is when the complaint was accepted or rejected, whichever came
// first. Contract v1 has no acceptance event, so a close without one counts
// as accepted on the day it was closed: a complaint closed in time was
// certainly decided in time.
func (c Complaint) decided() (time.Time, ComplaintStep) {
	switch {
	case !c.Accepted.IsZero() && (c.Rejected.IsZero() || !c.Rejected.Before(c.Accepted)):
		return c.Accepted, ComplaintStepAccepted
	case !c.Rejected.IsZero():
		return c.Rejected, ComplaintStepRejected
	case !c.Closed.IsZero():
		return c.Closed, ComplaintStepAccepted
	}
	return time.Time{}, ""
}

// FoldComplaints folds events into complaints, by id, ignoring events after
// asOf's day (a run sees only what had happened by then). Events of a
// complaint never received are returned as orphans (complaint ids, sorted):
// a data problem to show, not to guess about.
func FoldComplaints(events []ComplaintEvent, asOf time.Time) ([]Complaint, []string, error) {
	cutoff := dayOf(asOf).AddDate(0, 0, 1)
	by := map[string]*Complaint{}
	var errs []error
	for _, e := range events {
		if e.ComplaintID == "" {
			errs = append(errs, fmt.Errorf("complaint event %s has no complaint id", e.EventID))
			continue
		}
		if !e.At.Before(cutoff) {
			continue
		}
		c := by[e.ComplaintID]
		if c == nil {
			c = &Complaint{ID: e.ComplaintID}
			by[e.ComplaintID] = c
		}
		var slot *time.Time
		switch e.Step {
		case ComplaintStepReceived:
			slot = &c.Received
			if c.Received.IsZero() || e.At.Before(c.Received) {
				c.USCC, c.County = e.USCC, e.County
			}
		case ComplaintStepAccepted:
			slot = &c.Accepted
		case ComplaintStepRejected:
			slot = &c.Rejected
		case ComplaintStepClosed:
			slot = &c.Closed
		default:
			errs = append(errs, fmt.Errorf("complaint event %s: step %q is not received, accepted, rejected or closed", e.EventID, e.Step))
			continue
		}
		if slot.IsZero() || e.At.Before(*slot) {
			*slot = e.At
		}
	}
	var out []Complaint
	var orphans []string
	for id, c := range by {
		if c.Received.IsZero() {
			orphans = append(orphans, id)
			continue
		}
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b Complaint) int { return strings.Compare(a.ID, b.ID) })
	slices.Sort(orphans)
	return out, orphans, errors.Join(errs...)
}

// ComplaintAssessment is where a complaint stands against its deadlines on the as_of day.
type ComplaintAssessment struct {
	Complaint
	DecisionDeadline model.Deadline
	// DecisionDue: decided, or its deadline has passed; only these count in
	// the timeliness rate (a complaint still within its 7 days is neither).
	DecisionDue, DecidedOnTime bool
	// Close* apply to accepted complaints only.
	CloseDeadline            model.Deadline
	ClosureDue, ClosedOnTime bool
}

// Assess measures a complaint against the rules on asOf's day. A step taken
// on its deadline day is on time.
func (r ComplaintRules) Assess(c Complaint, cal *model.Calendar, asOf time.Time) ComplaintAssessment {
	today := dayOf(asOf)
	a := ComplaintAssessment{Complaint: c, DecisionDeadline: cal.AddWorkingDays(dayOf(c.Received), r.DecideWithin)}
	decided, step := c.decided()
	if decided.IsZero() {
		a.DecisionDue = today.After(a.DecisionDeadline.Date)
		return a
	}
	a.DecisionDue, a.DecidedOnTime = true, !dayOf(decided).After(a.DecisionDeadline.Date)
	if step != ComplaintStepAccepted {
		return a
	}
	a.CloseDeadline = cal.AddWorkingDays(dayOf(decided), r.CloseWithin)
	if c.Closed.IsZero() {
		a.ClosureDue = today.After(a.CloseDeadline.Date)
		return a
	}
	a.ClosureDue, a.ClosedOnTime = true, !dayOf(c.Closed).After(a.CloseDeadline.Date)
	return a
}

// ComplaintStage is the step a complaint is overdue for.
type ComplaintStage string

const (
	ComplaintStageDecision ComplaintStage = "decision" // to accept or reject
	ComplaintStageClosure  ComplaintStage = "closure"
)

// OverdueComplaint is a complaint past a deadline with the step not taken.
type OverdueComplaint struct {
	ComplaintID string         `json:"complaint_id"`
	USCC        model.USCC     `json:"uscc"`
	County      string         `json:"county"`
	Stage       ComplaintStage `json:"stage"`
	// Since is the day the count started (received or accepted), Deadline
	// its last day. Estimated: the count ran past the calendar's data and
	// counted Monday to Friday there.
	Since           string       `json:"since"`
	Deadline        string       `json:"deadline"`
	Estimated       bool         `json:"estimated,omitempty"`
	WorkingDaysLate int          `json:"working_days_late"`
	Reason          model.Reason `json:"reason"`
}

// CountyComplaints are one county bureau's overdue complaints.
type CountyComplaints struct {
	County  string             `json:"county"`
	Overdue []OverdueComplaint `json:"overdue"`
}

// ComplaintsInput is what the complaint follow-up reads.
type ComplaintsInput struct {
	AsOf     time.Time
	Events   []ComplaintEvent
	Rules    ComplaintRules
	Calendar *model.Calendar // nil: model.DefaultCalendar()
}

// Validate says what is wrong with the input.
func (in ComplaintsInput) Validate() error {
	var errs []error
	if in.AsOf.IsZero() {
		errs = append(errs, errors.New("as_of is required"))
	}
	return errors.Join(append(errs, in.Rules.Validate())...)
}

// ComplaintReport lists the overdue complaints per county (counties by code,
// complaints by deadline, then id) and the orphaned events' complaint ids.
type ComplaintReport struct {
	AsOf     string             `json:"as_of"`
	Rules    ComplaintRules     `json:"rules"`
	Counties []CountyComplaints `json:"counties"`
	Orphans  []string           `json:"orphans,omitempty"`
}

// OverdueComplaints lists, per county, every complaint that is past its
// decision or closure deadline on the as_of day without the step taken.
func OverdueComplaints(in ComplaintsInput) (ComplaintReport, error) {
	if err := in.Validate(); err != nil {
		return ComplaintReport{}, fmt.Errorf("complaints: %w", err)
	}
	cal := calendarOr(in.Calendar)
	complaints, orphans, err := FoldComplaints(in.Events, in.AsOf)
	if err != nil {
		return ComplaintReport{}, fmt.Errorf("complaints: %w", err)
	}
	today := dayOf(in.AsOf)
	byCounty := map[string][]OverdueComplaint{}
	for _, c := range complaints {
		a := in.Rules.Assess(c, cal, in.AsOf)
		if o, ok := overdue(a, in.Rules, cal, today); ok {
			byCounty[c.County] = append(byCounty[c.County], o)
		}
	}
	rep := ComplaintReport{AsOf: today.Format(time.DateOnly), Rules: in.Rules, Counties: []CountyComplaints{}, Orphans: orphans}
	for _, county := range slices.Sorted(maps.Keys(byCounty)) {
		list := byCounty[county]
		slices.SortFunc(list, func(a, b OverdueComplaint) int {
			return cmp.Or(strings.Compare(a.Deadline, b.Deadline), strings.Compare(a.ComplaintID, b.ComplaintID))
		})
		rep.Counties = append(rep.Counties, CountyComplaints{County: county, Overdue: list})
	}
	return rep, nil
}

func overdue(a ComplaintAssessment, r ComplaintRules, cal *model.Calendar, today time.Time) (OverdueComplaint, bool) {
	o := OverdueComplaint{ComplaintID: a.ID, USCC: a.USCC, County: a.County}
	var since time.Time
	var d model.Deadline
	var within int
	var started string
	decided, _ := a.decided()
	switch {
	case decided.IsZero() && a.DecisionDue:
		o.Stage, since, d, within, started = ComplaintStageDecision, a.Received, a.DecisionDeadline, r.DecideWithin, "received"
		o.Reason.Rule = RuleComplaintDecision
	case a.ClosureDue && a.Closed.IsZero():
		o.Stage, since, d, within, started = ComplaintStageClosure, decided, a.CloseDeadline, r.CloseWithin, "accepted"
		o.Reason.Rule = RuleComplaintClosure
	default:
		return o, false
	}
	o.Since, o.Deadline, o.Estimated = dayOf(since).Format(time.DateOnly), d.Date.Format(time.DateOnly), d.Estimated
	o.WorkingDaysLate = cal.WorkingDaysBetween(d.Date, today)
	o.Reason.Basis, o.Reason.Count = basisComplaints, int64(o.WorkingDaysLate)
	o.Reason.Detail = fmt.Sprintf("%s on %s: %s due within %d working days, by %s; %d working days late on %s",
		started, o.Since, o.Stage, within, o.Deadline, o.WorkingDaysLate, today.Format(time.DateOnly))
	if d.Estimated {
		o.Reason.Detail += fmt.Sprintf(" (deadline estimated: counted Monday to Friday past %d, the calendar's last year)", cal.LastYear())
	}
	return o, true
}

func calendarOr(c *model.Calendar) *model.Calendar {
	if c == nil {
		return model.DefaultCalendar()
	}
	return c
}
