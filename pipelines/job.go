// Package pipelines runs the scheduled jobs (score; lists, clusters, plan,
// lottery and kpi later) over the warehouse: one run per job at a time, a run
// record for every run, metrics, and a cron scheduler for `qcredit serve`.
//
// A run is a pure function of the events with occurred_at before the end of
// its as_of day (Asia/Shanghai) and of its model version: running it again
// gives identical outputs and the same digest.
package pipelines

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/qcredit/qcredit/model"
)

// Shanghai is the bureau's time zone (model.Shanghai); as_of days and
// schedules are read in it.
var Shanghai = model.Shanghai

// Job is one pipeline.
type Job interface {
	// Name is the job's name on the command line and in run records.
	Name() string
	// Schedule is the default cron spec (minute hour dom month dow, Asia/Shanghai).
	Schedule() string
	// ModelVersion identifies the model or rules the job runs with.
	ModelVersion() string
	// Run computes and stores the outputs of one run.
	Run(ctx context.Context, in RunInput) (Output, error)
}

// RunInput is what a job gets for one run.
type RunInput struct {
	RunID  string
	AsOf   string    // YYYY-MM-DD
	Cutoff time.Time // end of the as_of day: read events with occurred_at < Cutoff
	Log    *slog.Logger
}

// Output is what a run produced.
type Output struct {
	Counts map[string]int64
	// Digest is the hex SHA-256 of the outputs in canonical order.
	Digest string
}

// AsOf is a run's as_of day.
type AsOf struct{ Date time.Time }

// ParseAsOf reads YYYY-MM-DD; "" is today in Asia/Shanghai.
func ParseAsOf(s string, now time.Time) (AsOf, error) {
	if s == "" {
		y, m, d := now.In(Shanghai).Date()
		return AsOf{Date: time.Date(y, m, d, 0, 0, 0, 0, Shanghai)}, nil
	}
	t, err := time.ParseInLocation(time.DateOnly, s, Shanghai)
	if err != nil {
		return AsOf{}, fmt.Errorf("as_of %q: want YYYY-MM-DD", s)
	}
	return AsOf{Date: t}, nil
}

func (a AsOf) String() string { return a.Date.Format(time.DateOnly) }

// Cutoff is the first instant after the as_of day.
func (a AsOf) Cutoff() time.Time { return a.Date.AddDate(0, 0, 1) }

// Errors of Runner.Run.
var (
	ErrUnknownJob = errors.New("unknown job")
	ErrRunning    = errors.New("job is already running")
)
