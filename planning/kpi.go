package planning

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/qcredit/qcredit/model"
)

// County bureau KPIs (measures 五(四): 修订全市质监系统绩效考核指标体系), per
// county and month, from plain aggregates the warehouse computes and from the
// complaint events and hazards the other reports read.

// CountyActivity is the warehouse's aggregate for one county bureau and month.
type CountyActivity struct {
	County string
	Month  Month
	// Firms: registered, not deregistered firms whose current county is this
	// one, at the month's end.
	Firms int64
	// FirmsChecked: of those, the distinct firms with a spot_check.completed
	// from 1 January to the month's end (coverage is year to date: a distinct
	// count cannot be summed over months).
	FirmsChecked int64
	// Events: events the county reported (source) that occurred in the month.
	Events int64
	// DelaySeconds: Σ max(0, ingested_at − occurred_at) over those events, in
	// whole seconds (truncated per event).
	DelaySeconds int64
	// LateEvents: of those, ingested more than KPIRules.LateAfter after they occurred.
	LateEvents int64
	// DeadLetters: input refused in the month (by received time) from the
	// county: its ingest key's region, or the source when it could be read.
	DeadLetters int64
}

// KPIRules are what the KPIs measure against.
type KPIRules struct {
	Complaints ComplaintRules
	// LateAfter is the reporting delay beyond which an event counts as late;
	// the job passes it to the warehouse query.
	LateAfter time.Duration
}

// DefaultKPIRules are the complaint deadlines and 5 days for a late report.
func DefaultKPIRules() KPIRules {
	return KPIRules{Complaints: DefaultComplaintRules(), LateAfter: 5 * 24 * time.Hour}
}

// Fraction is a KPI's numerator and denominator; it is published with its
// value (half up to six decimals), null when nothing was due.
type Fraction struct {
	Num, Den int64
}

// MarshalJSON writes {"num": n, "den": d, "value": v | null}.
func (f Fraction) MarshalJSON() ([]byte, error) {
	v := struct {
		Num   int64    `json:"num"`
		Den   int64    `json:"den"`
		Value *Decimal `json:"value"`
	}{Num: f.Num, Den: f.Den}
	if f.Den > 0 {
		r := Ratio(f.Num, f.Den)
		v.Value = &r
	}
	return json.Marshal(v)
}

// CountyKPI is one county bureau's month.
type CountyKPI struct {
	County string `json:"county"`
	Month  Month  `json:"month"`
	// Coverage: firms spot-checked this year to the month's end / firms.
	Coverage Fraction `json:"coverage"`
	// ComplaintTimeliness: of the complaints received in the month whose
	// decision was due by the as_of day (or taken), those decided in time.
	ComplaintTimeliness Fraction `json:"complaint_timeliness"`
	// ComplaintClosure: of the complaints accepted in the month whose closure
	// was due by the as_of day (or done), those closed in time.
	ComplaintClosure Fraction `json:"complaint_closure"`
	// HazardCorrection: of the hazards found in the month, those corrected by
	// the as_of day; SelfCorrection: those the unit found and corrected itself.
	HazardCorrection Fraction `json:"hazard_correction"`
	SelfCorrection   Fraction `json:"self_correction"`
	// MeanDelaySeconds is the mean reporting delay (occurred_at → ingested_at),
	// rounded half up to whole seconds; LateReports: events reported late / events.
	MeanDelaySeconds int64    `json:"mean_delay_seconds"`
	LateReports      Fraction `json:"late_reports"`
	// DeadLetterRate: dead letters / (events + dead letters).
	DeadLetterRate Fraction `json:"dead_letter_rate"`
}

// KPIInput is what the KPIs are computed from, for the months From to To.
type KPIInput struct {
	AsOf     time.Time
	From, To Month
	// Counties to report even without data (a bureau with nothing reported
	// is a finding); counties seen in the data are added.
	Counties   []string
	Activity   []CountyActivity
	Complaints []ComplaintEvent
	Hazards    []Hazard
	Rules      KPIRules
	Calendar   *model.Calendar // nil: model.DefaultCalendar()
}

// Validate says what is wrong with the input.
func (in KPIInput) Validate() error {
	errs := []error{in.Rules.Complaints.Validate()}
	if in.AsOf.IsZero() {
		errs = append(errs, errors.New("as_of is required"))
	}
	if in.From.Year == 0 || in.To.Compare(in.From) < 0 || in.To.Compare(in.From) > 120 {
		errs = append(errs, fmt.Errorf("months %s to %s: want a window of at most ten years", in.From, in.To))
	}
	for _, a := range in.Activity {
		if min(a.Firms, a.FirmsChecked, a.Events, a.DelaySeconds, a.LateEvents, a.DeadLetters) < 0 {
			errs = append(errs, fmt.Errorf("county %s %s: %w", a.County, a.Month, errNegativeCount))
		}
		if a.FirmsChecked > a.Firms || a.LateEvents > a.Events {
			errs = append(errs, fmt.Errorf("county %s %s: a part exceeds its whole (firms checked %d of %d, late %d of %d)",
				a.County, a.Month, a.FirmsChecked, a.Firms, a.LateEvents, a.Events))
		}
		errs = append(errs, checkCount("firms", a.Firms), checkCount("events", a.Events+a.DeadLetters))
	}
	return errors.Join(errs...)
}

type countyMonth struct {
	county string
	month  Month
}

// CountyKPIs computes every county's KPIs for each month of the window,
// ordered by county, then month.
func CountyKPIs(in KPIInput) ([]CountyKPI, error) {
	if err := in.Validate(); err != nil {
		return nil, fmt.Errorf("county KPIs: %w", err)
	}
	cal := calendarOr(in.Calendar)
	rows := map[countyMonth]*CountyKPI{}
	counties := map[string]bool{}
	for _, c := range in.Counties {
		counties[c] = true
	}
	row := func(county string, m Month) *CountyKPI {
		counties[county] = true
		if m.Compare(in.From) < 0 || m.Compare(in.To) > 0 {
			return nil
		}
		k := countyMonth{county, m}
		if rows[k] == nil {
			rows[k] = &CountyKPI{County: county, Month: m}
		}
		return rows[k]
	}
	for _, a := range in.Activity {
		if r := row(a.County, a.Month); r != nil {
			r.Coverage = Fraction{a.FirmsChecked, a.Firms}
			r.LateReports = Fraction{a.LateEvents, a.Events}
			r.DeadLetterRate = Fraction{a.DeadLetters, a.Events + a.DeadLetters}
			if a.Events > 0 {
				r.MeanDelaySeconds = (2*a.DelaySeconds + a.Events) / (2 * a.Events)
			}
		}
	}
	complaints, _, err := FoldComplaints(in.Complaints, in.AsOf)
	if err != nil {
		return nil, fmt.Errorf("county KPIs: %w", err)
	}
	for _, c := range complaints {
		a := in.Rules.Complaints.Assess(c, cal, in.AsOf)
		if r := row(c.County, MonthOf(c.Received)); r != nil && a.DecisionDue {
			r.ComplaintTimeliness.add(a.DecidedOnTime)
		}
		if decided, step := c.decided(); step == ComplaintStepAccepted {
			if r := row(c.County, MonthOf(decided)); r != nil && a.ClosureDue {
				r.ComplaintClosure.add(a.ClosedOnTime)
			}
		}
	}
	cutoff := dayOf(in.AsOf).AddDate(0, 0, 1)
	for _, h := range in.Hazards {
		if r := row(h.County, MonthOf(h.FoundAt)); r != nil {
			corrected := !h.CorrectedAt.IsZero() && h.CorrectedAt.Before(cutoff)
			r.HazardCorrection.add(corrected)
			r.SelfCorrection.add(corrected && h.SelfFound)
		}
	}
	var out []CountyKPI
	for _, county := range slices.Sorted(maps.Keys(counties)) {
		for m := in.From; m.Compare(in.To) <= 0; m = m.next() {
			if r := row(county, m); r != nil {
				out = append(out, *r)
			}
		}
	}
	return out, nil
}

func (f *Fraction) add(yes bool) {
	f.Den++
	if yes {
		f.Num++
	}
}

func (m Month) next() Month {
	if m.Month == time.December {
		return Month{Year: m.Year + 1, Month: time.January}
	}
	return Month{Year: m.Year, Month: m.Month + 1}
}
