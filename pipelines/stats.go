package pipelines

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// JobStats is the name of the stats job.
const JobStats = "stats"

// StatsMonths is how many calendar months a stats run covers, the as_of's
// month included: the look-back of the scores.
const StatsMonths = 36

// ActivitySource is what the stats job reads: the warehouse's monthly
// aggregates per county and its open complaints.
type ActivitySource interface {
	Activity(ctx context.Context, q warehouse.ActivityQuery, fn func(warehouse.ActivityRow) error) error
	OpenComplaints(ctx context.Context, q warehouse.ActivityQuery) ([]warehouse.OpenComplaintDay, error)
}

// StatsJob aggregates, per county bureau and month, what the dashboards
// draw as trends and county indicators (model.CountyMonth), and each
// county's open and overdue complaints at the as_of day
// (model.CountyComplaints). Its outputs are keyed "month/<county>/<YYYY-MM>"
// (label the county, value the events, payload the CountyMonth) and
// "complaints/<county>" (value the open complaints). It runs after score.
type StatsJob struct {
	src      ActivitySource
	calendar *model.Calendar
}

// NewStatsJob builds the stats job.
func NewStatsJob(src ActivitySource) *StatsJob {
	return &StatsJob{src: src, calendar: model.DefaultCalendar()}
}

func (j *StatsJob) Name() string     { return JobStats }
func (j *StatsJob) Schedule() string { return "after " + JobScore }

// ModelVersion names what the outputs mean; change it with their meaning.
func (j *StatsJob) ModelVersion() string {
	return fmt.Sprintf("stats-v1-%dm-overdue%d", StatsMonths, model.ComplaintOverdueWorkingDays)
}

// Run reads the window's aggregates and writes them in key order.
func (j *StatsJob) Run(ctx context.Context, in RunInput) (Output, error) {
	asOf := in.Cutoff.AddDate(0, 0, -1)
	from := time.Date(asOf.Year(), asOf.Month()-StatsMonths+1, 1, 0, 0, 0, 0, Shanghai)
	q := warehouse.ActivityQuery{From: from, Cutoff: in.Cutoff, Watermark: in.Watermark}
	var months []model.CountyMonth
	err := j.src.Activity(ctx, q, func(r warehouse.ActivityRow) error {
		months = append(months, model.CountyMonth{County: r.County, Month: fmt.Sprintf("%04d-%02d", r.Month/100, r.Month%100),
			Events: r.Events, SpotChecks: r.SpotChecks, SpotCheckFailures: r.SpotCheckFailures,
			Reported: r.Reported, DelaySeconds: r.DelaySeconds, DeadLetters: r.DeadLetters})
		return nil
	})
	if err != nil {
		return Output{}, err
	}
	days, err := j.src.OpenComplaints(ctx, q)
	if err != nil {
		return Output{}, err
	}
	complaints := j.complaints(days, asOf)
	counts := map[string]int64{"county_months": int64(len(months)), "complaints_open": 0, "complaints_overdue": 0}
	for _, c := range complaints {
		counts["complaints_open"] += c.Open
		counts["complaints_overdue"] += c.Overdue
		if err := addJSON(in.Outputs, "complaints/"+c.County, c.County, c.Open, c); err != nil {
			return Output{}, err
		}
	}
	slices.SortFunc(months, func(a, b model.CountyMonth) int {
		return cmp.Or(cmp.Compare(a.County, b.County), cmp.Compare(a.Month, b.Month))
	})
	for _, m := range months {
		if err := addJSON(in.Outputs, "month/"+m.County+"/"+m.Month, m.County, m.Events, m); err != nil {
			return Output{}, err
		}
	}
	return Output{Counts: counts}, nil
}

// complaints folds the open complaints per day into each county's open
// and overdue ones at the end of asOf, in county order.
func (j *StatsJob) complaints(days []warehouse.OpenComplaintDay, asOf time.Time) []model.CountyComplaints {
	by := map[string]*model.CountyComplaints{}
	var out []model.CountyComplaints
	for _, d := range days {
		c := by[d.County]
		if c == nil {
			c = &model.CountyComplaints{County: d.County}
			by[d.County] = c
		}
		c.Open += d.Open
		received := time.Date(d.Day/10000, time.Month(d.Day/100%100), d.Day%100, 0, 0, 0, 0, Shanghai)
		if j.calendar.WorkingDaysBetween(received, asOf) > model.ComplaintOverdueWorkingDays {
			c.Overdue += d.Open
		}
	}
	for _, c := range by {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b model.CountyComplaints) int { return cmp.Compare(a.County, b.County) })
	return out
}

func addJSON(w *OutputWriter, key, label string, value int64, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("output %s: %w", key, err)
	}
	return w.Add(warehouse.OutputRow{Key: key, Label: label, Value: value, Payload: b})
}
