package pipelines

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/planning"
	"github.com/qcredit/qcredit/warehouse"
)

// JobKPI is the name of the kpi job.
const JobKPI = "kpi"

// KPIConfig is what the bureau may change about the kpi job.
type KPIConfig struct {
	// Months of KPIs per county, ending with the as_of's month (default 12).
	Months int
	// LookbackMonths: complaints received and hazards found this long
	// before the as_of are followed up (default 36: an old complaint never
	// decided is still overdue).
	LookbackMonths int
	// RateMonths: the self-correction rate counts the hazards found this
	// long before the as_of (default 12).
	RateMonths int
	KPI        planning.KPIRules
	Equipment  planning.EquipmentRules
	Calendar   *model.Calendar // nil: model.DefaultCalendar()
}

// DefaultKPIConfig is 12 months of KPIs, a 36-month follow-up, the
// self-correction rate over 12 months, 7/45 working days, 90 %.
func DefaultKPIConfig() KPIConfig {
	return KPIConfig{Months: 12, LookbackMonths: 36, RateMonths: 12, KPI: planning.DefaultKPIRules(),
		Equipment: planning.DefaultEquipmentRules()}
}

// KPIJob computes the county bureaus' KPIs per month (measures 五(四)), the
// complaints overdue for a decision or a closure per county (有报必查、有查必果)
// and the special-equipment self-correction report (自查自纠率 ≥ 90 %, serious
// hazards past their deadline).
//
// Outputs, in key order: "complaint/<county>/<complaint_id>/<stage>" (label
// the stage, value the working days late, a planning.OverdueComplaint),
// "equipment/hazard/<hazard_id>" (value the days overdue, a
// planning.OverdueHazard), "equipment/unit/<USCC>" (label below or met,
// value the rate in millionths, a planning.UnitRate) and
// "kpi/<county>/<YYYY-MM>" (label the county, a planning.CountyKPI).
// Default schedule: the 1st of each month at 05:00, as of the month that ended.
type KPIJob struct {
	src KPISource
	cfg KPIConfig
	log *slog.Logger
}

// NewKPIJob builds the kpi job.
func NewKPIJob(src KPISource, cfg KPIConfig, log *slog.Logger) *KPIJob {
	return &KPIJob{src: src, cfg: cfg, log: log}
}

func (j *KPIJob) Name() string     { return JobKPI }
func (j *KPIJob) Schedule() string { return "0 5 1 * *" }

// ModelVersion names the rules: months, deadlines, the late-report delay and the target.
func (j *KPIJob) ModelVersion() string {
	c := j.cfg
	return fmt.Sprintf("kpi-m%d-l%d-r%d-d%d-c%d-late%s-t%s", c.Months, c.LookbackMonths, c.RateMonths,
		c.KPI.Complaints.DecideWithin, c.KPI.Complaints.CloseWithin, c.KPI.LateAfter, c.Equipment.Target)
}

// Run computes the KPIs of the months up to the as_of's and the follow-up
// reports as of the as_of.
func (j *KPIJob) Run(ctx context.Context, in RunInput) (Output, error) {
	asOf, err := ParseAsOf(in.Run.AsOf, time.Time{})
	if err != nil {
		return Output{}, err
	}
	cfg := j.cfg
	to := planning.MonthOf(asOf.Date)
	from := addMonths(to, 1-cfg.Months)
	lookback := warehouse.Window{From: monthStart(addMonths(to, 1-cfg.LookbackMonths)), Cutoff: in.Cutoff, Watermark: in.Watermark}
	rows, err := eventsOf(ctx, j.src, lookback, slices.Concat(complaintTypes, hazardTypes)...)
	if err != nil {
		return Output{}, err
	}
	complaints := complaintEvents(rows)
	allHazards := qualifyHazardIDs(hazards(rows))
	rateFrom := monthStart(addMonths(to, 1-cfg.RateMonths))
	var recent []planning.Hazard
	for _, h := range allHazards {
		if !h.FoundAt.Before(rateFrom) {
			recent = append(recent, h)
		}
	}
	overdue, err := planning.OverdueComplaints(planning.ComplaintsInput{AsOf: asOf.Date, Events: complaints,
		Rules: cfg.KPI.Complaints, Calendar: cfg.Calendar})
	if err != nil {
		return Output{}, err
	}
	rates, err := planning.SelfCorrection(planning.EquipmentInput{AsOf: asOf.Date, Hazards: recent, Rules: cfg.Equipment})
	if err != nil {
		return Output{}, err
	}
	flags, err := planning.SelfCorrection(planning.EquipmentInput{AsOf: asOf.Date, Hazards: allHazards, Rules: cfg.Equipment})
	if err != nil {
		return Output{}, err
	}
	activity, unattributed, err := j.activity(ctx, in, from, to)
	if err != nil {
		return Output{}, err
	}
	kpis, err := planning.CountyKPIs(planning.KPIInput{AsOf: asOf.Date, From: from, To: to, Counties: model.CurrentHuaianBureaus(),
		Activity: activity, Complaints: complaints, Hazards: recent, Rules: cfg.KPI, Calendar: cfg.Calendar})
	if err != nil {
		return Output{}, err
	}
	out := kpiRows(overdue, rates.Units, flags.Overdue, kpis)
	for _, r := range out {
		if err := addOutput(in.Outputs, r.row, r.v); err != nil {
			return Output{}, err
		}
	}
	overdueN := 0
	for _, c := range overdue.Counties {
		overdueN += len(c.Overdue)
	}
	return Output{Counts: map[string]int64{"county_months": int64(len(kpis)), "complaints_overdue": int64(overdueN),
		"complaint_orphans": int64(len(overdue.Orphans)), "units": int64(len(rates.Units)), "units_below": int64(len(rates.Below())),
		"hazards_overdue": int64(len(flags.Overdue)), "dead_letters_unattributed": unattributed}}, nil
}

type keyedOutput struct {
	row warehouse.OutputRow
	v   any
}

// kpiRows are the job's outputs in key order.
func kpiRows(overdue planning.ComplaintReport, units []planning.UnitRate, hazards []planning.OverdueHazard, kpis []planning.CountyKPI) []keyedOutput {
	var out []keyedOutput
	for _, c := range overdue.Counties {
		for _, o := range c.Overdue {
			out = append(out, keyedOutput{warehouse.OutputRow{Key: "complaint/" + o.County + "/" + o.ComplaintID + "/" + string(o.Stage),
				USCC: string(o.USCC), Label: string(o.Stage), Value: int64(o.WorkingDaysLate)}, o})
		}
	}
	for _, h := range hazards {
		out = append(out, keyedOutput{warehouse.OutputRow{Key: "equipment/hazard/" + h.HazardID, USCC: string(h.USCC),
			Label: "overdue", Value: h.DaysOverdue}, h})
	}
	for _, u := range units {
		label := "met"
		if u.Below {
			label = "below"
		}
		out = append(out, keyedOutput{warehouse.OutputRow{Key: "equipment/unit/" + string(u.USCC), USCC: string(u.USCC),
			Label: label, Value: int64(u.Rate)}, u})
	}
	for _, k := range kpis {
		out = append(out, keyedOutput{warehouse.OutputRow{Key: "kpi/" + k.County + "/" + k.Month.String(), Label: k.County}, k})
	}
	slices.SortFunc(out, func(a, b keyedOutput) int { return strings.Compare(a.row.Key, b.row.Key) })
	return slices.CompactFunc(out, func(a, b keyedOutput) bool { return a.row.Key == b.row.Key })
}

// activity is each county's aggregates per month of from–to: firms and
// firms spot-checked this year at the month's end (by the firm's county),
// events, delays and dead letters (by the reporting bureau). Dead letters
// whose source is no Huai'an bureau are counted apart (unattributed).
func (j *KPIJob) activity(ctx context.Context, in RunInput, from, to planning.Month) ([]planning.CountyActivity, int64, error) {
	var starts []time.Time
	for m := from; m.Compare(to) <= 0; m = addMonths(m, 1) {
		starts = append(starts, monthStart(m))
	}
	q := warehouse.MonthQuery{Starts: starts, Cutoff: in.Cutoff, Watermark: in.Watermark, LateAfter: j.cfg.KPI.LateAfter}
	sm, err := j.src.MonthlyActivity(ctx, q)
	if err != nil {
		return nil, 0, err
	}
	type cm struct {
		county string
		month  int
	}
	acts := map[cm]*planning.CountyActivity{}
	act := func(county string, month int) *planning.CountyActivity {
		k := cm{county, month}
		if acts[k] == nil {
			acts[k] = &planning.CountyActivity{County: county, Month: addMonths(from, month)}
		}
		return acts[k]
	}
	var unattributed int64
	for _, s := range sm {
		county := model.CurrentCounty(s.Source)
		if !slices.Contains(model.CurrentHuaianBureaus(), county) {
			unattributed += s.DeadLetters
			continue
		}
		a := act(county, s.Month)
		a.Events += s.Events
		a.DelaySeconds += s.DelaySeconds
		a.LateEvents += s.LateEvents
		a.DeadLetters += s.DeadLetters
	}
	if err := j.coverage(ctx, in, from, to, act); err != nil {
		return nil, 0, err
	}
	out := make([]planning.CountyActivity, 0, len(acts))
	for _, a := range acts {
		out = append(out, *a)
	}
	slices.SortFunc(out, func(a, b planning.CountyActivity) int {
		return cmp.Or(strings.Compare(a.County, b.County), a.Month.Compare(b.Month))
	})
	return out, unattributed, nil
}

// coverage fills each month's firms and firms spot-checked from 1 January
// to the month's end (the month's end is the cutoff for the as_of's month).
func (j *KPIJob) coverage(ctx context.Context, in RunInput, from, to planning.Month,
	act func(string, int) *planning.CountyActivity) error {
	states, err := firmStates(ctx, j.src, warehouse.Window{Cutoff: in.Cutoff, Watermark: in.Watermark})
	if err != nil {
		return err
	}
	first := planning.Month{Year: from.Year, Month: time.January}
	var starts []time.Time
	for m := first; m.Compare(to) <= 0; m = addMonths(m, 1) {
		starts = append(starts, monthStart(m))
	}
	checked := map[model.USCC][]int{} // the firm's months with a check, ascending
	err = j.src.CheckedFirms(ctx, warehouse.MonthQuery{Starts: starts, Cutoff: in.Cutoff, Watermark: in.Watermark},
		func(u model.USCC, m int) error {
			checked[u] = append(checked[u], m)
			return nil
		})
	if err != nil {
		return err
	}
	offset := monthsBetween(first, from)
	for _, f := range states {
		county := model.CurrentCounty(f.Region)
		if !slices.Contains(model.CurrentHuaianBureaus(), county) {
			continue
		}
		for i, m := 0, from; m.Compare(to) <= 0; i, m = i+1, addMonths(m, 1) {
			end := earlier(monthStart(addMonths(m, 1)), in.Cutoff)
			if !f.RegisteredOn(end) {
				continue
			}
			a := act(county, i)
			a.Firms++
			if checkedThisYear(checked[f.USCC], offset+i, monthsBetween(first, planning.Month{Year: m.Year, Month: time.January})) {
				a.FirmsChecked++
			}
		}
	}
	return nil
}

// checkedThisYear reports whether one of months (bucket indices) lies in
// [yearFirst, upTo].
func checkedThisYear(months []int, upTo, yearFirst int) bool {
	for _, m := range months {
		if m >= yearFirst && m <= upTo {
			return true
		}
	}
	return false
}

func addMonths(m planning.Month, n int) planning.Month {
	t := time.Date(m.Year, m.Month+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	return planning.Month{Year: t.Year(), Month: t.Month()}
}

func monthsBetween(a, b planning.Month) int { return b.Compare(a) }

// monthStart is the month's first instant in Asia/Shanghai.
func monthStart(m planning.Month) time.Time {
	return time.Date(m.Year, m.Month, 1, 0, 0, 0, 0, model.Shanghai)
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
