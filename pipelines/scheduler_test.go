package pipelines_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/qcredit/qcredit/pipelines"
	"github.com/qcredit/qcredit/warehouse"
	"github.com/qcredit/qcredit/warehouse/duckdb/duckdbtest"
)

// signalJob reports each run's as_of.
type signalJob struct {
	name, schedule string
	ran            chan string
}

func (j signalJob) Name() string         { return j.name }
func (j signalJob) Schedule() string     { return j.schedule }
func (j signalJob) ModelVersion() string { return "v1" }
func (j signalJob) Run(ctx context.Context, in pipelines.RunInput) (pipelines.Output, error) {
	j.ran <- in.Run.AsOf
	return pipelines.Output{}, nil
}

func newSignal(name, schedule string) signalJob {
	return signalJob{name: name, schedule: schedule, ran: make(chan string, 10)}
}

func TestScheduledSlots(t *testing.T) {
	s := duckdbtest.Open(t)
	score, lists := newSignal("signal", "0 2 * * *"), newSignal("follower", "after signal")
	runner := func(holder string) *pipelines.Runner {
		r, err := pipelines.NewRunner(s, quiet, pipelines.RunnerOptions{Jobs: []pipelines.Job{score, lists}, Holder: holder})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	replica1, replica2 := runner("replica-1"), runner("replica-2")
	sched := func(r *pipelines.Runner) *pipelines.Scheduler {
		sc, err := pipelines.NewScheduler(r, quiet, pipelines.SchedulerOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return sc
	}
	s1, s2 := sched(replica1), sched(replica2)

	t.Run("a slot runs once, as of the previous day, then its followers", func(t *testing.T) {
		// Given two replicas' schedulers on one warehouse, when both fire the
		// 02:00 slot of 2026-03-10, then one runs it, as of 2026-03-09, and
		// the job scheduled after it runs in the same slot, as of the same day.
		slot := time.Date(2026, 3, 10, 2, 0, 0, 0, pipelines.Shanghai)
		ran1 := s1.RunSlot(t.Context(), "signal", slot)
		ran2 := s2.RunSlot(t.Context(), "signal", slot)
		if ran1 == ran2 {
			t.Fatalf("replica 1 ran it: %v, replica 2 ran it: %v; want exactly one", ran1, ran2)
		}
		if got := <-score.ran; got != "2026-03-09" {
			t.Errorf("as_of %s, want 2026-03-09", got)
		}
		if got := <-lists.ran; got != "2026-03-09" {
			t.Errorf("follower as_of %s, want 2026-03-09", got)
		}
		runs, err := replica1.Runs(t.Context(), warehouse.RunFilter{})
		if err != nil || len(runs) != 2 {
			t.Errorf("runs %+v, %v", runs, err)
		}
	})
	t.Run("the real cron fires", func(t *testing.T) {
		// Given a schedule every second, when the scheduler runs, then runs
		// as of yesterday appear.
		r := runner("replica-3")
		sc, err := pipelines.NewScheduler(r, quiet, pipelines.SchedulerOptions{Schedules: map[string]string{"signal": "* * * * * *", "follower": "off"}})
		if err != nil {
			t.Fatal(err)
		}
		sc.Start(t.Context())
		defer sc.Stop()
		select {
		case got := <-score.ran:
			if want := time.Now().In(pipelines.Shanghai).AddDate(0, 0, -1).Format(time.DateOnly); got != want {
				t.Errorf("as_of %s, want %s", got, want)
			}
		case <-time.After(30 * time.Second): // a deadline, not a wait: the cron fires every second
			t.Fatal("the scheduled job did not run within 30 s")
		}
	})
	t.Run("run at start", func(t *testing.T) {
		r := runner("replica-4")
		sc, err := pipelines.NewScheduler(r, quiet, pipelines.SchedulerOptions{RunAtStart: []string{"signal"}, Disabled: true})
		if err != nil {
			t.Fatal(err)
		}
		sc.Start(t.Context())
		got := <-score.ran
		sc.Stop()
		if want := time.Now().In(pipelines.Shanghai).Format(time.DateOnly); got != want {
			t.Errorf("as_of %s, want today %s", got, want)
		}
	})
	tests := []struct {
		name      string
		schedules map[string]string
		want      string
	}{
		{"bad spec", map[string]string{"signal": "every now and then"}, "schedule"},
		{"unknown job", map[string]string{"nope": "0 3 * * *"}, "unknown job"},
		{"after an unknown job", map[string]string{"follower": "after nope"}, "unknown job"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := pipelines.NewScheduler(replica1, quiet, pipelines.SchedulerOptions{Schedules: tt.schedules})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error about %q", err, tt.want)
			}
			if strings.Contains(tt.name, "unknown job") && !errors.Is(err, pipelines.ErrUnknownJob) {
				t.Errorf("want ErrUnknownJob, got %v", err)
			}
		})
	}
}
