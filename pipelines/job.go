// Package pipelines runs the jobs (score; lists, clusters, plan, lottery
// and kpi in later issues) over the warehouse: a versioned run record for
// every run, one run of a job at a time on any replica, metrics, and a cron
// scheduler for `qcredit serve` under which each scheduled slot runs once.
//
// A run is a pure function of its job's model version, its as_of and its
// watermark: it reads the events with occurred_at before the end of its
// as_of day (Asia/Shanghai) and ingested_at ≤ watermark, so re-running it
// with the same watermark (RunRequest.Like) gives identical outputs and the
// same digest even after late reports arrived.
package pipelines

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// Shanghai is the bureau's time zone (model.Shanghai); as_of days and
// schedules are read in it.
var Shanghai = model.Shanghai

// Job is one pipeline.
type Job interface {
	// Name is the job's name on the command line and in run records.
	Name() string
	// Schedule is the default schedule: a cron spec (minute hour dom month
	// dow, or with seconds first; Asia/Shanghai), "after JOB" to run in the
	// same slot once JOB succeeded, or "off".
	Schedule() string
	// ModelVersion identifies the model or rules the job runs with.
	ModelVersion() string
	// Run computes one run's outputs and writes them, in ascending key
	// order, to in.Outputs.
	Run(ctx context.Context, in RunInput) (Output, error)
}

// RunInput is what a job gets for one run.
type RunInput struct {
	Run warehouse.Run // as begun: id, version, as_of, watermark
	// Cutoff is the end of the as_of day: read events with occurred_at < Cutoff.
	Cutoff time.Time
	// Watermark: read events with ingested_at ≤ Watermark (= Run.Watermark).
	Watermark time.Time
	Outputs   *OutputWriter
	Log       *slog.Logger
}

// Output is what a run reports beyond its outputs: its counts. The digest
// is the OutputWriter's.
type Output struct {
	Counts map[string]int64
}

// AsOf is a run's as_of day.
type AsOf struct{ Date time.Time }

// ParseAsOf reads YYYY-MM-DD; "" is today in Asia/Shanghai.
func ParseAsOf(s string, now time.Time) (AsOf, error) {
	if s == "" {
		return Today(now), nil
	}
	t, err := time.ParseInLocation(time.DateOnly, s, Shanghai)
	if err != nil {
		return AsOf{}, fmt.Errorf("as_of %q: want YYYY-MM-DD", s)
	}
	return AsOf{Date: t}, nil
}

// Today is now's day in Asia/Shanghai.
func Today(now time.Time) AsOf {
	y, m, d := now.In(Shanghai).Date()
	return AsOf{Date: time.Date(y, m, d, 0, 0, 0, 0, Shanghai)}
}

func (a AsOf) String() string { return a.Date.Format(time.DateOnly) }

// Cutoff is the first instant after the as_of day.
func (a AsOf) Cutoff() time.Time { return a.Date.AddDate(0, 0, 1) }

// Errors of Runner.Run.
var (
	ErrUnknownJob = errors.New("unknown job")
	ErrRunning    = errors.New("job is already running")
	ErrFuture     = errors.New("as_of is after today")
)
