package pipelines_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qcredit/qcredit/ingest"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/pipelines"
	"github.com/qcredit/qcredit/planning"
	"github.com/qcredit/qcredit/warehouse"
	"github.com/qcredit/qcredit/warehouse/clickhouse"
	"github.com/qcredit/qcredit/warehouse/duckdb"
	"github.com/qcredit/qcredit/warehouse/duckdb/duckdbtest"
)

// planningBackend is what the planning jobs and the draws need of a warehouse.
type planningBackend interface {
	backend
	pipelines.LotteryStore
	pipelines.PlanSource
	pipelines.KPISource
}

// planningRunner has every job; the lottery takes its seeds from a fixed
// stream, so two warehouses given the same steps make the same draws.
func planningRunner(t *testing.T, s planningBackend) (*pipelines.Runner, *pipelines.Lottery) {
	t.Helper()
	rules, err := planning.DefaultPlanRules()
	if err != nil {
		t.Fatal(err)
	}
	jobs := []pipelines.Job{
		scoreJob(t, s, defaultScorecard(t)),
		pipelines.NewPlanJob(s, rules, quiet),
		pipelines.NewKPIJob(s, pipelines.DefaultKPIConfig(), quiet),
		pipelines.NewRecheckJob(s, pipelines.DefaultRecheckJobConfig(), quiet),
		pipelines.NewLotteryJob(s, quiet),
	}
	r, err := pipelines.NewRunner(s, quiet, pipelines.RunnerOptions{Jobs: jobs})
	if err != nil {
		t.Fatal(err)
	}
	// The draws run on the real clock: their records are stamped with it.
	return r, pipelines.NewLottery(s, r, quiet, pipelines.LotteryOptions{Random: &seedStream{}})
}

// simNow is a moment of the day after the simulation ends.
var simNow = time.Date(2026, 7, 1, 10, 0, 0, 0, model.Shanghai)

// seedStream yields SHA-256("seed 0"), SHA-256("seed 1"), … : test seeds.
type seedStream struct{ n int }

func (s *seedStream) Read(p []byte) (int, error) {
	sum := sha256.Sum256(fmt.Appendf(nil, "seed %d", s.n))
	s.n++
	return copy(p, sum[:]), nil
}

func run(t *testing.T, r *pipelines.Runner, job string) warehouse.Run {
	t.Helper()
	out, err := r.Run(t.Context(), pipelines.RunRequest{Job: job, AsOf: simAsOf})
	if err != nil {
		t.Fatalf("%s: %v", job, err)
	}
	return out
}

// outputs are a run's outputs by key, with payloads.
func outputs(t *testing.T, s backend, run warehouse.Run) map[string]warehouse.OutputRow {
	t.Helper()
	out := map[string]warehouse.OutputRow{}
	err := s.ReadOutputs(t.Context(), warehouse.OutputQuery{Job: run.Job, Version: run.Version, Payload: true},
		func(o warehouse.OutputRow) error { out[o.Key] = o; return nil })
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// registerPools puts four inspectors and three testing agencies in the registry.
func registerPools(t *testing.T, l *pipelines.Lottery, products []string) {
	t.Helper()
	reg := l.Registry()
	for i, county := range []string{"320812", "320830", "320803", "320800"} {
		if _, err := reg.PutInspector(t.Context(), pipelines.InspectorEntry{ID: fmt.Sprintf("I-%02d", i+1), Name: "检查员" + county, County: county}); err != nil {
			t.Fatal(err)
		}
	}
	agencies := []pipelines.AgencyEntry{
		{ID: "AG-HA", Name: "淮安市产品质量监督检验所", InCity: true, Products: products},
		{ID: "AG-NJ", Name: "南京某检测中心", InCity: false, Products: products},
		{ID: "AG-XY", Name: "盱眙县检验检测中心", InCity: true, Products: products[:max(1, len(products)/2)]},
	}
	for _, a := range agencies {
		if _, err := reg.PutAgency(t.Context(), a); err != nil {
			t.Fatal(err)
		}
	}
}

// planningSteps runs every planning job and makes and draws one draw of
// each kind, returning the runs by job (the lottery's last).
func planningSteps(t *testing.T, s planningBackend) map[string]warehouse.Run {
	t.Helper()
	r, l := planningRunner(t, s)
	runs := map[string]warehouse.Run{}
	for _, job := range []string{pipelines.JobScore, pipelines.JobPlan, pipelines.JobKPI, pipelines.JobRecheck} {
		runs[job] = run(t, r, job)
	}
	var products []string
	for k := range outputs(t, s, runs[pipelines.JobPlan]) {
		if p, ok := strings.CutPrefix(k, "line/"); ok {
			products = append(products, p)
		}
	}
	slices.Sort(products)
	registerPools(t, l, products)
	ctx := t.Context()
	if _, err := l.CreateDraw(ctx, pipelines.CreateDrawRequest{ID: "draw-2026q3-xuyi", Name: "2026年第三季度盱眙县双随机抽查",
		PeriodFrom: "2026-07-01", PeriodTo: "2026-09-30", BeaconSource: "上证指数2026年7月3日收盘点位", Region: "320830"}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.CreateRecheck(ctx, pipelines.CreateRecheckRequest{ID: "recheck-2025", Name: "2025年度新取得证企业10%复查",
		BeaconSource: "上证指数2026年7月6日收盘点位"}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.CreateAssignment(ctx, pipelines.CreateAssignmentRequest{ID: "assign-2027", Name: "2027年监督抽查承检机构分配",
		BeaconSource: "上证指数2026年7月7日收盘点位", OutsideCity: true}); err != nil {
		t.Fatal(err)
	}
	for id, beacon := range map[string]string{"draw-2026q3-xuyi": "3268.15", "recheck-2025": "3301.02", "assign-2027": " 3299.9\n"} {
		res, err := l.Draw(ctx, id, beacon, "test")
		if err != nil || !res.Published || res.Status != planning.DrawStatusDrawn {
			t.Fatalf("draw %s: %+v %v", id, res, err)
		}
	}
	runs[pipelines.JobLottery] = lastRun(t, s, pipelines.JobLottery)
	return runs
}

func lastRun(t *testing.T, s backend, job string) warehouse.Run {
	t.Helper()
	runs, err := s.Runs(t.Context(), warehouse.RunFilter{Job: job, Status: warehouse.RunSucceeded})
	if err != nil || len(runs) == 0 {
		t.Fatalf("runs of %s: %v %v", job, runs, err)
	}
	return slices.MaxFunc(runs, func(a, b warehouse.Run) int { return a.Version - b.Version })
}

func TestPlanningJobsAreIdenticalOnBothBackends(t *testing.T) {
	// Given the same simulated city imported into DuckDB and ClickHouse,
	// when score, plan, kpi and recheck run as of the same day and the same
	// draws (an inspection draw, a re-check, an assignment) are created and
	// drawn with the same seeds and beacons, then every job's run has the
	// same digest and counts on both, and the outputs are not empty.
	lines := simulatedLines(t, 1500, 5)
	all := map[string]map[string]warehouse.Run{}
	// Reporting delays run to when the warehouse stored each event: both
	// stamp with the same stopped clock (each stamp a microsecond after the
	// last), so their delays in whole seconds agree.
	stopped := func() time.Time { return simNow }
	for name, s := range bothBackends(t) {
		switch st := s.(type) {
		case *duckdb.Store:
			st.Clock = stopped
		case *clickhouse.Store:
			st.Clock = stopped
		}
		if _, err := (ingest.Importer{Store: s}).Import(t.Context(), "sim.jsonl", bytes.NewReader(lines)); err != nil {
			t.Fatal(err)
		}
		all[name] = planningSteps(t, s.(planningBackend))
	}
	for _, job := range []string{pipelines.JobPlan, pipelines.JobKPI, pipelines.JobRecheck, pipelines.JobLottery} {
		d, c := all["duckdb"][job], all["clickhouse"][job]
		t.Logf("%s: %s %v", job, d.Digest[:12], d.Counts)
		if d.Digest != c.Digest || d.Digest == "" {
			t.Errorf("%s: DuckDB digest %s, ClickHouse %s", job, d.Digest, c.Digest)
		}
		for k, v := range d.Counts {
			if k != "late_events" && c.Counts[k] != v {
				t.Errorf("%s count %s: DuckDB %d, ClickHouse %d", job, k, v, c.Counts[k])
			}
		}
	}
	d := all["duckdb"]
	if d[pipelines.JobPlan].Counts["batches"] == 0 || d[pipelines.JobKPI].Counts["county_months"] != 9*12 ||
		d[pipelines.JobRecheck].Counts["pool"] == 0 || d[pipelines.JobLottery].Counts["drawn"] != 3 {
		t.Errorf("counts: plan %v, kpi %v, recheck %v, lottery %v", d[pipelines.JobPlan].Counts, d[pipelines.JobKPI].Counts,
			d[pipelines.JobRecheck].Counts, d[pipelines.JobLottery].Counts)
	}
}

// simulatedCity is a DuckDB warehouse with a small simulated city scored.
func simulatedCity(t *testing.T) (planningBackend, *pipelines.Runner, *pipelines.Lottery) {
	t.Helper()
	s := duckdbtest.Open(t)
	if _, err := (ingest.Importer{Store: s}).Import(t.Context(), "sim.jsonl", bytes.NewReader(simulatedLines(t, 600, 9))); err != nil {
		t.Fatal(err)
	}
	r, l := planningRunner(t, s)
	run(t, r, pipelines.JobScore)
	return s, r, l
}

func TestDrawIsPublishedThenVerifies(t *testing.T) {
	// Given a scored city and an inspector pool, when a draw is created,
	// then the lottery job publishes it committed — document, pool.csv and
	// inspectors.csv whose SHA-256 are the published ones, no seed anywhere
	// in its outputs; when it is drawn with a beacon, then the published
	// document carries the seed and beacon and verifies from the published
	// outputs alone; a second draw is refused.
	s, _, l := simulatedCity(t)
	registerPools(t, l, []string{"大米"})
	created, err := l.CreateDraw(t.Context(), pipelines.CreateDrawRequest{Name: "全市双随机", PeriodFrom: "2026-07-01",
		PeriodTo: "2026-12-31", BeaconSource: "上证指数2026年7月3日收盘点位", By: "test"})
	if err != nil || !created.Published || !strings.HasPrefix(created.ID, "draw-20260701-") {
		t.Fatalf("create: %+v %v", created, err)
	}
	committed := outputs(t, s, lastRun(t, s, pipelines.JobLottery))
	seed, err := s.DrawSeed(t.Context(), created.ID)
	if err != nil {
		t.Fatal(err)
	}
	for k, o := range committed {
		if bytes.Contains(o.Payload, []byte(fmt.Sprintf("%x", seed))) {
			t.Errorf("output %s holds the seed before the draw", k)
		}
	}
	doc, err := planning.ParseDraw(committed[created.ID].Payload)
	if err != nil || doc.Status != planning.DrawStatusCommitted || doc.Seed != "" {
		t.Fatalf("committed document: %+v %v", doc, err)
	}
	pool, insp := committed[created.ID+"/pool.csv"].Payload, committed[created.ID+"/inspectors.csv"].Payload
	if fmt.Sprintf("%x", sha256.Sum256(pool)) != doc.PoolSHA256 || fmt.Sprintf("%x", sha256.Sum256(insp)) != doc.InspectorsSHA256 ||
		strings.Contains(string(insp), "检查员") {
		t.Errorf("published files do not hash to the document's SHA-256, or name inspectors:\n%s", insp)
	}

	if _, err := l.Draw(t.Context(), created.ID, "3268.15", "test"); err != nil {
		t.Fatal(err)
	}
	drawn := outputs(t, s, lastRun(t, s, pipelines.JobLottery))
	final, err := planning.ParseDraw(drawn[created.ID].Payload)
	if err != nil || final.Status != planning.DrawStatusDrawn || final.Seed != fmt.Sprintf("%x", seed) || final.Beacon != "3268.15" || len(final.Drawn) == 0 {
		t.Fatalf("drawn document: %+v %v", final, err)
	}
	v := planning.VerifyDraw(planning.VerifyDrawInput{Draw: final, PoolCSV: drawn[created.ID+"/pool.csv"].Payload,
		InspectorsCSV: drawn[created.ID+"/inspectors.csv"].Payload, Committed: &doc})
	if !v.OK() {
		t.Errorf("the published draw does not verify: %v", v.Err())
	}
	var explain pipelines.DrawExplanation
	if err := json.Unmarshal(drawn[created.ID+"/explain"].Payload, &explain); err != nil || len(explain.Strata) != 4 ||
		explain.Basis.ScoreRun != "score-1" || explain.Checks == 0 {
		t.Errorf("explanation: %+v %v", explain, err)
	}
	if _, err := l.Draw(t.Context(), created.ID, "3268.15", "test"); err == nil {
		t.Error("a second draw was accepted")
	}
}

func TestPlanTakesSuggestionsAndKPIListsOverdueComplaints(t *testing.T) {
	// Given a scored city, a county bureau's suggestion of 4 batches of 大米
	// for the plan year and a complaint received on 2 June 2026 and never
	// decided, when plan and kpi run as of 30 June, then 大米's line has the
	// suggestion's batches with its reason, and the complaint is overdue for
	// a decision in its county: due by 11 June, 12 working days late (the
	// Dragon Boat holiday on the 19th does not count).
	s, r, _ := simulatedCity(t)
	extra := `{"id":"320830-sugg-1","type":"plan.suggested","source":"320830","occurred_at":"2026-05-10T09:00:00+08:00",` +
		`"data":{"suggestion_id":"JY-2027-1","year":2027,"product":"大米","batches":4,"note":"群众反映较多"}}` + "\n" +
		`{"id":"320830-k-late","type":"complaint.received","uscc":"` + string(someFirm(t, s)) + `","source":"320830",` +
		`"occurred_at":"2026-06-02T09:00:00+08:00","data":{"complaint_id":"TS-LATE-1","product":"大米"}}` + "\n"
	if _, err := (ingest.Importer{Store: s}).Import(t.Context(), "extra.jsonl", strings.NewReader(extra)); err != nil {
		t.Fatal(err)
	}
	plan := outputs(t, s, run(t, r, pipelines.JobPlan))
	var line planning.PlanLine
	if err := json.Unmarshal(plan["line/大米"].Payload, &line); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(line.Reasons, func(x model.Reason) bool { return x.Rule == "plan.county_suggestion" })
	if i < 0 || !strings.Contains(line.Reasons[i].Detail, "320830 asks 4") || !slices.Contains(line.Reasons[i].Events, "320830-sugg-1") {
		t.Errorf("大米: %+v", line)
	}
	kpi := outputs(t, s, run(t, r, pipelines.JobKPI))
	o, ok := kpi["complaint/320830/TS-LATE-1/decision"]
	var oc planning.OverdueComplaint
	if !ok || json.Unmarshal(o.Payload, &oc) != nil || oc.Deadline != "2026-06-11" || oc.WorkingDaysLate != 12 {
		t.Errorf("overdue complaint: %+v %s", oc, o.Payload)
	}
	if _, ok := kpi["kpi/320830/2026-06"]; !ok {
		t.Errorf("no KPIs of 320830 for 2026-06")
	}
}

// someFirm is a registered firm of 盱眙县.
func someFirm(t *testing.T, s planningBackend) model.USCC {
	t.Helper()
	var out model.USCC
	wm, err := s.Watermark(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	err = s.FirmStates(t.Context(), warehouse.Window{Cutoff: simNow, Watermark: wm}, func(f warehouse.FirmState) error {
		if out == "" && f.Region == "320830" {
			out = f.USCC
		}
		return nil
	})
	if err != nil || out == "" {
		t.Fatalf("no firm of 320830: %v", err)
	}
	return out
}

func TestPlanningRunsAreReproducible(t *testing.T) {
	// Given plan, kpi and recheck runs, when late reports that occurred
	// before the as_of arrive, then a re-run --like each run has its digest
	// exactly, while a plain re-run reads them.
	s, r, _ := simulatedCity(t)
	first := map[string]warehouse.Run{}
	for _, job := range []string{pipelines.JobPlan, pipelines.JobKPI, pipelines.JobRecheck} {
		first[job] = run(t, r, job)
	}
	u := someFirm(t, s)
	late := fmt.Sprintf(`{"id":"320830-late-lic","type":"licence.granted","uscc":"%[1]s","source":"320830","occurred_at":"2025-05-01T09:00:00+08:00","data":{"licence_no":"XK-LATE","kind":"industrial_product"}}
{"id":"320830-late-k","type":"complaint.received","uscc":"%[1]s","source":"320830","occurred_at":"2026-06-20T09:00:00+08:00","data":{"complaint_id":"K-LATE","product":"大米"}}
`, u)
	if _, err := (ingest.Importer{Store: s}).Import(t.Context(), "late.jsonl", strings.NewReader(late)); err != nil {
		t.Fatal(err)
	}
	for job, f := range first {
		like, err := r.Run(context.WithoutCancel(t.Context()), pipelines.RunRequest{Job: job, Like: f.ID})
		if err != nil || like.Digest != f.Digest {
			t.Errorf("%s --like %s: digest %s, want %s (%v)", job, f.ID, like.Digest, f.Digest, err)
		}
		plain := run(t, r, job)
		if plain.Digest == f.Digest || plain.Counts["late_events"] != 2 {
			t.Errorf("%s plain re-run: %s late %d, want a new digest and 2 late events", job, plain.Digest, plain.Counts["late_events"])
		}
	}
}
