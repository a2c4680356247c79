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
