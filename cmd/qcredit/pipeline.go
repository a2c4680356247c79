package main

import (
	"context"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

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
  score   daily at 02:00, as of the previous day: quality-credit scores and grades
  lists   after score in the same slot: the dishonest and focus lists, and a new
          version of each list whose entries changed

A run reads the events that occurred up to the end of its as_of day and were
ingested up to its watermark (recorded on the run). Re-running it --like the
run (same as_of and watermark) reproduces its outputs and digest, even after
late reports arrived; a plain re-run reads them and says how many.`,
	}
	cmd.AddCommand(newPipelineRunCmd(a), newPipelineListCmd(a))
	return cmd
}

func newPipelineRunCmd(a *app) *cobra.Command {
	var asOf, like, watermark string
	cmd := &cobra.Command{
		Use:   "run JOB",
		Short: "Run one job now and print its run record as JSON",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			q := pipelines.RunRequest{Job: args[0], AsOf: asOf, Like: like}
			if watermark != "" {
				t, err := time.Parse(time.RFC3339Nano, watermark)
				if err != nil {
					return fmt.Errorf("--watermark %q: want an RFC 3339 time such as 2026-12-01T02:00:00.123456+08:00", watermark)
				}
				q.Watermark = t
			}
			return a.withRunner(cmd.Context(), func(r *pipelines.Runner) error {
				run, err := r.Run(cmd.Context(), q)
				if run.ID != "" {
					if perr := printJSON(cmd, runView(run)); perr != nil {
						return perr
					}
					if late, ok := run.Counts["late_events"]; ok && err == nil {
						fmt.Fprintf(cmd.ErrOrStderr(), "%s read %d late events (occurred by %s, ingested after the previous run of that as_of)\n",
							run.ID, late, run.AsOf)
					}
				}
				return err
			})
		},
	}
	cmd.Flags().StringVar(&asOf, "as-of", "", "as_of day YYYY-MM-DD (default: today, Asia/Shanghai; with --like, that run's)")
	cmd.Flags().StringVar(&like, "like", "", "re-run with the watermark of this run (e.g. score-12): reproduces its digest")
	cmd.Flags().StringVar(&watermark, "watermark", "", "read events ingested up to this RFC 3339 time")
	cmd.MarkFlagsMutuallyExclusive("like", "watermark")
	return cmd
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

func newPipelineListCmd(a *app) *cobra.Command {
	var asJSON bool
	var limit int
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the jobs with their schedules, and the latest runs",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 1 {
				return fmt.Errorf("--limit must be at least 1, got %d", limit)
			}
			return a.withRunner(cmd.Context(), func(r *pipelines.Runner) error {
				return printJobs(cmd, r, limit, asJSON)
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().IntVar(&limit, "limit", 20, "runs to show (1 or more)")
	return cmd
}

// printJobs prints the jobs with their schedules and the latest runs.
func printJobs(cmd *cobra.Command, r *pipelines.Runner, limit int, asJSON bool) error {
	runs, err := r.Runs(cmd.Context(), warehouse.RunFilter{Limit: limit})
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
	if asJSON {
		return printJSON(cmd, map[string]any{"jobs": jobs, "runs": runs})
	}
	w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
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

// withRunner opens the warehouse and runs fn with a runner of every job.
func (a *app) withRunner(ctx context.Context, fn func(*pipelines.Runner) error) error {
	s, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	r, err := a.newRunner(s, nil)
	if err != nil {
		return err
	}
	return fn(r)
}

// newRunner builds the pipeline runner with every job, the scorecard read
// from scoring.file (env QCREDIT_SCORING_FILE) and the listing rules from
// lists.file (QCREDIT_LISTS_FILE), or the embedded defaults.
func (a *app) newRunner(s backend, reg prometheus.Registerer) (*pipelines.Runner, error) {
	sc, err := scoring.Load(a.cfg.Scoring.File)
	if err != nil {
		return nil, err
	}
	rules, err := a.listingRules()
	if err != nil {
		return nil, err
	}
	score, err := pipelines.NewScoreJob(pipelines.ScoreJobInput{Features: s, Listing: s, Scorecard: sc, Rules: rules, Log: a.log})
	if err != nil {
		return nil, err
	}
	jobs := []pipelines.Job{score, pipelines.NewListsJob(s, rules, a.log)}
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

// startPipelines starts the scheduler for serve and returns its stop.
// runAtStart names jobs to run once at start (dev scores right after its
// import).
func (a *app) startPipelines(ctx context.Context, s backend, reg prometheus.Registerer, runAtStart ...string) (stop func(), err error) {
	r, err := a.newRunner(s, reg)
	if err != nil {
		return nil, err
	}
	sched, err := pipelines.NewScheduler(r, a.log, pipelines.SchedulerOptions{
		Schedules:  a.cfg.Scheduler.Schedules,
		Disabled:   !a.cfg.Scheduler.Enabled,
		RunAtStart: runAtStart,
		Tasks:      []pipelines.Task{{Name: "optimize", Schedule: "30 3 * * *", Run: s.Optimize}},
	})
	if err != nil {
		return nil, err
	}
	sched.Start(ctx)
	return sched.Stop, nil
}

// runPipelineOnce runs a job now (qcredit dev scores right after its import).
func (a *app) runPipelineOnce(ctx context.Context, s backend, reg prometheus.Registerer, job string) error {
	r, err := a.newRunner(s, reg)
	if err != nil {
		return err
	}
	_, err = r.Run(ctx, pipelines.RunRequest{Job: job})
	return err
}
