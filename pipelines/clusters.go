package pipelines

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/qcredit/qcredit/clusters"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// JobClusters is the name of the clusters job.
const JobClusters = "clusters"

// ClusterSource is what the clusters job reads: the window's enterprises
// and records, analysts' decisions on warnings, and the outputs of earlier
// runs (the previous warnings, the current score's grades).
type ClusterSource interface {
	ClusterEnterprises(ctx context.Context, q warehouse.ClusterQuery, fn func(warehouse.ClusterEnterprise) error) error
	ClusterRecords(ctx context.Context, q warehouse.ClusterQuery, fn func(warehouse.ClusterRecord) error) error
	PlanningEvents(ctx context.Context, q warehouse.EventQuery, fn func(warehouse.EventRow) error) error
	Runs(ctx context.Context, f warehouse.RunFilter) ([]warehouse.Run, error)
	ReadOutputs(ctx context.Context, q warehouse.OutputQuery, fn func(warehouse.OutputRow) error) error
}

// ClustersJob assesses every industrial cluster of the city by the cluster
// method (clusters.Config, DOMAIN.md), carries the warnings of the previous
// run forward with the analysts' decisions, and writes a warning letter for
// each warning it raises or escalates. Its outputs are keyed as
// model.ClusterKey* say (assessments, funnel plots, warnings, letters, the
// run). Default schedule: after score, in the same slot, so the C/D shares
// use the day's grades.
type ClustersJob struct {
	src ClusterSource
	cfg *clusters.Config
	log *slog.Logger
	// Calendar counts the letters' reply deadlines; nil is model.DefaultCalendar().
	Calendar *model.Calendar
}

// NewClustersJob builds the clusters job.
func NewClustersJob(src ClusterSource, cfg *clusters.Config, log *slog.Logger) *ClustersJob {
	return &ClustersJob{src: src, cfg: cfg, log: log}
}

func (j *ClustersJob) Name() string         { return JobClusters }
func (j *ClustersJob) Schedule() string     { return "after " + JobScore }
func (j *ClustersJob) ModelVersion() string { return j.cfg.Version }

// Run reads the window, assesses, tracks and writes the outputs in key order.
func (j *ClustersJob) Run(ctx context.Context, in RunInput) (Output, error) {
	started := time.Now()
	w, err := j.cfg.WindowOf(in.Run.AsOf)
	if err != nil {
		return Output{}, err
	}
	q := warehouse.ClusterQuery{Start: w.Start, Cutoff: in.Cutoff, Watermark: in.Watermark, AsOf: in.Run.AsOf}
	runs, err := j.src.Runs(ctx, warehouse.RunFilter{Status: warehouse.RunSucceeded})
	if err != nil {
		return Output{}, err
	}
	input, err := j.read(ctx, q, runs)
	if err != nil {
		return Output{}, err
	}
	in.Log.Info("cluster input read", "enterprises", len(input.Enterprises), "checks", len(input.Checks),
		"elapsed", time.Since(started).Round(time.Millisecond))
	res, err := j.cfg.Compute(input)
	if err != nil {
		return Output{}, err
	}
	prev, previous, err := j.previousWarnings(ctx, runs, in.Run.AsOf)
	if err != nil {
		return Output{}, err
	}
	events, err := j.analystEvents(ctx, in)
	if err != nil {
		return Output{}, err
	}
	tr, err := j.cfg.Track(clusters.TrackInput{Result: res, Previous: previous, Events: events})
	if err != nil {
		return Output{}, err
	}
	rows, counts, err := j.outputs(res, tr, prev)
	if err != nil {
		return Output{}, err
	}
	for _, r := range rows {
		if err := in.Outputs.Add(r); err != nil {
			return Output{}, err
		}
	}
	counts["enterprises"], counts["checks"] = int64(len(input.Enterprises)), int64(len(input.Checks))
	in.Log.Info("clusters assessed", "counts", counts, "elapsed", time.Since(started).Round(time.Millisecond))
	return Output{Counts: counts}, nil
}

// read fills the cluster input: the enterprises at the cutoff with their
// current county and latest grade, and the window's records.
func (j *ClustersJob) read(ctx context.Context, q warehouse.ClusterQuery, runs []warehouse.Run) (*clusters.Input, error) {
	in := &clusters.Input{AsOf: q.AsOf}
	names := interner{}
	err := j.src.ClusterEnterprises(ctx, q, func(e warehouse.ClusterEnterprise) error {
		county := names.get(model.CurrentRegion(e.Region))
		division := names.get(model.Division(e.Industry))
		cluster := e.Cluster
		if cluster == "" {
			cluster = county + "-" + division
		}
		in.Enterprises = append(in.Enterprises, clusters.Enterprise{USCC: e.USCC, Name: e.Name,
			Cluster: names.get(cluster), County: county, Division: division})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := j.grades(ctx, runs, q.AsOf, in.Enterprises); err != nil {
		return nil, err
	}
	err = j.src.ClusterRecords(ctx, q, func(r warehouse.ClusterRecord) error {
		at := r.OccurredAt.In(model.Shanghai) // one zone, whatever the backend returned
		switch r.Kind {
		case warehouse.ClusterRecordKindCheck:
			in.Checks = append(in.Checks, clusters.Check{EventID: r.EventID, USCC: r.USCC, OccurredAt: at, Failed: r.Failed,
				Product: names.get(r.Product)})
		case warehouse.ClusterRecordKindPenalty:
			in.Penalties = append(in.Penalties, clusters.Record{EventID: r.EventID, USCC: r.USCC, OccurredAt: at})
		case warehouse.ClusterRecordKindComplaint:
			in.Complaints = append(in.Complaints, clusters.Record{EventID: r.EventID, USCC: r.USCC, OccurredAt: at})
		case warehouse.ClusterRecordKindHazard:
			in.OverdueHazards = append(in.OverdueHazards, clusters.Record{EventID: r.EventID, USCC: r.USCC, OccurredAt: at})
		case warehouse.ClusterRecordKindAccident:
			in.Accidents = append(in.Accidents, clusters.Accident{EventID: r.EventID, USCC: r.USCC, OccurredAt: at,
				Grade: model.AccidentGrade(r.Grade)})
		default:
			return fmt.Errorf("cluster record %s: unknown kind %q", r.EventID, r.Kind)
		}
		return nil
	})
	return in, err
}

// grades sets each enterprise's grade from the current score run as of the
// as_of (the latest score run not after it), whose outputs come in USCC
// order like the enterprises.
func (j *ClustersJob) grades(ctx context.Context, runs []warehouse.Run, asOf string, es []clusters.Enterprise) error {
	score, ok := warehouse.CurrentRun(runs, JobScore, asOf)
	if !ok {
		j.log.Warn("no score run as of the clusters run: C/D shares are empty", "as_of", asOf)
		return nil
	}
	if !slices.IsSortedFunc(es, func(a, b clusters.Enterprise) int { return strings.Compare(string(a.USCC), string(b.USCC)) }) {
		slices.SortFunc(es, func(a, b clusters.Enterprise) int { return strings.Compare(string(a.USCC), string(b.USCC)) })
	}
	i := 0
	return j.src.ReadOutputs(ctx, warehouse.OutputQuery{Job: score.Job, Version: score.Version}, func(o warehouse.OutputRow) error {
		for i < len(es) && string(es[i].USCC) < o.Key {
			i++
		}
		if i < len(es) && string(es[i].USCC) == o.Key {
			es[i].Grade = model.Grade(o.Label)
		}
		return nil
	})
}

// previousWarnings are the warnings of the current clusters run before this
// run's as_of (its as_of is the latest before this one), with that run.
func (j *ClustersJob) previousWarnings(ctx context.Context, runs []warehouse.Run, asOf string) (warehouse.Run, []model.Warning, error) {
	day, err := clusters.ParseAsOf(asOf)
	if err != nil {
		return warehouse.Run{}, nil, err
	}
	prev, ok := warehouse.CurrentRun(runs, JobClusters, day.AddDate(0, 0, -1).Format(time.DateOnly))
	if !ok {
		return warehouse.Run{}, nil, nil
	}
	var out []model.Warning
	err = j.src.ReadOutputs(ctx, warehouse.OutputQuery{Job: prev.Job, Version: prev.Version, Payload: true}, func(o warehouse.OutputRow) error {
		if !strings.HasPrefix(o.Key, model.ClusterKeyWarning) {
			return nil
		}
		var w model.Warning
		if err := json.Unmarshal(o.Payload, &w); err != nil {
			return fmt.Errorf("warning %s of %s: %w", o.Key, prev.ID, err)
		}
		out = append(out, w)
		return nil
	})
	return prev, out, err
}

// analystEvents are the analysts' acknowledgements and actions read under
// the run's cutoff and watermark. One that cannot be read (a field of the
// wrong shape got past the contract) is left out with a warning.
func (j *ClustersJob) analystEvents(ctx context.Context, in RunInput) ([]clusters.AnalystEvent, error) {
	var out []clusters.AnalystEvent
	q := warehouse.EventQuery{Types: []model.EventType{model.EventWarningAcknowledged, model.EventWarningActionRecorded},
		Window: warehouse.Window{Cutoff: in.Cutoff, Watermark: in.Watermark}}
	// PlanningEvents reads any low-volume event types under a run's window.
	err := j.src.PlanningEvents(ctx, q, func(e warehouse.EventRow) error {
		fields, err := model.ParseData(e.Data)
		if err != nil {
			in.Log.Warn("analyst event left out: unreadable data", "event", e.ID, "err", err)
			return nil
		}
		a := clusters.AnalystEvent{EventID: e.ID, Type: e.Type, OccurredAt: e.OccurredAt.In(model.Shanghai)}
		for _, f := range fields {
			switch f.Name {
			case "warning_id":
				a.WarningID = f.Text
			case "analyst":
				a.Analyst = f.Text
			case "action":
				a.Action = f.Text
			case "note":
				a.Note = f.Text
			}
		}
		out = append(out, a)
		return nil
	})
	return out, err
}

// outputs are the run's output rows in key order, and its counts.
func (j *ClustersJob) outputs(res *clusters.Result, tr clusters.Tracked, prev warehouse.Run) ([]warehouse.OutputRow, map[string]int64, error) {
	counts := map[string]int64{"clusters": int64(len(res.Clusters)), "letters": 0, "warnings_open": 0, "warnings_closed": 0,
		"ignored_events": int64(len(tr.Ignored)), "unmatched_records": res.Unmatched}
	for _, l := range model.Levels {
		counts["level_"+string(l)] = 0
	}
	for _, c := range []model.ChangeKind{model.ChangeKindRaised, model.ChangeKindEscalated, model.ChangeKindDeescalated,
		model.ChangeKindClosed, model.ChangeKindAcknowledged, model.ChangeKindActionRecorded} {
		counts[string(c)] = 0
	}
	var rows []warehouse.OutputRow
	add := func(key, label string, value int64, v any) error {
		p, err := clusters.CanonicalJSON(v)
		if err != nil {
			return fmt.Errorf("output %s: %w", key, err)
		}
		rows = append(rows, warehouse.OutputRow{Key: key, Label: label, Value: value, Payload: p})
		return nil
	}
	divisions := map[string]bool{}
	for _, a := range res.Clusters {
		counts[string(a.Status)]++
		if a.Level != model.LevelNone {
			counts["level_"+string(a.Level)]++
		}
		divisions[a.Division] = true
		if err := add(model.ClusterKeyAssessment+a.Cluster, string(a.Level), milli(a), a); err != nil {
			return nil, nil, err
		}
	}
	for _, d := range sortedKeys(divisions) {
		f, err := j.cfg.Funnel(res, d)
		if err != nil {
			return nil, nil, err
		}
		if err := add(model.ClusterKeyFunnel+d, d, int64(len(f.Points)), f); err != nil {
			return nil, nil, err
		}
	}
	for _, w := range tr.Warnings {
		open := int64(0)
		if w.Status == model.WarningStatusOpen {
			open = 1
			counts["warnings_open"]++
		} else {
			counts["warnings_closed"]++
		}
		for _, h := range w.History {
			if h.AsOf == res.AsOf {
				counts[string(h.Change)]++
			}
		}
		if err := add(model.ClusterKeyWarning+w.ID, string(w.Level), open, w); err != nil {
			return nil, nil, err
		}
		if w.Status != model.WarningStatusOpen || w.LetterOn != res.AsOf {
			continue
		}
		letter, err := j.cfg.RenderLetter(clusters.LetterInput{Warning: w, Result: res, Calendar: j.Calendar})
		if err != nil {
			return nil, nil, err
		}
		rows = append(rows, warehouse.OutputRow{Key: model.ClusterKeyLetter + w.ID, Label: string(w.Level), Payload: letter})
		counts["letters"]++
	}
	run := model.ClusterRun{AsOf: res.AsOf, Method: res.Version, Start: res.Window.Start, Recent: res.Window.Recent,
		Cutoff: res.Window.Cutoff, Phi: res.Phi, PhiClusters: res.PhiClusters, Unmatched: res.Unmatched,
		PreviousAsOf: prev.AsOf, Ignored: tr.Ignored}
	if err := add(model.ClusterKeyRun, "", counts[string(model.AssessmentStatusAssessed)], run); err != nil {
		return nil, nil, err
	}
	slices.SortFunc(rows, func(a, b warehouse.OutputRow) int { return cmp.Compare(a.Key, b.Key) })
	return rows, counts, nil
}

// milli is an assessment's headline value: z' × 1000, rounded; 0 when the
// cluster was not assessed.
func milli(a model.ClusterAssessment) int64 {
	if a.Status != model.AssessmentStatusAssessed {
		return 0
	}
	return int64(math.Round(a.Evidence.ZAdjusted * 1000))
}

// interner keeps one copy of each county, division, cluster and product:
// a city has a few hundred of them over a million enterprises.
type interner map[string]string

func (n interner) get(s string) string {
	if v, ok := n[s]; ok {
		return v
	}
	n[s] = s
	return s
}
