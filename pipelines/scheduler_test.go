package pipelines_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/qcredit/qcredit/pipelines"
	"github.com/qcredit/qcredit/warehouse"
	"github.com/qcredit/qcredit/warehouse/duckdb/duckdbtest"
)

// signalJob reports each run's as_of.
type signalJob struct{ ran chan string }

func (j signalJob) Name() string         { return "signal" }
func (j signalJob) Schedule() string     { return "0 2 * * *" }
func (j signalJob) ModelVersion() string { return "v1" }
func (j signalJob) Run(ctx context.Context, in pipelines.RunInput) (pipelines.Output, error) {
	j.ran <- in.AsOf
	return pipelines.Output{}, nil
}

func TestSchedulerRunsAtStartAndRejectsBadSchedules(t *testing.T) {
	s := duckdbtest.Open(t)
	job := signalJob{ran: make(chan string, 1)}
	r, err := pipelines.NewRunner(s, quiet, pipelines.RunnerOptions{Jobs: []pipelines.Job{job}})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("run at start", func(t *testing.T) {
		// Given a job to run at start, when the scheduler starts, then the
		// job runs once, as of today, and its run is recorded.
		sched, err := pipelines.NewScheduler(r, quiet, pipelines.SchedulerOptions{RunAtStart: []string{"signal"}})
		if err != nil {
			t.Fatal(err)
		}
		sched.Start(t.Context())
		asOf := <-job.ran
		sched.Stop()
		runs, err := r.Runs(t.Context(), warehouse.RunFilter{Job: "signal"})
		if err != nil || len(runs) != 1 || runs[0].AsOf != asOf || runs[0].Status != warehouse.RunSucceeded {
			t.Errorf("runs %+v, %v (as_of %s)", runs, err, asOf)
		}
	})
	tests := []struct {
		name      string
		schedules map[string]string
		want      string
	}{
		{"bad spec", map[string]string{"signal": "every now and then"}, "schedule"},
		{"unknown job", map[string]string{"nope": "0 3 * * *"}, "unknown job"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := pipelines.NewScheduler(r, quiet, pipelines.SchedulerOptions{Schedules: tt.schedules})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error about %q", err, tt.want)
			}
			if tt.name == "unknown job" && !errors.Is(err, pipelines.ErrUnknownJob) {
				t.Errorf("want ErrUnknownJob, got %v", err)
			}
		})
	}
}
