package pipelines

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// Scheduler triggers jobs on their schedules (Asia/Shanghai).
//
// A scheduled run is as of the previous day, the last complete one, so it
// reads the same events whenever it runs and can be reproduced later with
// `qcredit pipeline run JOB --like RUN`. Jobs scheduled "after JOB" run in
// the same slot, as of the same day, once that job succeeded.
//
// With several replicas on one warehouse each runs the scheduler, and each
// scheduled slot runs once: the replica that takes the slot's lease
// ("slot/<job>/<time>", kept for a week) runs it, the others skip it. A
// replica can also opt out (SchedulerOptions.Disabled).
type Scheduler struct {
	runner *Runner
	log    *slog.Logger
	cron   *cron.Cron
	wg     sync.WaitGroup
	// ctx is Start's: cron calls its funcs without one.
	ctx        context.Context
	runAtStart []string
	after      map[string][]string // job → jobs that run after it in its slot
}

// SchedulerOptions configure a Scheduler.
type SchedulerOptions struct {
	// Schedules override job schedules by job name: a cron spec (five
	// fields, or six with seconds first), "after JOB", or "off".
	Schedules map[string]string
	// RunAtStart names jobs to run once as soon as the scheduler starts,
	// as of today (qcredit dev scores right after its import).
	RunAtStart []string
	// Disabled schedules nothing (RunAtStart still runs): for replicas
	// that should never run scheduled jobs.
	Disabled bool
	// Tasks are this process's housekeeping (no run records, no leases:
	// they concern this process's own storage), run even when Disabled.
	Tasks []Task
}

// Task is housekeeping on a cron schedule.
type Task struct {
	Name     string
	Schedule string
	Run      func(context.Context) error
}

// slotLeaseTTL is how long a slot's lease is kept: far longer than any
// lag between replicas' crons, so a slot never runs twice.
const slotLeaseTTL = 7 * 24 * time.Hour

var cronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// NewScheduler registers every job of the runner with its schedule.
func NewScheduler(runner *Runner, log *slog.Logger, opts SchedulerOptions) (*Scheduler, error) {
	s := &Scheduler{runner: runner, log: log, cron: cron.New(cron.WithLocation(Shanghai), cron.WithParser(cronParser)),
		runAtStart: opts.RunAtStart, after: map[string][]string{}}
	var errs []error
	for name := range opts.Schedules {
		if _, ok := runner.jobs[name]; !ok {
			errs = append(errs, fmt.Errorf("schedule for %w %q", ErrUnknownJob, name))
		}
	}
	for _, name := range opts.RunAtStart {
		if _, ok := runner.jobs[name]; !ok {
			errs = append(errs, fmt.Errorf("run at start: %w %q", ErrUnknownJob, name))
		}
	}
	for _, j := range runner.Jobs() {
		spec := j.Schedule()
		if o, ok := opts.Schedules[j.Name()]; ok {
			spec = o
		}
		if err := s.add(j.Name(), strings.TrimSpace(spec), opts.Disabled); err != nil {
			errs = append(errs, err)
		}
	}
	for _, t := range opts.Tasks {
		if err := s.addTask(t); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Scheduler) addTask(t Task) error {
	sched, err := cronParser.Parse(t.Schedule)
	if err != nil {
		return fmt.Errorf("schedule %q of task %s: %w", t.Schedule, t.Name, err)
	}
	s.cron.Schedule(sched, cron.FuncJob(func() {
		s.wg.Add(1)
		defer s.wg.Done()
		if err := t.Run(s.ctx); err != nil && s.ctx.Err() == nil {
			s.log.Error("task failed", "task", t.Name, "err", err)
		}
	}))
	return nil
}

func (s *Scheduler) add(job, spec string, disabled bool) error {
	switch {
	case spec == "" || spec == "off":
		return nil
	case strings.HasPrefix(spec, "after "):
		first := strings.TrimSpace(strings.TrimPrefix(spec, "after "))
		if _, ok := s.runner.jobs[first]; !ok || first == job {
			return fmt.Errorf("schedule %q of %s: %w %q", spec, job, ErrUnknownJob, first)
		}
		s.after[first] = append(s.after[first], job)
		return nil
	}
	sched, err := cronParser.Parse(spec)
	if err != nil {
		return fmt.Errorf("schedule %q of %s: %w", spec, job, err)
	}
	if disabled {
		return nil
	}
	var id cron.EntryID
	id = s.cron.Schedule(sched, cron.FuncJob(func() {
		// Prev is the activation being run (02:00:00 sharp), the same on every
		// replica however late its cron woke up: it names the slot.
		s.RunSlot(s.ctx, job, s.cron.Entry(id).Prev)
	}))
	s.log.Info("pipeline scheduled", "job", job, "schedule", spec, "tz", "Asia/Shanghai")
	return nil
}

// Start runs the schedule until ctx ends; Stop waits for running jobs.
func (s *Scheduler) Start(ctx context.Context) {
	s.ctx = ctx
	s.cron.Start()
	for _, name := range s.runAtStart {
		s.wg.Go(func() {
			if _, err := s.runner.Run(ctx, RunRequest{Job: name}); err != nil {
				s.log.Error("run at start failed", "job", name, "err", err)
			}
		})
	}
}

// Stop stops scheduling and waits for runs in progress (whose context,
// the one given to Start, the caller cancels first to cut them short).
func (s *Scheduler) Stop() {
	<-s.cron.Stop().Done()
	s.wg.Wait()
}

// RunSlot runs job's scheduled slot at time slot, as of the day before it,
// on this replica if it takes the slot's lease, then the jobs scheduled
// after it, each reading up to the watermark of the run it follows: a slot
// is one cut of the warehouse, so an event stored while the slot runs
// cannot make the lists disagree with the grades they were decided with.
// It reports whether this replica ran it.
func (s *Scheduler) RunSlot(ctx context.Context, job string, slot time.Time) bool {
	return s.runSlot(ctx, job, slot, "")
}

// runSlot runs job's slot after the run with id after ("" for the first).
func (s *Scheduler) runSlot(ctx context.Context, job string, slot time.Time, after string) bool {
	s.wg.Add(1)
	defer s.wg.Done()
	asOf := slot.In(Shanghai).AddDate(0, 0, -1).Format(time.DateOnly)
	name := fmt.Sprintf("slot/%s/%s", job, slot.In(Shanghai).Format(time.RFC3339))
	ok, err := s.runner.store.AcquireLease(ctx, name, s.runner.holder, slotLeaseTTL)
	switch {
	case err != nil:
		s.log.Error("scheduled run skipped: cannot take the slot's lease", "job", job, "slot", slot, "err", err)
		return false
	case !ok:
		s.log.Info("scheduled run taken by another replica", "job", job, "slot", slot)
		return false
	}
	run, err := s.runner.Run(ctx, RunRequest{Job: job, AsOf: asOf, After: after})
	switch {
	case errors.Is(err, ErrRunning):
		s.log.Warn("scheduled run skipped: the previous run is still going", "job", job, "slot", slot)
	case err != nil:
		s.log.Error("scheduled run failed", "job", job, "slot", slot, "err", err)
	default:
		for _, next := range s.after[job] {
			s.runSlot(ctx, next, slot, run.ID)
		}
	}
	return true
}
