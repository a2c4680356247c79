package pipelines

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/robfig/cron/v3"
)

// Scheduler triggers jobs on their cron schedules (Asia/Shanghai).
//
// Default schedules (Job.Schedule): score daily at 02:00. A scheduled run
// scores as of the previous day, the last complete one, so it reads the same
// events whenever it runs and can be reproduced later with
// `qcredit pipeline run score --as-of` that date.
type Scheduler struct {
	runner *Runner
	log    *slog.Logger
	cron   *cron.Cron
	wg     sync.WaitGroup
	// ctx is Start's: cron calls its funcs without one.
	ctx        context.Context
	runAtStart []string
}

// SchedulerOptions configure a Scheduler.
type SchedulerOptions struct {
	// Schedules override job schedules by job name; "off" disables a job.
	Schedules map[string]string
	// RunAtStart names jobs to run once as soon as the scheduler starts
	// (qcredit dev scores right after its import).
	RunAtStart []string
}

// NewScheduler registers every job of the runner with its schedule.
func NewScheduler(runner *Runner, log *slog.Logger, opts SchedulerOptions) (*Scheduler, error) {
	s := &Scheduler{runner: runner, log: log, cron: cron.New(cron.WithLocation(Shanghai))}
	var errs []error
	for name := range opts.Schedules {
		if _, ok := runner.jobs[name]; !ok {
			errs = append(errs, fmt.Errorf("schedule for %w %q", ErrUnknownJob, name))
		}
	}
	for _, j := range runner.Jobs() {
		spec := j.Schedule()
		if o, ok := opts.Schedules[j.Name()]; ok {
			spec = o
		}
		if spec == "" || spec == "off" {
			continue
		}
		if _, err := s.cron.AddFunc(spec, func() { s.trigger(j.Name(), true) }); err != nil {
			errs = append(errs, fmt.Errorf("schedule %q of %s: %w", spec, j.Name(), err))
		}
		log.Info("pipeline scheduled", "job", j.Name(), "schedule", spec, "tz", "Asia/Shanghai")
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	s.runAtStart = opts.RunAtStart
	return s, nil
}

// Start runs the schedule until ctx ends; Stop waits for running jobs.
func (s *Scheduler) Start(ctx context.Context) {
	s.ctx = ctx
	s.cron.Start()
	for _, name := range s.runAtStart {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.trigger(name, false)
		}()
	}
}

// Stop stops scheduling and waits for runs in progress (whose context,
// the one given to Start, the caller cancels first to cut them short).
func (s *Scheduler) Stop() {
	<-s.cron.Stop().Done()
	s.wg.Wait()
}

func (s *Scheduler) trigger(job string, scheduled bool) {
	asOf := ""
	if scheduled {
		asOf = s.runner.now().In(Shanghai).AddDate(0, 0, -1).Format("2006-01-02")
	}
	_, err := s.runner.Run(s.ctx, RunRequest{Job: job, AsOf: asOf})
	switch {
	case errors.Is(err, ErrRunning):
		s.log.Warn("scheduled run skipped: the previous run is still going", "job", job)
	case err != nil:
		s.log.Error("scheduled run failed", "job", job, "err", err)
	}
}
