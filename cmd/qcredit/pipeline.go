package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

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

A run reads the events that occurred up to the end of its as_of day and is
reproducible: running it again gives the same outputs and digest.`,
	}
	cmd.AddCommand(newPipelineRunCmd(a), newPipelineListCmd(a))
	return cmd
}

func newPipelineRunCmd(a *app) *cobra.Command {
	var asOf string
	cmd := &cobra.Command{
		Use:   "run JOB",
		Short: "Run one job now and print its run record as JSON",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withRunner(cmd.Context(), func(r *pipelines.Runner) error {
				run, err := r.Run(cmd.Context(), pipelines.RunRequest{Job: args[0], AsOf: asOf})
				if run.ID != "" {
					if perr := printJSON(cmd, run); perr != nil {
						return perr
					}
				}
				return err
			})
		},
	}
	cmd.Flags().StringVar(&asOf, "as-of", "", "as_of day YYYY-MM-DD (default: today, Asia/Shanghai)")
	return cmd
}

func newPipelineListCmd(a *app) *cobra.Command {
	var asJSON bool
	var limit int
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the jobs with their schedules, and the latest runs",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withRunner(cmd.Context(), func(r *pipelines.Runner) error {
				return printJobs(cmd, r, limit, asJSON)
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().IntVar(&limit, "limit", 20, "runs to show")
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
	if runs == nil {
		runs = []warehouse.Run{}
	}
	if asJSON {
		return printJSON(cmd, map[string]any{"jobs": jobs, "runs": runs})
	}
	w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "JOB\tSCHEDULE (Asia/Shanghai)\tMODEL VERSION")
	for _, j := range jobs {
		fmt.Fprintf(w, "%s\t%s\t%s\n", j.Name, j.Schedule, j.ModelVersion)
	}
	fmt.Fprintln(w, "\nRUN\tAS OF\tSTATUS\tSTARTED\tSECONDS\tMODEL\tDIGEST")
	for _, run := range runs {
		secs := "-"
		if run.FinishedAt != nil {
			secs = fmt.Sprintf("%.1f", run.FinishedAt.Sub(run.StartedAt).Seconds())
		}
		digest := run.Digest
		if len(digest) > 12 {
			digest = digest[:12]
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", run.ID, run.AsOf, run.Status,
			run.StartedAt.In(pipelines.Shanghai).Format(time.DateTime), secs, run.ModelVersion, digest)
	}
	return w.Flush()
}

// withRunner opens the warehouse (which must exist: a run of no events is
// no run) and runs fn with a runner of every job.
func (a *app) withRunner(ctx context.Context, fn func(*pipelines.Runner) error) error {
	s, err := a.openExistingStore(ctx)
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
// from scoring.file (env QCREDIT_SCORING_FILE) or the embedded default.
func (a *app) newRunner(s warehouse.Store, reg prometheus.Registerer) (*pipelines.Runner, error) {
	sc, err := scoring.Load(a.cfg.Scoring.File)
	if err != nil {
		return nil, err
	}
	score, err := pipelines.NewScoreJob(s, sc, a.log)
	if err != nil {
		return nil, err
	}
	return pipelines.NewRunner(s, a.log, pipelines.RunnerOptions{Jobs: []pipelines.Job{score}, Registerer: reg})
}

// startPipelines starts the scheduler for serve and returns its stop. A
// warehouse without pipeline support serves without them, with a warning.
func (a *app) startPipelines(ctx context.Context, s warehouse.Store, reg prometheus.Registerer) (stop func(), err error) {
	if _, ok := s.(warehouse.PipelineStore); !ok {
		a.log.Warn("this warehouse does not support pipelines yet; scores will not be computed")
		return func() {}, nil
	}
	r, err := a.newRunner(s, reg)
	if err != nil {
		return nil, err
	}
	sched, err := pipelines.NewScheduler(r, a.log, pipelines.SchedulerOptions{})
	if err != nil {
		return nil, err
	}
	sched.Start(ctx)
	return sched.Stop, nil
}

// runPipelineOnce runs a job now (qcredit dev scores right after its import).
func (a *app) runPipelineOnce(ctx context.Context, s warehouse.Store, reg prometheus.Registerer, job string) error {
	if _, ok := s.(warehouse.PipelineStore); !ok {
		return nil
	}
	r, err := a.newRunner(s, reg)
	if err != nil {
		return err
	}
	_, err = r.Run(ctx, pipelines.RunRequest{Job: job})
	return err
}
