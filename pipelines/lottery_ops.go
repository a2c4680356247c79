package pipelines

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/planning"
	"github.com/qcredit/qcredit/warehouse"
)

// Lottery makes the verifiable draws in two steps (DOMAIN.md, The random
// inspection draw): create fixes the pool, the inspectors (or agencies) and
// the rules from the warehouse, stores the seed secretly and publishes the
// commitment; draw reveals the seed with the beacon. Each step is a planning
// record, published by a run of the lottery job. The API's admin routes and
// `qcredit lottery` both call it.
type Lottery struct {
	store    LotteryStore
	registry *Registry
	runner   *Runner
	log      *slog.Logger
	opts     LotteryOptions
}

// LotteryOptions configure the draws.
type LotteryOptions struct {
	// AnnualRates per grade (default planning.DefaultAnnualRates).
	AnnualRates planning.GradeProbabilities
	// Random is the seeds' source (default crypto/rand.Reader).
	Random io.Reader
	// Now is the clock (default time.Now).
	Now func() time.Time
	// PublishWithin is how long a step waits for the lottery job when
	// another run of it is going (default 30 s).
	PublishWithin time.Duration
}

// NewLottery builds the draws over the warehouse; runner must hold the
// lottery job.
func NewLottery(store LotteryStore, runner *Runner, log *slog.Logger, opts LotteryOptions) *Lottery {
	if opts.AnnualRates == (planning.GradeProbabilities{}) {
		opts.AnnualRates = planning.DefaultAnnualRates()
	}
	if opts.Random == nil {
		opts.Random = rand.Reader
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.PublishWithin <= 0 {
		opts.PublishWithin = 30 * time.Second
	}
	return &Lottery{store: store, registry: NewRegistry(store), runner: runner, log: log, opts: opts}
}

// Errors of the draws' steps.
var (
	ErrDrawNotFound = errors.New("no such draw")
	ErrDrawExists   = errors.New("a draw with this id exists")
	ErrAlreadyDrawn = errors.New("the draw is already drawn")
	ErrNoFrame      = errors.New("nothing to draw from")
	// ErrInvalid marks a request that cannot be made as asked (a bad
	// period, an empty pool, a beacon that is blank): the message says why.
	ErrInvalid = errors.New("invalid request")
)

// invalid marks err as the request's fault.
func invalid(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrInvalid, err)
}

// CreateDrawRequest asks for an inspection draw (摇号).
type CreateDrawRequest struct {
	// ID is the draw's id ([a-z0-9-]); empty: draw-<period start>-<random>.
	ID           string `json:"id,omitempty"`
	Name         string `json:"name"`
	PeriodFrom   string `json:"period_from"` // YYYY-MM-DD
	PeriodTo     string `json:"period_to"`
	BeaconSource string `json:"beacon_source"`
	// Region (GB/T 2260: the city, a county), Industry (a GB/T 4754 prefix)
	// and Licence (a licence kind held on the day of creation) name the pool.
	Region   string `json:"region,omitempty"`
	Industry string `json:"industry,omitempty"`
	Licence  string `json:"licence,omitempty"`
	// AllowOwnCounty lets an inspector inspect firms of their own county
	// (by default they do not).
	AllowOwnCounty bool `json:"allow_own_county,omitempty"`
	// By names who asks (an API key, "cli"), for the audit.
	By string `json:"-"`
}

// Validate says what is wrong with the request.
func (r CreateDrawRequest) Validate() error {
	var errs []error
	if r.ID != "" {
		errs = append(errs, planning.ValidateDrawID(r.ID))
	}
	if strings.TrimSpace(r.Name) == "" {
		errs = append(errs, errors.New("name is required (--name)"))
	}
	if _, err := planning.ParsePeriod(r.PeriodFrom, r.PeriodTo); err != nil {
		errs = append(errs, fmt.Errorf("period_from %q and period_to %q (--period-from, --period-to): want two days YYYY-MM-DD, the first not after the second",
			r.PeriodFrom, r.PeriodTo))
	}
	if strings.TrimSpace(r.BeaconSource) == "" {
		errs = append(errs, errors.New("beacon source is required (--beacon-source): name the public value, out of the bureau's hands, that the draw will mix in"))
	}
	if r.Region != "" {
		if _, ok := model.LookupRegion(r.Region); !ok {
			errs = append(errs, fmt.Errorf("region %q is not a GB/T 2260 code", r.Region))
		}
	}
	if r.Industry != "" && !model.ValidIndustryPrefix(r.Industry) {
		errs = append(errs, fmt.Errorf("industry %q is not a GB/T 4754 section, division, group or class (C, C33, C331, C3311)", r.Industry))
	}
	if r.Licence != "" && !slices.Contains(licenceKinds(), r.Licence) {
		errs = append(errs, fmt.Errorf("licence %q is not one of %s", r.Licence, strings.Join(licenceKinds(), ", ")))
	}
	return errors.Join(errs...)
}

// licenceKinds are the kinds licence.granted may carry (the contract's enum).
func licenceKinds() []string {
	for _, f := range model.EventSpecs[model.EventLicenceGranted].Fields {
		if f.Name == "kind" {
			return f.Enum
		}
	}
	return nil
}

// CreatedDraw is what a create step published.
type CreatedDraw struct {
	ID       string          `json:"id"`
	Kind     DrawKind        `json:"kind"`
	Document json.RawMessage `json:"document"`
	Basis    DrawBasis       `json:"basis"`
	// Published is false when the lottery job could not run in time: the
	// draw is recorded and appears with the next run.
	Published bool `json:"published"`
}

// CreateDraw fixes an inspection draw's pool (firms with a current grade,
// filtered), inspectors and rules and publishes them with the commitment.
func (l *Lottery) CreateDraw(ctx context.Context, r CreateDrawRequest) (CreatedDraw, error) {
	if err := r.Validate(); err != nil {
		return CreatedDraw{}, invalid(err)
	}
	period, _ := planning.ParsePeriod(r.PeriodFrom, r.PeriodTo)
	id := r.ID
	if id == "" {
		id = "draw-" + period.From.Format("20060102") + "-" + l.suffix()
	}
	now := l.opts.Now()
	firms, basis, err := l.candidates(ctx, r, now)
	if err != nil {
		return CreatedDraw{}, err
	}
	inspectors, err := l.inspectors(ctx)
	if err != nil {
		return CreatedDraw{}, err
	}
	seed, err := planning.ReadSeed(l.opts.Random)
	if err != nil {
		return CreatedDraw{}, err
	}
	c, err := planning.CreateDraw(planning.CreateDrawInput{ID: id, Name: r.Name, Period: period, Firms: firms, Inspectors: inspectors,
		AnnualRates: l.opts.AnnualRates, ExcludeOwnCounty: !r.AllowOwnCounty, BeaconSource: r.BeaconSource, Seed: seed})
	if err != nil {
		return CreatedDraw{}, invalid(err)
	}
	basis.Ungraded, basis.CreatedBy = len(c.Ungraded), r.By
	return l.record(ctx, id, DrawKindInspection, c.Draw, map[string][]byte{"pool.csv": c.PoolCSV, "inspectors.csv": c.InspectorsCSV}, basis, seed)
}

// candidates are the registered firms matching the request's filters with
// the current score run's grades (empty for firms it did not grade) and
// their current county.
func (l *Lottery) candidates(ctx context.Context, r CreateDrawRequest, now time.Time) ([]planning.PoolFirm, DrawBasis, error) {
	basis := DrawBasis{Region: r.Region, Industry: r.Industry, Licence: r.Licence}
	wm, err := l.store.Watermark(ctx)
	if err != nil {
		return nil, basis, err
	}
	w := warehouse.Window{Cutoff: now, Watermark: wm}
	if wm.IsZero() {
		return nil, basis, fmt.Errorf("%w: the warehouse holds no events", ErrNoFrame)
	}
	grades, run, err := l.grades(ctx, now)
	if err != nil {
		return nil, basis, err
	}
	basis.ScoreRun = run
	held := map[model.USCC]bool{}
	if r.Licence != "" {
		rows, err := eventsOf(ctx, l.store, w, licenceTypes...)
		if err != nil {
			return nil, basis, err
		}
		today := Today(now).Date
		for _, lic := range licences(rows) {
			if lic.Kind == r.Licence && lic.heldOn(today) {
				held[lic.USCC] = true
			}
		}
	}
	var out []planning.PoolFirm
	err = l.store.FirmStates(ctx, w, func(f warehouse.FirmState) error {
		switch {
		case !f.DeregisteredAt.IsZero(),
			r.Region != "" && !inRegion(f.Region, r.Region),
			r.Industry != "" && !strings.HasPrefix(f.Industry, r.Industry),
			r.Licence != "" && !held[f.USCC]:
			return nil
		}
		out = append(out, planning.PoolFirm{USCC: f.USCC, Grade: grades[f.USCC], County: model.CurrentCounty(f.Region)})
		return nil
	})
	return out, basis, err
}

// grades are the current score run's grades by USCC, and its id.
func (l *Lottery) grades(ctx context.Context, now time.Time) (map[model.USCC]model.Grade, string, error) {
	runs, err := l.store.Runs(ctx, warehouse.RunFilter{Job: JobScore, Status: warehouse.RunSucceeded})
	if err != nil {
		return nil, "", err
	}
	run, ok := warehouse.CurrentRun(runs, JobScore, Today(now).String())
	if !ok {
		return nil, "", fmt.Errorf("%w: no score run yet, so no firm has a grade (run `qcredit pipeline run score`)", ErrNoFrame)
	}
	out := map[model.USCC]model.Grade{}
	err = l.store.ReadOutputs(ctx, warehouse.OutputQuery{Job: run.Job, Version: run.Version}, func(o warehouse.OutputRow) error {
		if g := model.Grade(o.Label); g.Valid() {
			out[model.USCC(o.USCC)] = g
		}
		return nil
	})
	return out, run.ID, err
}

// inspectors is the current pool: the inspectors not retired.
func (l *Lottery) inspectors(ctx context.Context) ([]planning.Inspector, error) {
	all, err := l.registry.Inspectors(ctx)
	if err != nil {
		return nil, err
	}
	return activeInspectors(all), nil
}

// suffix is 6 random hex digits, so ids made at once on two replicas differ.
func (l *Lottery) suffix() string {
	b := make([]byte, 3)
	if _, err := io.ReadFull(rand.Reader, b); err != nil {
		return "000000"
	}
	return hex.EncodeToString(b)
}

// record stores the seed and the created record, then publishes.
func (l *Lottery) record(ctx context.Context, id string, kind DrawKind, doc any, files map[string][]byte, basis DrawBasis,
	seed planning.Seed) (CreatedDraw, error) {
	existing, err := l.store.PlanningRecords(ctx, warehouse.RecordQuery{Kind: warehouse.RecordKindDraw, Key: id})
	if err != nil {
		return CreatedDraw{}, err
	}
	if len(existing) > 0 {
		return CreatedDraw{}, fmt.Errorf("%w: %s (choose another --id)", ErrDrawExists, id)
	}
	docJSON, err := json.Marshal(doc)
	if err != nil {
		return CreatedDraw{}, err
	}
	step := drawStep{Step: stepCreated, Kind: kind, Document: docJSON, Files: map[string]string{}, Basis: &basis, By: basis.CreatedBy}
	for name, b := range files {
		step.Files[name] = string(b)
	}
	body, err := json.Marshal(step)
	if err != nil {
		return CreatedDraw{}, err
	}
	if err := l.store.StoreDrawSeed(ctx, id, seed[:]); err != nil {
		return CreatedDraw{}, err
	}
	if _, err := l.store.AddPlanningRecord(ctx, warehouse.PlanningRecord{Kind: warehouse.RecordKindDraw, Key: id, Body: body}); err != nil {
		return CreatedDraw{}, err
	}
	l.log.Info("draw created", "draw", id, "kind", kind, "by", basis.CreatedBy) // never the seed
	return CreatedDraw{ID: id, Kind: kind, Document: docJSON, Basis: basis, Published: l.publish(ctx)}, nil
}

// publish runs the lottery job so the new step is published; while another
// run of it goes on (which may not have seen the step) it tries again until
// PublishWithin has passed.
func (l *Lottery) publish(ctx context.Context) bool {
	deadline := l.opts.Now().Add(l.opts.PublishWithin)
	wait := 100 * time.Millisecond
	for {
		_, err := l.runner.Run(ctx, RunRequest{Job: JobLottery})
		switch {
		case err == nil:
			return true
		case !errors.Is(err, ErrRunning) || l.opts.Now().After(deadline):
			l.log.Error("draws not published: run `qcredit pipeline run lottery`", "err", err)
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// DrawResult is what a draw step published.
type DrawResult struct {
	ID        string              `json:"id"`
	Kind      DrawKind            `json:"kind"`
	Status    planning.DrawStatus `json:"status"`
	Document  json.RawMessage     `json:"document"`
	Explain   DrawExplanation     `json:"explain"`
	Published bool                `json:"published"`
}

// Draw reveals a committed draw's seed with the beacon (the source's value
// as published) and draws. A draw already drawn is refused.
func (l *Lottery) Draw(ctx context.Context, id, beacon, by string) (DrawResult, error) {
	d, err := l.records(ctx, id)
	if err != nil {
		return DrawResult{}, err
	}
	if d.Drawn != nil {
		return DrawResult{}, fmt.Errorf("%w: %s", ErrAlreadyDrawn, id)
	}
	b, err := planning.NormaliseBeacon(beacon)
	if err != nil {
		return DrawResult{}, invalid(fmt.Errorf("beacon (--beacon): %w", err))
	}
	raw, err := l.store.DrawSeed(ctx, id)
	if err != nil {
		return DrawResult{}, err
	}
	var seed planning.Seed
	if len(raw) != len(seed) {
		return DrawResult{}, fmt.Errorf("the stored seed of %s has %d bytes, want %d", id, len(raw), len(seed))
	}
	copy(seed[:], raw)
	step := drawStep{Step: stepDrawn, Seed: seed.String(), Beacon: b, By: by}
	d.Drawn = &step
	p, err := publish(d) // refuses a seed that misses the commitment before anything is revealed
	if err != nil {
		return DrawResult{}, err
	}
	body, err := json.Marshal(step)
	if err != nil {
		return DrawResult{}, err
	}
	if _, err := l.store.AddPlanningRecord(ctx, warehouse.PlanningRecord{Kind: warehouse.RecordKindDraw, Key: id, Body: body}); err != nil {
		return DrawResult{}, err
	}
	// Two draws of one id at once: the first recorded counts.
	if again, err := l.records(ctx, id); err != nil || again.Drawn == nil || again.Drawn.Beacon != b || again.Drawn.By != by {
		return DrawResult{}, fmt.Errorf("%w: %s was drawn at the same time by another call", ErrAlreadyDrawn, id)
	}
	l.log.Info("draw drawn", "draw", id, "kind", p.Kind, "selected", p.Selected, "by", by)
	return DrawResult{ID: id, Kind: p.Kind, Status: p.Status, Document: p.Document, Explain: p.Explain, Published: l.publish(ctx)}, nil
}

// records are one draw's records.
func (l *Lottery) records(ctx context.Context, id string) (drawRecords, error) {
	if err := planning.ValidateDrawID(id); err != nil {
		return drawRecords{}, invalid(err)
	}
	recs, err := l.store.PlanningRecords(ctx, warehouse.RecordQuery{Kind: warehouse.RecordKindDraw, Key: id})
	if err != nil {
		return drawRecords{}, err
	}
	draws, err := foldDraws(recs)
	if err != nil {
		return drawRecords{}, err
	}
	if len(draws) == 0 {
		return drawRecords{}, fmt.Errorf("%w: %s", ErrDrawNotFound, id)
	}
	return draws[0], nil
}

// currentOutputs reads job's current run's outputs, with payloads.
func currentOutputs(ctx context.Context, src OutputReader, job string, today string) (warehouse.Run, []warehouse.OutputRow, error) {
	runs, err := src.Runs(ctx, warehouse.RunFilter{Job: job, Status: warehouse.RunSucceeded})
	if err != nil {
		return warehouse.Run{}, nil, err
	}
	run, ok := warehouse.CurrentRun(runs, job, today)
	if !ok {
		return warehouse.Run{}, nil, fmt.Errorf("%w: the %s job has not run yet (run `qcredit pipeline run %s`)", ErrNoFrame, job, job)
	}
	var out []warehouse.OutputRow
	err = src.ReadOutputs(ctx, warehouse.OutputQuery{Job: run.Job, Version: run.Version, Payload: true}, func(o warehouse.OutputRow) error {
		out = append(out, o)
		return nil
	})
	return run, out, err
}

// CreateRecheckRequest asks for the re-check draw of the recheck job's
// current frame.
type CreateRecheckRequest struct {
	ID           string `json:"id,omitempty"` // empty: recheck-<year>-<random>
	Name         string `json:"name"`
	BeaconSource string `json:"beacon_source"`
	By           string `json:"-"`
}

// CreateRecheck fixes a re-check draw from the recheck job's current
// output (the licensing year's firms, k, the firms added for their
// concerns) and the inspector pool, and publishes it with the commitment.
func (l *Lottery) CreateRecheck(ctx context.Context, r CreateRecheckRequest) (CreatedDraw, error) {
	if r.ID != "" {
		if err := planning.ValidateDrawID(r.ID); err != nil {
			return CreatedDraw{}, invalid(err)
		}
	}
	run, rows, err := currentOutputs(ctx, l.store, JobRecheck, Today(l.opts.Now()).String())
	if err != nil {
		return CreatedDraw{}, err
	}
	var sum RecheckSummary
	var pool []planning.LicensedFirm
	var concerns []planning.Concern
	for _, o := range rows {
		switch {
		case o.Key == "summary":
			err = json.Unmarshal(o.Payload, &sum)
		case strings.HasPrefix(o.Key, "pool/"):
			var f RecheckPoolFirm
			err = json.Unmarshal(o.Payload, &f)
			pool = append(pool, planning.LicensedFirm{USCC: f.USCC, County: f.County})
		case strings.HasPrefix(o.Key, "concern/"):
			var c RecheckConcern
			err = json.Unmarshal(o.Payload, &c)
			concerns = append(concerns, planning.Concern{USCC: c.USCC, County: c.County, Complaints: c.Complaints, Problems: c.Problems})
		}
		if err != nil {
			return CreatedDraw{}, fmt.Errorf("output %s of %s: %w", o.Key, run.ID, err)
		}
	}
	id := r.ID
	if id == "" {
		id = fmt.Sprintf("recheck-%d-%s", sum.Year, l.suffix())
	}
	inspectors, err := l.inspectors(ctx)
	if err != nil {
		return CreatedDraw{}, err
	}
	seed, err := planning.ReadSeed(l.opts.Random)
	if err != nil {
		return CreatedDraw{}, err
	}
	c, err := planning.CreateRecheck(planning.CreateRecheckInput{ID: id, Name: r.Name, Year: sum.Year, Licensed: pool, Concerns: concerns,
		Inspectors: inspectors, Config: sum.Config(), BeaconSource: r.BeaconSource, Seed: seed})
	if err != nil {
		return CreatedDraw{}, invalid(err)
	}
	basis := DrawBasis{Licence: strings.Join(sum.Kinds, ","), RecheckRun: run.ID, CreatedBy: r.By}
	return l.record(ctx, id, DrawKindRecheck, c.Recheck, map[string][]byte{"pool.csv": c.PoolCSV, "inspectors.csv": c.InspectorsCSV}, basis, seed)
}

// CreateAssignmentRequest asks for the assignment of the current plan's
// batches among the testing agencies.
type CreateAssignmentRequest struct {
	ID           string `json:"id,omitempty"` // empty: assign-<year>-<random>
	Name         string `json:"name"`
	BeaconSource string `json:"beacon_source"`
	// OutsideCity lets agencies outside the city compete.
	OutsideCity bool   `json:"outside_city,omitempty"`
	By          string `json:"-"`
}

// CreateAssignment fixes an assignment of the plan job's current batches
// (numbered per quarter) among the registry's qualified agencies — those
// that applied for the plan's year (agency.applied) when any did — and
// publishes it with the commitment.
func (l *Lottery) CreateAssignment(ctx context.Context, r CreateAssignmentRequest) (CreatedDraw, error) {
	if r.ID != "" {
		if err := planning.ValidateDrawID(r.ID); err != nil {
			return CreatedDraw{}, invalid(err)
		}
	}
	now := l.opts.Now()
	run, rows, err := currentOutputs(ctx, l.store, JobPlan, Today(now).String())
	if err != nil {
		return CreatedDraw{}, err
	}
	plan, err := planFromOutputs(rows)
	if err != nil {
		return CreatedDraw{}, fmt.Errorf("plan %s: %w", run.ID, err)
	}
	agencies, apps, err := l.competitors(ctx, plan.Year, now)
	if err != nil {
		return CreatedDraw{}, err
	}
	id := r.ID
	if id == "" {
		id = fmt.Sprintf("assign-%d-%s", plan.Year, l.suffix())
	}
	seed, err := planning.ReadSeed(l.opts.Random)
	if err != nil {
		return CreatedDraw{}, err
	}
	c, err := planning.CreateAssignment(planning.CreateAssignmentInput{ID: id, Name: r.Name,
		Plan: fmt.Sprintf("%s (%d, %s)", run.ID, plan.Year, plan.RulesVersion), Batches: plan.NumberBatches(), Agencies: agencies,
		Rules: planning.AssignmentRules{OutsideCity: r.OutsideCity}, BeaconSource: r.BeaconSource, Seed: seed})
	if err != nil {
		return CreatedDraw{}, invalid(err)
	}
	basis := DrawBasis{PlanRun: run.ID, Applications: apps, CreatedBy: r.By}
	return l.record(ctx, id, DrawKindAssignment, c.Assignment, map[string][]byte{"batches.csv": c.BatchesCSV, "agencies.csv": c.AgenciesCSV}, basis, seed)
}

// planFromOutputs rebuilds a plan from the plan job's outputs.
func planFromOutputs(rows []warehouse.OutputRow) (planning.Plan, error) {
	var p planning.Plan
	for _, o := range rows {
		switch {
		case o.Key == "plan":
			var s PlanSummary
			if err := json.Unmarshal(o.Payload, &s); err != nil {
				return p, err
			}
			p.Year, p.RulesVersion, p.Batches, p.Quarters = s.Year, s.RulesVersion, s.Batches, s.Quarters
		case strings.HasPrefix(o.Key, "line/"):
			var line planning.PlanLine
			if err := json.Unmarshal(o.Payload, &line); err != nil {
				return p, err
			}
			p.Lines = append(p.Lines, line)
		}
	}
	if p.Year == 0 {
		return p, errors.New("no plan summary")
	}
	return p, nil
}

// competitors are the registry's agencies (not removed) with the products
// they are qualified for; when agencies applied for year, only those, for
// the products they applied for (qualified and applied).
func (l *Lottery) competitors(ctx context.Context, year int, now time.Time) ([]planning.Agency, []string, error) {
	all, err := l.registry.Agencies(ctx)
	if err != nil {
		return nil, nil, err
	}
	wm, err := l.store.Watermark(ctx)
	if err != nil {
		return nil, nil, err
	}
	var apps []application
	if !wm.IsZero() {
		rows, err := eventsOf(ctx, l.store, warehouse.Window{Cutoff: now, Watermark: wm}, model.EventAgencyApplied)
		if err != nil {
			return nil, nil, err
		}
		if apps, err = applications(rows, year); err != nil {
			return nil, nil, err
		}
	}
	applied := map[string][]string{}
	var ids []string
	for _, a := range apps {
		applied[a.AgencyID] = append(applied[a.AgencyID], a.Products...)
		ids = append(ids, a.EventID)
	}
	var out []planning.Agency
	for _, e := range all {
		if e.Removed {
			continue
		}
		products := e.Products
		if len(apps) > 0 {
			products = slices.DeleteFunc(slices.Clone(products), func(p string) bool { return !slices.Contains(applied[e.ID], p) })
		}
		if len(products) > 0 {
			out = append(out, planning.Agency{ID: e.ID, Name: e.Name, InCity: e.InCity, Products: products})
		}
	}
	if len(out) == 0 {
		return nil, nil, fmt.Errorf("%w: no testing agency of the registry is qualified (and applied for %d): add agencies through the admin API", ErrNoFrame, year)
	}
	slices.Sort(ids)
	return out, ids, nil
}

// Registry is the inspector pool and agency registry the draws take.
func (l *Lottery) Registry() *Registry { return l.registry }
