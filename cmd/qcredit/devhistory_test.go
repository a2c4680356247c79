package main

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/pipelines"
)

func TestMonthEnds(t *testing.T) {
	// The month-ends after from and before today: a month still running is
	// left for today's run.
	from := time.Date(2025, 11, 15, 0, 0, 0, 0, model.Shanghai)
	today := time.Date(2026, 3, 31, 0, 0, 0, 0, model.Shanghai)
	got := monthEnds(from, today)
	want := []string{"2025-12-31", "2026-01-31", "2026-02-28"}
	if !slices.Equal(got, want) {
		t.Errorf("monthEnds = %v, want %v", got, want)
	}
}

type fakeJob struct{ name, schedule string }

func (j fakeJob) Name() string         { return j.name }
func (j fakeJob) Schedule() string     { return j.schedule }
func (j fakeJob) ModelVersion() string { return "v" }
func (j fakeJob) Run(context.Context, pipelines.RunInput) (pipelines.Output, error) {
	return pipelines.Output{}, nil
}

func TestScheduleOrder(t *testing.T) {
	// Jobs after others come after them, chains in order; jobs that are off
	// (run by hand) and jobs after a job that never runs are left out.
	jobs := []pipelines.Job{fakeJob{"clusters", "after lists"}, fakeJob{"kpi", "0 3 * * *"}, fakeJob{"lists", "after score"},
		fakeJob{"lottery", "off"}, fakeJob{"score", "0 2 * * *"}, fakeJob{"stats", "after score"}, fakeJob{"orphan", "after lottery"}}
	got := scheduleOrder(jobs)
	want := []string{"kpi", "score", "lists", "stats", "clusters"}
	if !slices.Equal(got, want) {
		t.Errorf("scheduleOrder = %v, want %v", got, want)
	}
}

func TestSlotAfter(t *testing.T) {
	// A month-end run is made for the jobs whose schedule (or whose first
	// job's, for "after") has a slot the next day: the daily score and its
	// followers every month, the monthly kpi every month, the yearly plan
	// only as of 30 November, the re-check (2 January) never.
	jobs := []pipelines.Job{fakeJob{"score", "0 2 * * *"}, fakeJob{"stats", "after score"}, fakeJob{"kpi", "0 5 1 * *"},
		fakeJob{"plan", "0 3 1 12 *"}, fakeJob{"recheck", "0 4 2 1 *"}, fakeJob{"lottery", "off"}}
	for _, tt := range []struct {
		job, asOf string
		want      bool
	}{
		{"score", "2026-03-31", true}, {"stats", "2026-03-31", true}, {"kpi", "2026-03-31", true},
		{"plan", "2026-03-31", false}, {"plan", "2026-11-30", true}, {"recheck", "2025-12-31", false}, {"lottery", "2026-03-31", false},
	} {
		got, err := slotAfter(jobs, tt.job, tt.asOf)
		if err != nil || got != tt.want {
			t.Errorf("slotAfter(%s, %s) = %v, %v; want %v", tt.job, tt.asOf, got, err, tt.want)
		}
	}
}
