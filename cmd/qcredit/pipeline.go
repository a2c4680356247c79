package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/qcredit/qcredit/clusters"
	"github.com/qcredit/qcredit/lists"
	"github.com/qcredit/qcredit/pipelines"
	"github.com/qcredit/qcredit/scoring"
	"github.com/qcredit/qcredit/warehouse"
)

func newPipelineCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pipeline",
		Short: "Run pipeline jobs by hand and list jobs and their runs",
		Long: `Jobs and their default schedules (Asia/Shanghai, run inside qcredit serve):
  score    daily at 02:00, as of the previous day: quality-credit scores and grades
  stats    after score: per county bureau and month, events reported, spot checks
           and failures, reporting delay, dead letters; open and overdue complaints
  plan     1 December at 03:00, as of 30 November: next year's spot-check plan
  recheck  2 January at 04:00, as of 1 January: last year's licensed firms to re-check
  kpi      the 1st at 05:00, as of the month that ended: county KPIs, overdue
           complaints, special-equipment self-correction
  clusters after score, in the same slot: industrial-cluster risk warnings and letters
  lists    after score, in the same slot: the dishonest and focus lists, and a new
           version of each list whose entries changed
  lottery  off: run by qcredit lottery create and draw (publishes the draws)

A run reads the events that occurred up to the end of its as_of day and were
ingested up to its watermark (recorded on the run). Re-running it --like the
run (same as_of and watermark) reproduces its outputs and digest, even after
late reports arrived; a plain re-run reads them and says how many.`,
	}
	cmd.AddCommand(newPipelineRunCmd(a), newPipelineListCmd(a))
	return cmd
}

// pipelineRunArgs is the request of `pipeline run`.
type pipelineRunArgs struct {
	Job       string    `json:"job"`
	AsOf      string    `json:"as_of,omitempty"`
	Like      string    `json:"like,omitempty"`
	Watermark time.Time `json:"watermark,omitzero"`
}

func newPipelineRunCmd(a *app) *cobra.Command {
	var asOf, like, watermark string
	cmd := &cobra.Command{
		Use:   "run JOB",
		Short: "Run one job now and print its run record as JSON",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			q := pipelineRunArgs{Job: args[0], AsOf: asOf, Like: like}
			if watermark != "" {
				t, err := time.Parse(time.RFC3339Nano, watermark)
				if err != nil {
					return fmt.Errorf("--watermark %q: want an RFC 3339 time such as 2026-12-01T02:00:00.123456+08:00", watermark)
				}
				q.Watermark = t
			}
			var out bytes.Buffer
			err := a.runOp(cmd, warehouse.OpenModeExisting, "pipeline.run", q, nil, &out)
			cmd.OutOrStdout().Write(out.Bytes())
			var run warehouse.Run
			if json.Unmarshal(out.Bytes(), &run) == nil && err == nil {
				if late, ok := run.Counts["late_events"]; ok {
					fmt.Fprintf(cmd.ErrOrStderr(), "%s read %d late events (occurred by %s, ingested after the previous run of that as_of)\n",
						run.ID, late, run.AsOf)
				}
			}
			return err
		},
	}
	cmd.Flags().StringVar(&asOf, "as-of", "", "as_of day YYYY-MM-DD (default: today, Asia/Shanghai; with --like, that run's)")
	cmd.Flags().StringVar(&like, "like", "", "re-run with the watermark of this run (e.g. score-12): reproduces its digest")
	cmd.Flags().StringVar(&watermark, "watermark", "", "read events ingested up to this RFC 3339 time (default: everything stored; "+
		"for lists, score's current run's watermark)")
	cmd.MarkFlagsMutuallyExclusive("like", "watermark")
	return cmd
}

// opPipelineRun runs a job and prints its record (also a failed one).
func (a *app) opPipelineRun(ctx context.Context, e *opEnv, raw json.RawMessage) error {
	var q pipelineRunArgs
	if err := json.Unmarshal(raw, &q); err != nil {
		return err
	}
	run, err := e.runner.Run(ctx, pipelines.RunRequest{Job: q.Job, AsOf: q.AsOf, Like: q.Like, Watermark: q.Watermark})
	if run.ID != "" {
		if perr := writeJSON(e.out, runView(run)); perr != nil {
			return perr
		}
	}
	return err
}

// runView is a run record with its times in +08:00, as printed.
func runView(r warehouse.Run) warehouse.Run {
	r.Watermark, r.StartedAt = r.Watermark.In(pipelines.Shanghai), r.StartedAt.In(pipelines.Shanghai)
	if r.FinishedAt != nil {
		f := r.FinishedAt.In(pipelines.Shanghai)
		r.FinishedAt = &f
	}
	return r
}

// pipelineListArgs is the request of `pipeline list`.
type pipelineListArgs struct {
	Limit int  `json:"limit"`
	JSON  bool `json:"json"`
}

func newPipelineListCmd(a *app) *cobra.Command {
	var q pipelineListArgs
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the jobs with their schedules, and the latest runs",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if q.Limit < 1 {
				return fmt.Errorf("--limit must be at least 1, got %d", q.Limit)
			}
			return a.runOp(cmd, warehouse.OpenModeExisting, "pipeline.list", q, nil, cmd.OutOrStdout())
		},
	}
	cmd.Flags().BoolVar(&q.JSON, "json", false, "print JSON")
	cmd.Flags().IntVar(&q.Limit, "limit", 20, "runs to show (1 or more)")
	return cmd
}

// opPipelineList prints the jobs with their schedules and the latest runs.
func (a *app) opPipelineList(ctx context.Context, e *opEnv, raw json.RawMessage) error {
	var q pipelineListArgs
	if err := json.Unmarshal(raw, &q); err != nil {
		return err
	}
	r := e.runner
	runs, err := r.Runs(ctx, warehouse.RunFilter{Limit: q.Limit})
	if err != nil {
		return err
	}
	type jobInfo struct {
		Name         string `json:"name"`
		Schedule     string `json:"schedule"`
		ModelVersion string `json:"model_version"`
	}
	var jobs []jobInfo
	for _, j := range r.Jobs() {
		jobs = append(jobs, jobInfo{j.Name(), j.Schedule(), j.ModelVersion()})
	}
	for i := range runs {
		runs[i] = runView(runs[i])
	}
	if q.JSON {
		return writeJSON(e.out, map[string]any{"jobs": jobs, "runs": runs})
	}
	w := tabwriter.NewWriter(e.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "JOB\tSCHEDULE (Asia/Shanghai)\tMODEL VERSION")
	for _, j := range jobs {
		fmt.Fprintf(w, "%s\t%s\t%s\n", j.Name, j.Schedule, j.ModelVersion)
	}
	fmt.Fprintln(w, "\nRUN\tAS OF\tSTATUS\tSTARTED\tSECONDS\tWATERMARK\tMODEL\tDIGEST")
	for _, run := range runs {
		secs := "-"
		if run.FinishedAt != nil {
			secs = fmt.Sprintf("%.1f", run.FinishedAt.Sub(run.StartedAt).Seconds())
		}
		digest := run.Digest
		if len(digest) > 12 {
			digest = digest[:12]
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", run.ID, run.AsOf, run.Status,
			run.StartedAt.Format(time.DateTime), secs, run.Watermark.Format("2006-01-02 15:04:05.000000"), run.ModelVersion, digest)
	}
	return w.Flush()
}

// newRunner builds the pipeline runner with every job, the scorecard read
// from scoring.file (env QCREDIT_SCORING_FILE), the listing rules from
// lists.file (QCREDIT_LISTS_FILE) and the cluster method from
// clusters.file (QCREDIT_CLUSTERS_FILE), or the embedded defaults.
func (a *app) newRunner(s backend, reg prometheus.Registerer) (*pipelines.Runner, error) {
	sc, err := scoring.Load(a.cfg.Scoring.File)
	if err != nil {
		return nil, err
	}
	rules, err := a.listingRules()
	if err != nil {
		return nil, err
	}
	method, err := loadClusterMethod(a.cfg.Clusters.File)
	if err != nil {
		return nil, err
	}
	score, err := pipelines.NewScoreJob(pipelines.ScoreJobInput{Features: s, Listing: s, Scorecard: sc, Rules: rules, Log: a.log})
	if err != nil {
		return nil, err
	}
	stats := pipelines.NewStatsJob(s)
	planning, err := a.planningJobs(s)
	if err != nil {
		return nil, err
	}
	cl := pipelines.NewClustersJob(s, method, a.log)
	jobs := append([]pipelines.Job{score, stats, cl, pipelines.NewListsJob(s, rules, a.log)}, planning...)
	return pipelines.NewRunner(s, a.log, pipelines.RunnerOptions{Jobs: jobs, Registerer: reg})
}

// listingRules are the rules of lists.file, or the embedded default.
func (a *app) listingRules() (*lists.Rules, error) {
	if a.cfg.Lists.File == "" {
		return lists.Default()
	}
	b, err := os.ReadFile(a.cfg.Lists.File)
	if err != nil {
		return nil, fmt.Errorf("read listing rules (lists.file): %w", err)
	}
	rules, err := lists.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("listing rules %s: %w", a.cfg.Lists.File, err)
	}
	return rules, nil
}

// loadClusterMethod reads the cluster method file, or the embedded default.
func loadClusterMethod(path string) (*clusters.Config, error) {
	if path == "" {
		return clusters.Default()
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("clusters.file: %w", err)
	}
	cfg, err := clusters.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("clusters.file %s: %w", path, err)
	}
	return cfg, nil
}

// startPipelines starts the scheduler of r for serve and returns its stop.
// tasks are housekeeping beside the daily optimize.
func (a *app) startPipelines(ctx context.Context, s backend, r *pipelines.Runner, tasks ...pipelines.Task) (stop func(), err error) {
	sched, err := pipelines.NewScheduler(r, a.log, pipelines.SchedulerOptions{
		Schedules: a.cfg.Scheduler.Schedules,
		Disabled:  !a.cfg.Scheduler.Enabled,
		Tasks:     append([]pipelines.Task{{Name: "optimize", Schedule: "30 3 * * *", Run: s.Optimize}}, tasks...),
	})
	if err != nil {
		return nil, err
	}
	sched.Start(ctx)
	return sched.Stop, nil
}
