package pipelines

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qcredit/qcredit/warehouse"
)

// Runner runs jobs with run records, one run per job at a time.
type Runner struct {
	store   warehouse.PipelineStore
	log     *slog.Logger
	jobs    map[string]Job
	locks   map[string]*sync.Mutex
	now     func() time.Time
	metrics runnerMetrics
}

// RunnerOptions configure a Runner.
type RunnerOptions struct {
	Jobs []Job
	// Registerer takes the pipeline metrics; nil registers nowhere.
	Registerer prometheus.Registerer
	// Now is the clock (tests); nil is time.Now.
	Now func() time.Time
}

// NewRunner builds a runner over a warehouse that implements
// warehouse.PipelineStore.
func NewRunner(store warehouse.Store, log *slog.Logger, opts RunnerOptions) (*Runner, error) {
	ps, ok := store.(warehouse.PipelineStore)
	if !ok {
		return nil, fmt.Errorf("pipelines: the %T warehouse does not support pipelines yet", store)
	}
	r := &Runner{store: ps, log: log, jobs: map[string]Job{}, locks: map[string]*sync.Mutex{}, now: opts.Now}
	if r.now == nil {
		r.now = time.Now
	}
	for _, j := range opts.Jobs {
		if _, dup := r.jobs[j.Name()]; dup {
			return nil, fmt.Errorf("pipelines: job %s registered twice", j.Name())
		}
		r.jobs[j.Name()] = j
		r.locks[j.Name()] = &sync.Mutex{}
	}
	m, err := newRunnerMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	r.metrics = m
	// Series exist from the start, so dashboards and alerts see zeros, not gaps.
	for name := range r.jobs {
		m.running.WithLabelValues(name).Set(0)
		for _, st := range []warehouse.RunStatus{warehouse.RunSucceeded, warehouse.RunFailed} {
			m.runs.WithLabelValues(name, string(st))
		}
	}
	return r, nil
}

// Jobs are the registered jobs in name order.
func (r *Runner) Jobs() []Job {
	out := make([]Job, 0, len(r.jobs))
	for _, j := range r.jobs {
		out = append(out, j)
	}
	slices.SortFunc(out, func(a, b Job) int { return cmp.Compare(a.Name(), b.Name()) })
	return out
}

// RunRequest asks for one run.
type RunRequest struct {
	Job  string
	AsOf string // YYYY-MM-DD; "" = today (Asia/Shanghai)
}

// Validate checks the request's shape.
func (q RunRequest) Validate() error {
	var errs []error
	if q.Job == "" {
		errs = append(errs, errors.New("job is required"))
	}
	if q.AsOf != "" {
		if _, err := time.Parse(time.DateOnly, q.AsOf); err != nil {
			errs = append(errs, fmt.Errorf("as_of %q: want YYYY-MM-DD", q.AsOf))
		}
	}
	return errors.Join(errs...)
}

// Run runs a job now and returns its record. A second run of the same job
// while one is running is refused with ErrRunning rather than queued: runs
// are long, and a queued duplicate would only redo the same work.
func (r *Runner) Run(ctx context.Context, q RunRequest) (warehouse.Run, error) {
	if err := q.Validate(); err != nil {
		return warehouse.Run{}, err
	}
	job, ok := r.jobs[q.Job]
	if !ok {
		return warehouse.Run{}, fmt.Errorf("%w %q (known: %v)", ErrUnknownJob, q.Job, r.names())
	}
	asOf, err := ParseAsOf(q.AsOf, r.now())
	if err != nil {
		return warehouse.Run{}, err
	}
	lock := r.locks[q.Job]
	if !lock.TryLock() {
		return warehouse.Run{}, fmt.Errorf("%w: %s (wait for it to finish; see `qcredit pipeline list`)", ErrRunning, q.Job)
	}
	defer lock.Unlock()

	start := r.now()
	run := warehouse.Run{
		ID:  fmt.Sprintf("%s-%s-%d", q.Job, asOf, start.UnixMilli()),
		Job: q.Job, AsOf: asOf.String(), StartedAt: start, Status: warehouse.RunRunning,
		Counts: map[string]int64{}, ModelVersion: job.ModelVersion(),
	}
	log := r.log.With("job", q.Job, "run", run.ID, "as_of", run.AsOf)
	if err := r.store.BeginRun(ctx, run); err != nil {
		return run, err
	}
	log.Info("run started", "model_version", run.ModelVersion)
	r.metrics.running.WithLabelValues(q.Job).Set(1)
	out, runErr := job.Run(ctx, RunInput{RunID: run.ID, AsOf: run.AsOf, Cutoff: asOf.Cutoff(), Log: log})
	r.metrics.running.WithLabelValues(q.Job).Set(0)

	end := r.now()
	run.FinishedAt = &end
	run.Status, run.Counts, run.Digest = warehouse.RunSucceeded, out.Counts, out.Digest
	if run.Counts == nil {
		run.Counts = map[string]int64{}
	}
	if runErr != nil {
		run.Status, run.Error, run.Digest = warehouse.RunFailed, runErr.Error(), ""
	}
	// The record must be closed even when ctx was cancelled mid-run.
	finishErr := r.store.FinishRun(context.WithoutCancel(ctx), run)
	r.metrics.runs.WithLabelValues(q.Job, string(run.Status)).Inc()
	r.metrics.duration.WithLabelValues(q.Job).Observe(end.Sub(start).Seconds())
	if runErr != nil {
		log.Error("run failed", "err", runErr, "duration", end.Sub(start))
		return run, errors.Join(fmt.Errorf("run %s: %w", run.ID, runErr), finishErr)
	}
	if finishErr != nil {
		return run, finishErr
	}
	r.metrics.lastSuccess.WithLabelValues(q.Job).Set(float64(end.Unix()))
	log.Info("run succeeded", "duration", end.Sub(start), "counts", run.Counts, "digest", run.Digest)
	return run, nil
}

func (r *Runner) names() []string {
	var out []string
	for _, j := range r.Jobs() {
		out = append(out, j.Name())
	}
	return out
}

// Runs lists run records, newest first.
func (r *Runner) Runs(ctx context.Context, f warehouse.RunFilter) ([]warehouse.Run, error) {
	return r.store.Runs(ctx, f)
}

type runnerMetrics struct {
	runs        *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	running     *prometheus.GaugeVec
	lastSuccess *prometheus.GaugeVec
}

func newRunnerMetrics(reg prometheus.Registerer) (runnerMetrics, error) {
	m := runnerMetrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "qcredit_pipeline_runs_total",
			Help: "Pipeline runs by job and final status."}, []string{"job", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "qcredit_pipeline_run_duration_seconds",
			Help: "Duration of pipeline runs.", Buckets: prometheus.ExponentialBuckets(0.1, 2, 14)}, []string{"job"}),
		running: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "qcredit_pipeline_running",
			Help: "1 while a run of the job is in progress."}, []string{"job"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "qcredit_pipeline_last_success_timestamp_seconds",
			Help: "Unix time of the job's last succeeded run."}, []string{"job"}),
	}
	if reg == nil {
		return m, nil
	}
	// A second runner on the same registry (dev runs once, then serves)
	// shares the first one's collectors.
	var err error
	m.runs, err = register(reg, m.runs)
	if err == nil {
		m.duration, err = register(reg, m.duration)
	}
	if err == nil {
		m.running, err = register(reg, m.running)
	}
	if err == nil {
		m.lastSuccess, err = register(reg, m.lastSuccess)
	}
	return m, err
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		return c, fmt.Errorf("register pipeline metrics: %w", err)
	}
	return c, nil
}
