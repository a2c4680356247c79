package serving

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// Source is what the read model is loaded from: the warehouse.
type Source interface {
	Runs(ctx context.Context, f warehouse.RunFilter) ([]warehouse.Run, error)
	ReadOutputs(ctx context.Context, q warehouse.OutputQuery, fn func(warehouse.OutputRow) error) error
	// Enterprises streams every enterprise in USCC order.
	Enterprises(ctx context.Context, fn func(model.Enterprise) error) error
	// EnterprisesSince are the enterprises whose enterprise.* events were
	// ingested after t, in USCC order.
	EnterprisesSince(ctx context.Context, t time.Time) ([]model.Enterprise, error)
	Watermark(ctx context.Context) (time.Time, error)
	PenaltySource
}

// Options configure a Store.
type Options struct {
	// Interval is how often the current run versions are checked; a new
	// one is loaded at once (default 5 s: replicas converge within that).
	Interval time.Duration
	// DirectoryInterval is how often enterprises registered or changed
	// since the last load are looked for (default 30 s).
	DirectoryInterval time.Duration
	// Now is the clock ("today" decides the current runs); nil is time.Now.
	Now        func() time.Time
	Registerer prometheus.Registerer
	// Parts are the jobs' shares of the model beyond the score's grades
	// (lists, warnings, …), each built from its job's current run.
	Parts []PartLoader
	// Penalties are the publication periods of penalties (zero fields:
	// DefaultPenaltyPeriods).
	Penalties PenaltyPeriods
}

// Part is one job's share of the read model, built from the job's current
// run by its PartLoader. It must not change once built.
type Part interface {
	Bytes() int64 // its memory, for /metrics
}

// PartLoader builds a job's part of a model from the job's current run;
// the model's enterprises are already loaded (Model.Firm works).
type PartLoader struct {
	Job  string
	Load func(ctx context.Context, src Source, run warehouse.Run, m *Model) (Part, error)
}

// Store holds the current Model and replaces it when the warehouse has
// something new.
type Store struct {
	src     Source
	log     *slog.Logger
	opts    Options
	cur     atomic.Pointer[Model]
	lastDir time.Time
	metrics storeMetrics
}

// NewStore makes a store; Load fills it.
func NewStore(src Source, log *slog.Logger, opts Options) (*Store, error) {
	if opts.Interval <= 0 {
		opts.Interval = 5 * time.Second
	}
	if opts.DirectoryInterval <= 0 {
		opts.DirectoryInterval = 30 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.Penalties = opts.Penalties.withDefaults()
	m, err := newStoreMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	return &Store{src: src, log: log, opts: opts, metrics: m}, nil
}

// Current is the model to answer from; nil until the first Load.
func (s *Store) Current() *Model { return s.cur.Load() }

// Load builds the model from the warehouse and makes it current.
func (s *Store) Load(ctx context.Context) error {
	start := time.Now()
	wm, err := s.src.Watermark(ctx)
	if err != nil {
		return fmt.Errorf("read model: %w", err)
	}
	b := newDirectoryBuilder(1024)
	err = s.src.Enterprises(ctx, func(e model.Enterprise) error {
		if !b.add(e) {
			return fmt.Errorf("enterprise %q out of USCC order or malformed", e.USCC)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read model: enterprises: %w", err)
	}
	m := &Model{base: b.directory(), Loaded: s.opts.Now(), Watermark: wm, runs: map[string]warehouse.Run{}, parts: map[string]Part{}}
	if m.names, err = buildNameIndex(m.base); err != nil {
		s.log.Error("read model without name search", "err", err)
	}
	if m.penalties, err = loadPenalties(ctx, s.src, s.opts.Penalties, s.today()); err != nil {
		return err
	}
	current, err := s.currentRuns(ctx)
	if err != nil {
		return err
	}
	if run, ok := current[jobScore]; ok {
		if err := s.loadScores(ctx, m.base, run); err != nil {
			return err
		}
		m.score, m.scored, m.runs[jobScore] = run, true, run
	}
	if err := s.loadParts(ctx, m, current, nil); err != nil {
		return err
	}
	s.swap(m)
	s.lastDir = time.Now()
	s.log.Info("read model loaded", "enterprises", m.base.len(), "score_run", m.score.ID, "bytes", m.Bytes(),
		"took", time.Since(start).Round(time.Millisecond))
	return nil
}

// jobScore is pipelines.JobScore (serving does not import pipelines).
const jobScore = "score"

// currentRuns are the current runs of the jobs the model serves.
func (s *Store) currentRuns(ctx context.Context) (map[string]warehouse.Run, error) {
	runs, err := s.src.Runs(ctx, warehouse.RunFilter{Status: warehouse.RunSucceeded})
	if err != nil {
		return nil, fmt.Errorf("read model: runs: %w", err)
	}
	out := map[string]warehouse.Run{}
	for _, job := range s.jobs() {
		if run, ok := warehouse.CurrentRun(runs, job, s.today()); ok {
			out[job] = run
		}
	}
	return out, nil
}

func (s *Store) jobs() []string {
	jobs := []string{jobScore}
	for _, p := range s.opts.Parts {
		jobs = append(jobs, p.Job)
	}
	return jobs
}

// loadParts builds the parts of the jobs in only (all when nil) from
// their current runs; a job without a current run has no part.
func (s *Store) loadParts(ctx context.Context, m *Model, current map[string]warehouse.Run, only map[string]bool) error {
	for _, p := range s.opts.Parts {
		if only != nil && !only[p.Job] {
			continue
		}
		run, ok := current[p.Job]
		delete(m.runs, p.Job)
		delete(m.parts, p.Job)
		if !ok {
			continue
		}
		part, err := p.Load(ctx, s.src, run, m)
		if err != nil {
			return fmt.Errorf("read model: %s of %s: %w", p.Job, run.ID, err)
		}
		m.runs[p.Job], m.parts[p.Job] = run, part
	}
	return nil
}

func (s *Store) today() string { return s.opts.Now().In(model.Shanghai).Format(time.DateOnly) }

// loadScores puts the grades and scores of run into d, whose enterprises
// and the run's outputs both come in USCC order.
func (s *Store) loadScores(ctx context.Context, d *directory, run warehouse.Run) error {
	i := 0
	err := s.src.ReadOutputs(ctx, warehouse.OutputQuery{Job: run.Job, Version: run.Version}, func(o warehouse.OutputRow) error {
		for i < d.len() && string(d.key(i)) < o.USCC {
			i++
		}
		if i < d.len() && string(d.key(i)) == o.USCC && len(o.Label) == 1 {
			d.firms[i].grade, d.firms[i].score = o.Label[0], int16(o.Value)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read model: scores of %s: %w", run.ID, err)
	}
	return nil
}

func (s *Store) swap(m *Model) {
	s.cur.Store(m)
	s.metrics.loaded(m)
}

// Refresh loads a new model when a job's current run changed, and picks up
// enterprises registered or changed since the last look. It reports
// whether anything changed.
func (s *Store) Refresh(ctx context.Context) (bool, error) {
	m := s.Current()
	if m == nil {
		return true, s.Load(ctx)
	}
	current, err := s.currentRuns(ctx)
	if err != nil {
		return false, err
	}
	if run, ok := current[jobScore]; ok != m.scored || run.ID != m.score.ID {
		return true, s.Load(ctx)
	}
	changed := map[string]bool{}
	for _, job := range s.jobs() {
		if current[job].ID != m.runs[job].ID {
			changed[job] = true
		}
	}
	if len(changed) > 0 {
		next := m.derive()
		if err := s.loadParts(ctx, next, current, changed); err != nil {
			return false, err
		}
		next.Loaded = s.opts.Now()
		s.swap(next)
		return true, nil
	}
	if time.Since(s.lastDir) < s.opts.DirectoryInterval {
		return false, nil
	}
	s.lastDir = time.Now()
	return s.refreshDirectory(ctx, m)
}

// refreshDirectory adds the enterprises changed since m was loaded as an
// overlay on m's directory, with their grades.
func (s *Store) refreshDirectory(ctx context.Context, m *Model) (bool, error) {
	wm, err := s.src.Watermark(ctx)
	if err != nil || !wm.After(m.Watermark) {
		return false, err
	}
	changed, err := s.src.EnterprisesSince(ctx, m.Watermark)
	if err != nil {
		return false, fmt.Errorf("read model: changed enterprises: %w", err)
	}
	penalties, err := s.refreshPenalties(ctx, m)
	if err != nil {
		return false, err
	}
	if len(changed) == 0 {
		next := m.derive()
		next.Watermark, next.penalties = wm, penalties
		if penalties != m.penalties {
			s.swap(next)
			return true, nil
		}
		s.cur.Store(next)
		return false, nil
	}
	b := newDirectoryBuilder(len(changed))
	if m.changed != nil { // keep earlier changes not changed again
		for i := range m.changed.len() {
			changed = append(changed, toEnterprise(m.changed.firm(i)))
		}
	}
	for _, e := range sortedUnique(changed) {
		b.add(e)
		n := b.d.len() - 1
		if i := m.base.find(string(e.USCC)); i >= 0 {
			b.d.firms[n].grade, b.d.firms[n].score = m.base.firms[i].grade, m.base.firms[i].score
		}
	}
	next := m.derive()
	next.changed, next.Watermark, next.penalties = b.directory(), wm, penalties
	s.swap(next)
	s.log.Info("read model: enterprises changed", "enterprises", b.d.len())
	return true, nil
}

// refreshPenalties rebuilds the penalties when penalty events were
// ingested since m's were read; else it is m's.
func (s *Store) refreshPenalties(ctx context.Context, m *Model) (*penaltyIndex, error) {
	if changed, err := m.penalties.changedSince(ctx, s.src); err != nil || !changed {
		return m.penalties, err
	}
	return loadPenalties(ctx, s.src, s.opts.Penalties, s.today())
}

// Run refreshes every Interval until ctx ends; a failed refresh is logged
// and the current model keeps answering.
func (s *Store) Run(ctx context.Context) {
	t := time.NewTicker(s.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := s.Refresh(ctx); err != nil && ctx.Err() == nil {
			s.metrics.failed()
			s.log.Warn("read model refresh failed; serving the loaded version", "err", err)
		}
	}
}
