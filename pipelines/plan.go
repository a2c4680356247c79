package pipelines

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/planning"
	"github.com/qcredit/qcredit/warehouse"
)

// JobPlan is the name of the plan job.
const JobPlan = "plan"

// PlanJob makes next year's product spot-check plan (次年产品质量监督抽查计划)
// by quarter from this year's spot checks, complaints naming a product, the
// clusters job's current red and orange warnings and the county bureaus'
// suggestions (plan.suggested for the plan year), every line with the
// rules and numbers behind it. A run as of a day in year Y plans year Y+1
// from Y's records up to that day.
//
// Outputs: "line/<product>" per product (label the product, value its
// batches, payload a planning.PlanLine) and "plan", the totals (a PlanSummary).
// Default schedule: 1 December at 03:00, as of 30 November; re-run it as
// of 31 December for the plan on the whole year.
type PlanJob struct {
	src   PlanSource
	rules *planning.PlanRules
	log   *slog.Logger
}

// NewPlanJob builds the plan job with its rules (planning.DefaultPlanRules
// or a file the bureau edited).
func NewPlanJob(src PlanSource, rules *planning.PlanRules, log *slog.Logger) *PlanJob {
	return &PlanJob{src: src, rules: rules, log: log}
}

func (j *PlanJob) Name() string         { return JobPlan }
func (j *PlanJob) Schedule() string     { return "0 3 1 12 *" }
func (j *PlanJob) ModelVersion() string { return j.rules.Version }

// PlanSummary is the plan's "plan" output: what it was made from and its totals.
type PlanSummary struct {
	Year         int      `json:"year"`
	RulesVersion string   `json:"rules_version"`
	Batches      int64    `json:"batches"`
	Quarters     [4]int64 `json:"quarters"`
	Products     int      `json:"products"`
	// From and To are the days whose spot checks and complaints it read.
	From string `json:"from"`
	To   string `json:"to"`
	// Warnings are the red and orange cluster warnings it read, from the
	// clusters job's run ClustersRun ("" when there is none).
	Warnings    int    `json:"warnings"`
	ClustersRun string `json:"clusters_run"`
	Suggestions int    `json:"suggestions"`
}

// Run plans the year after the as_of's.
func (j *PlanJob) Run(ctx context.Context, in RunInput) (Output, error) {
	asOf, err := ParseAsOf(in.Run.AsOf, time.Time{})
	if err != nil {
		return Output{}, err
	}
	year := asOf.Date.Year()
	w := warehouse.Window{From: yearStart(year), Cutoff: in.Cutoff, Watermark: in.Watermark}
	products, err := j.products(ctx, w, yearStart(year+1).AddDate(0, -j.rules.RecentFailures.Months, 0))
	if err != nil {
		return Output{}, err
	}
	suggested, err := eventsOf(ctx, j.src, warehouse.Window{Cutoff: in.Cutoff, Watermark: in.Watermark}, model.EventPlanSuggested)
	if err != nil {
		return Output{}, err
	}
	sugg, err := suggestions(suggested, year+1)
	if err != nil {
		return Output{}, err
	}
	warnings, clustersRun, err := clusterWarnings(ctx, j.src, in.Run.AsOf)
	if err != nil {
		return Output{}, err
	}
	plan, err := j.rules.MakePlan(planning.PlanInput{Year: year + 1, Products: products, Warnings: warnings, Suggestions: sugg})
	if err != nil {
		return Output{}, err
	}
	for _, l := range plan.Lines {
		if err := addOutput(in.Outputs, warehouse.OutputRow{Key: "line/" + l.Product, Label: l.Product, Value: l.Batches}, l); err != nil {
			return Output{}, err
		}
	}
	sum := PlanSummary{Year: plan.Year, RulesVersion: plan.RulesVersion, Batches: plan.Batches, Quarters: plan.Quarters,
		Products: len(plan.Lines), From: w.From.Format(time.DateOnly), To: in.Run.AsOf,
		Warnings: len(warnings), ClustersRun: clustersRun, Suggestions: len(sugg)}
	if err := addOutput(in.Outputs, warehouse.OutputRow{Key: "plan", Label: fmt.Sprint(plan.Year), Value: plan.Batches}, sum); err != nil {
		return Output{}, err
	}
	return Output{Counts: map[string]int64{"products": int64(len(plan.Lines)), "batches": plan.Batches,
		"warnings": int64(len(warnings)), "suggestions": int64(len(sugg))}}, nil
}

// products aggregates the window's spot checks per product, with the
// complaints naming it; a product's industry is the GB/T 4754 class most of
// its checked firms are in (ties: the smallest code).
func (j *PlanJob) products(ctx context.Context, w warehouse.Window, recentFrom time.Time) ([]planning.ProductStats, error) {
	states, err := firmStates(ctx, j.src, w)
	if err != nil {
		return nil, err
	}
	by := map[string]*planning.ProductStats{}
	industries := map[string]map[string]int{}
	stat := func(product string) *planning.ProductStats {
		if by[product] == nil {
			by[product] = &planning.ProductStats{Product: product}
			industries[product] = map[string]int{}
		}
		return by[product]
	}
	err = j.src.ProductChecks(ctx, warehouse.ProductCheckQuery{Window: w, RecentFrom: recentFrom}, func(c warehouse.ProductCheck) error {
		p := stat(c.Product)
		p.Checks += c.Checks
		p.Failures += c.Failures
		p.RecentFailures = append(p.RecentFailures, c.RecentFailures...)
		if f, ok := states[c.USCC]; ok && f.Industry != "" {
			industries[c.Product][f.Industry]++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	received, err := eventsOf(ctx, j.src, w, model.EventComplaintReceived)
	if err != nil {
		return nil, err
	}
	complaints, err := complaintProducts(received)
	if err != nil {
		return nil, err
	}
	for product, ids := range complaints {
		stat(product).Complaints = ids
	}
	out := make([]planning.ProductStats, 0, len(by))
	for _, name := range sortedKeys(by) {
		p := *by[name]
		p.Industry = mostCommon(industries[name])
		out = append(out, p)
	}
	return out, nil
}

// clusterWarnings are the open red and orange warnings of the clusters
// job's current run as of asOf (its model.ClusterKeyWarning outputs); none
// while that job has not run.
func clusterWarnings(ctx context.Context, src OutputReader, asOf string) ([]planning.ClusterWarning, string, error) {
	runs, err := src.Runs(ctx, warehouse.RunFilter{Job: JobClusters, Status: warehouse.RunSucceeded})
	if err != nil {
		return nil, "", err
	}
	run, ok := warehouse.CurrentRun(runs, JobClusters, asOf)
	if !ok {
		return nil, "", nil
	}
	var out []planning.ClusterWarning
	err = src.ReadOutputs(ctx, warehouse.OutputQuery{Job: run.Job, Version: run.Version, Payload: true}, func(o warehouse.OutputRow) error {
		var w model.Warning
		if !strings.HasPrefix(o.Key, model.ClusterKeyWarning) || json.Unmarshal(o.Payload, &w) != nil ||
			w.Status != model.WarningStatusOpen || w.Division == "" {
			return nil
		}
		switch w.Level {
		case model.LevelRed:
			out = append(out, planning.ClusterWarning{Cluster: w.Cluster, Level: planning.WarningLevelRed, Division: w.Division})
		case model.LevelOrange:
			out = append(out, planning.ClusterWarning{Cluster: w.Cluster, Level: planning.WarningLevelOrange, Division: w.Division})
		}
		return nil
	})
	return out, run.ID, err
}

// addOutput adds row with v as JSON for its payload.
func addOutput(w *OutputWriter, row warehouse.OutputRow, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("output %s: %w", row.Key, err)
	}
	row.Payload = b
	return w.Add(row)
}
