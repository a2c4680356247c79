package pipelines

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qcredit/qcredit/warehouse"
)

// Runner runs jobs with run records, one run of a job at a time: in this
// process (a mutex) and on every replica sharing the warehouse (the lease
// "job/<name>", renewed while the run lasts).
type Runner struct {
	store       RunStore
	log         *slog.Logger
	jobs        map[string]Job
	locks       map[string]*sync.Mutex
	now         func() time.Time
	holder      string
	leaseTTL    time.Duration
	outputBatch int
	metrics     runnerMetrics
}

// RunnerOptions configure a Runner.
type RunnerOptions struct {
	Jobs []Job
	// Registerer takes the pipeline metrics; nil registers nowhere.
	Registerer prometheus.Registerer
	// Now is the clock (tests); nil is time.Now.
	Now func() time.Time
	// Holder names this process in leases; "" is host-pid-random.
	Holder string
	// LeaseTTL is how long a job's lease lasts unless renewed (every third
	// of it while the run goes on); default 2 minutes, so a replica that
	// died mid-run blocks its job for at most that long.
	LeaseTTL time.Duration
	// OutputBatch is the outputs per warehouse write (DefaultOutputBatch).
	OutputBatch int
}

// NewRunner builds a runner over a warehouse.
func NewRunner(store RunStore, log *slog.Logger, opts RunnerOptions) (*Runner, error) {
	r := &Runner{store: store, log: log, jobs: map[string]Job{}, locks: map[string]*sync.Mutex{},
		now: opts.Now, holder: opts.Holder, leaseTTL: cmp.Or(opts.LeaseTTL, 2*time.Minute), outputBatch: opts.OutputBatch}
	if r.now == nil {
		r.now = time.Now
	}
	if r.holder == "" {
		r.holder = processHolder()
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

// processHolder names this process: host, pid and a random suffix (a
// restarted process with the same pid is another holder).
func processHolder() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
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

// Today is the runner's today in Asia/Shanghai.
func (r *Runner) Today() AsOf { return Today(r.now()) }

// RunRequest asks for one run.
type RunRequest struct {
	Job string
	// AsOf is YYYY-MM-DD; "" is today (Asia/Shanghai), or Like's as_of.
	AsOf string
	// Like re-runs with the watermark of this run (an id such as score-12)
	// of the same job: what that run knew, so the same as_of and model
	// version reproduce its digest.
	Like string
	// Watermark, when set, is the watermark to read up to.
	Watermark time.Time
	// After is the run (an id such as score-12, of another job) this one
	// follows in its slot: it reads up to that run's watermark, so the jobs
	// of a slot read one cut of the warehouse. "" for a job whose default
	// schedule is "after JOB" (and with neither Like nor Watermark) is the
	// current run of JOB as of this run's as_of: a lists run by hand reads
	// what the score run whose grades it reads read.
	After string
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
	n := 0
	for _, set := range []bool{q.Like != "", !q.Watermark.IsZero(), q.After != ""} {
		if set {
			n++
		}
	}
	if n > 1 {
		errs = append(errs, errors.New("give at most one of a run to be like, a watermark and a run to follow"))
	}
	return errors.Join(errs...)
}

// Run runs a job now and returns its record. A second run of the same job
// while one is running (here or on another replica) is refused with
// ErrRunning rather than queued: runs are long, and a queued duplicate
// would only redo the same work. A plain run reads everything ingested so
// far and counts (late_events) what it read that the previous run of the
// same as_of did not: reports that arrived late.
func (r *Runner) Run(ctx context.Context, q RunRequest) (warehouse.Run, error) {
	if err := q.Validate(); err != nil {
		return warehouse.Run{}, err
	}
	job, ok := r.jobs[q.Job]
	if !ok {
		return warehouse.Run{}, fmt.Errorf("%w %q (known: %v)", ErrUnknownJob, q.Job, r.names())
	}
	var like warehouse.Run
	if q.Like != "" {
		var err error
		if like, err = r.findRun(ctx, q.Job, q.Like); err != nil {
			return warehouse.Run{}, err
		}
		q.AsOf = cmp.Or(q.AsOf, like.AsOf)
		q.Watermark = like.Watermark
	}
	asOf, err := ParseAsOf(q.AsOf, r.now())
	if err != nil {
		return warehouse.Run{}, err
	}
	if today := r.Today(); asOf.Date.After(today.Date) {
		return warehouse.Run{}, fmt.Errorf("%w: %s is after today (%s, Asia/Shanghai): a run can only read what has happened", ErrFuture, asOf, today)
	}
	after, err := r.followed(ctx, job, q, asOf)
	if err != nil {
		return warehouse.Run{}, err
	}
	lock := r.locks[q.Job]
	if !lock.TryLock() {
		return warehouse.Run{}, fmt.Errorf("%w: %s (wait for it to finish; see `qcredit pipeline list`)", ErrRunning, q.Job)
	}
	defer lock.Unlock()
	ctx, release, err := r.lease(ctx, q.Job)
	if err != nil {
		return warehouse.Run{}, err
	}
	defer release()
	return r.run(ctx, job, q, like, after, asOf)
}

// followsByHand are the jobs that, run by hand, read up to the watermark of
// the current run of the job they follow, as in their slot: the lists must
// agree with the grades they are decided from. The others (clusters,
// stats) read everything stored, so that an analyst's acknowledgement just
// recorded is in the next run.
var followsByHand = map[string]bool{JobLists: true}

// followed is the run whose watermark a run reads up to (RunRequest.After);
// the zero Run when it reads everything stored or a watermark of its own.
func (r *Runner) followed(ctx context.Context, job Job, q RunRequest, asOf AsOf) (warehouse.Run, error) {
	if q.After != "" {
		runs, err := r.store.Runs(ctx, warehouse.RunFilter{Status: warehouse.RunSucceeded})
		if err != nil {
			return warehouse.Run{}, err
		}
		i := slices.IndexFunc(runs, func(run warehouse.Run) bool { return run.ID == q.After })
		if i < 0 {
			return warehouse.Run{}, fmt.Errorf("no succeeded run %s to follow (see `qcredit pipeline list`)", q.After)
		}
		return runs[i], nil
	}
	first, ok := strings.CutPrefix(job.Schedule(), "after ")
	if !ok || !followsByHand[job.Name()] || q.Like != "" || !q.Watermark.IsZero() {
		return warehouse.Run{}, nil
	}
	first = strings.TrimSpace(first)
	runs, err := r.store.Runs(ctx, warehouse.RunFilter{Job: first, Status: warehouse.RunSucceeded})
	if err != nil {
		return warehouse.Run{}, err
	}
	run, _ := warehouse.CurrentRun(runs, first, asOf.String())
	return run, nil // none yet: the run reads everything stored
}

// lease takes the job's lease for this process and keeps renewing it until
// release; losing it (the warehouse unreachable for a lease's life)
// cancels the returned context, since another replica may start the job.
func (r *Runner) lease(ctx context.Context, job string) (context.Context, func(), error) {
	name := "job/" + job
	ok, err := r.store.AcquireLease(ctx, name, r.holder, r.leaseTTL)
	if err != nil {
		return nil, nil, fmt.Errorf("lease of %s: %w", job, err)
	}
	if !ok {
		return nil, nil, fmt.Errorf("%w: %s runs on another replica (wait for it to finish; see `qcredit pipeline list`)", ErrRunning, job)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(r.leaseTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			if ok, err := r.store.AcquireLease(ctx, name, r.holder, r.leaseTTL); err != nil || !ok {
				r.log.Error("lost the job's lease; stopping the run", "job", job, "err", err)
				cancel(fmt.Errorf("lost the lease of %s: %v", job, err))
				return
			}
		}
	})
	return ctx, func() {
		close(stop)
		wg.Wait()
		if err := r.store.ReleaseLease(context.WithoutCancel(ctx), name, r.holder); err != nil {
			r.log.Warn("release the job's lease", "job", job, "err", err)
		}
		cancel(nil)
	}, nil
}

// findRun is the run with the given id of job.
func (r *Runner) findRun(ctx context.Context, job, id string) (warehouse.Run, error) {
	runs, err := r.store.Runs(ctx, warehouse.RunFilter{Job: job})
	if err != nil {
		return warehouse.Run{}, err
	}
	for _, run := range runs {
		if run.ID == id {
			return run, nil
		}
	}
	return warehouse.Run{}, fmt.Errorf("no run %s of job %s (see `qcredit pipeline list`)", id, job)
}

func (r *Runner) run(ctx context.Context, job Job, q RunRequest, like, after warehouse.Run, asOf AsOf) (warehouse.Run, error) {
	start := r.now()
	wm, late, err := r.watermark(ctx, q, after, asOf, start)
	if err != nil {
		return warehouse.Run{}, err
	}
	run, err := r.store.BeginRun(ctx, warehouse.Run{Job: q.Job, AsOf: asOf.String(), Watermark: wm, Like: like.ID,
		StartedAt: start, Status: warehouse.RunRunning, Counts: map[string]int64{}, ModelVersion: job.ModelVersion()})
	if err != nil {
		return run, err
	}
	log := r.log.With("job", q.Job, "run", run.ID, "as_of", run.AsOf)
	log.Info("run started", "model_version", run.ModelVersion, "watermark", wm, "like", like.ID, "after", after.ID)
	r.metrics.running.WithLabelValues(q.Job).Set(1)
	w := newOutputWriter(ctx, r.store, run, r.outputBatch)
	out, runErr := job.Run(ctx, RunInput{Run: run, Cutoff: asOf.Cutoff(), Watermark: wm, Outputs: w, Log: log})
	digest, writeErr := w.close()
	r.metrics.running.WithLabelValues(q.Job).Set(0)
	runErr = cmp.Or(runErr, writeErr, context.Cause(ctx))

	end := r.now()
	run.FinishedAt = &end
	run.Status, run.Counts, run.Digest = warehouse.RunSucceeded, out.Counts, digest
	if run.Counts == nil {
		run.Counts = map[string]int64{}
	}
	if late >= 0 {
		run.Counts["late_events"] = late
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

// watermark is what the run reads up to: the request's, else the followed
// run's, else everything stored (an empty warehouse: the start). For the
// latter two it also counts the late events: those with occurred_at before
// the cutoff that the latest succeeded run of the same job and as_of did
// not read (−1 when there is none).
func (r *Runner) watermark(ctx context.Context, q RunRequest, after warehouse.Run, asOf AsOf, start time.Time) (time.Time, int64, error) {
	if !q.Watermark.IsZero() {
		return q.Watermark, -1, nil
	}
	wm := after.Watermark
	if after.ID == "" {
		var err error
		if wm, err = r.store.Watermark(ctx); err != nil {
			return time.Time{}, 0, err
		}
		if wm.IsZero() {
			wm = start
		}
	}
	runs, err := r.store.Runs(ctx, warehouse.RunFilter{Job: q.Job, Status: warehouse.RunSucceeded})
	if err != nil {
		return time.Time{}, 0, err
	}
	var prev *warehouse.Run
	for i := range runs {
		if runs[i].AsOf == asOf.String() && (prev == nil || runs[i].Version > prev.Version) {
			prev = &runs[i]
		}
	}
	if prev == nil {
		return wm, -1, nil
	}
	if !wm.After(prev.Watermark) {
		return wm, 0, nil
	}
	late, err := r.store.CountEvents(ctx, warehouse.EventCount{OccurredBefore: asOf.Cutoff(), IngestedAfter: prev.Watermark, IngestedUpTo: wm})
	if err != nil {
		return time.Time{}, 0, err
	}
	return wm, late, nil
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
