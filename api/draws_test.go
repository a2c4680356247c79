package api_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/qcredit/qcredit/api"
	"github.com/qcredit/qcredit/api/apitest"
	"github.com/qcredit/qcredit/ingest"
	"github.com/qcredit/qcredit/pipelines"
	"github.com/qcredit/qcredit/planning"
	"github.com/qcredit/qcredit/scoring"
	"github.com/qcredit/qcredit/serving"
	"github.com/qcredit/qcredit/simulate"
	"github.com/qcredit/qcredit/warehouse/duckdb/duckdbtest"
)

// planningAPI is an API over a small simulated city with every planning
// job run as of its last day, and the read model to refresh after a step.
type planningAPI struct {
	srv *apitest.Server
	rm  *serving.Store
}

func newPlanningAPI(t *testing.T) planningAPI {
	t.Helper()
	s := duckdbtest.Open(t)
	var buf bytes.Buffer
	end := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	if _, err := simulate.Generate(simulate.Config{Enterprises: 400, Years: 2, Seed: 21, End: end},
		func(line []byte) error { buf.Write(line); buf.WriteByte('\n'); return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := (ingest.Importer{Store: s}).Import(t.Context(), "sim.jsonl", &buf); err != nil {
		t.Fatal(err)
	}
	sc, err := scoring.Default()
	if err != nil {
		t.Fatal(err)
	}
	rules, err := planning.DefaultPlanRules()
	if err != nil {
		t.Fatal(err)
	}
	r, err := pipelines.NewRunner(s, quiet, pipelines.RunnerOptions{Jobs: []pipelines.Job{scoreJob(t, s, sc),
		pipelines.NewPlanJob(s, rules, quiet), pipelines.NewKPIJob(s, pipelines.DefaultKPIConfig(), quiet),
		pipelines.NewRecheckJob(s, pipelines.DefaultRecheckJobConfig(), quiet), pipelines.NewLotteryJob(s, quiet)}})
	if err != nil {
		t.Fatal(err)
	}
	for _, job := range []string{pipelines.JobScore, pipelines.JobPlan, pipelines.JobKPI, pipelines.JobRecheck} {
		if _, err := r.Run(t.Context(), pipelines.RunRequest{Job: job, AsOf: end.Format("2006-01-02")}); err != nil {
			t.Fatal(err)
		}
	}
	rm, err := serving.NewStore(s, quiet, serving.Options{Parts: []serving.PartLoader{serving.OutputsLoader(pipelines.JobLottery),
		serving.OutputsLoader(pipelines.JobKPI), serving.OutputsLoader(pipelines.JobPlan), serving.OutputsLoader(pipelines.JobRecheck)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := rm.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	srv := apitest.Start(t, s, rm, api.Options{Draws: pipelines.NewLottery(s, r, quiet, pipelines.LotteryOptions{})})
	return planningAPI{srv: srv, rm: rm}
}

// refresh loads what the last step published into the read model.
func (p planningAPI) refresh(t *testing.T) {
	t.Helper()
	if _, err := p.rm.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// send makes a request with a JSON body, with the key its route needs
// (admin routes an admin key, public ones none, others an analyst key),
// checks the response against the contract and decodes it into out.
func (p planningAPI) send(t *testing.T, method, path string, body any, wantStatus int, out any) []byte {
	t.Helper()
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	scope := api.ScopeAnalyst
	switch {
	case strings.HasPrefix(path, "/admin/"):
		scope = api.ScopeAdmin
	case strings.HasPrefix(path, "/public/"):
		scope = ""
	}
	resp := p.srv.Do(t, method, "/api/v1"+path, scope, b, wantStatus, nil)
	got, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(got, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, got)
		}
	}
	return got
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestDrawThroughTheAPI(t *testing.T) {
	// Given a scored city and an inspector pool put through the admin
	// routes, when an admin creates a draw, then the public sees it
	// committed, with files whose SHA-256 are the published ones and no
	// inspector's name; when the admin draws it with a beacon, then the
	// public document carries seed and beacon and recomputes from what the
	// public routes serve alone; a second draw is refused (409), and so is
	// a request without a period (400).
	p := newPlanningAPI(t)
	var empty pipelines.DrawIndex
	p.send(t, "GET", "/public/draws", nil, http.StatusOK, &empty)
	if len(empty.Draws) != 0 {
		t.Fatalf("draws before any: %+v", empty)
	}
	for i, county := range []string{"320812", "320830", "320803", "320800"} {
		p.send(t, "PUT", fmt.Sprintf("/admin/inspectors/I-%d", i), api.InspectorBody{Name: "检查员甲乙丙丁"[i*3 : i*3+3], County: county}, http.StatusOK, nil)
	}
	var created pipelines.CreatedDraw
	p.send(t, "POST", "/admin/draws", pipelines.CreateDrawRequest{ID: "draw-2026q3", Name: "2026年第三季度双随机抽查",
		PeriodFrom: "2026-07-01", PeriodTo: "2026-09-30", BeaconSource: "上证指数2026年7月3日收盘点位"}, http.StatusCreated, &created)
	p.refresh(t)

	var list pipelines.DrawIndex
	p.send(t, "GET", "/public/draws", nil, http.StatusOK, &list)
	if len(list.Draws) != 1 || list.Draws[0].ID != "draw-2026q3" || list.Draws[0].Status != planning.DrawStatusCommitted {
		t.Fatalf("list: %+v", list)
	}
	doc := p.send(t, "GET", "/public/draws/draw-2026q3", nil, http.StatusOK, nil)
	pool := p.send(t, "GET", "/public/draws/draw-2026q3/pool.csv", nil, http.StatusOK, nil)
	insp := p.send(t, "GET", "/public/draws/draw-2026q3/inspectors.csv", nil, http.StatusOK, nil)
	var committed planning.Draw
	if err := json.Unmarshal(doc, &committed); err != nil || committed.PoolSHA256 != sha(pool) || committed.InspectorsSHA256 != sha(insp) ||
		committed.Seed != "" || strings.Contains(string(insp), "检查员") {
		t.Fatalf("committed draw %s\ninspectors.csv:\n%s", doc, insp)
	}

	var drawn pipelines.DrawResult
	p.send(t, "POST", "/admin/draws/draw-2026q3/draw", api.DrawStep{Beacon: "3268.15"}, http.StatusOK, &drawn)
	p.refresh(t)
	doc = p.send(t, "GET", "/public/draws/draw-2026q3", nil, http.StatusOK, nil)
	files := map[string][]byte{"pool.csv": p.send(t, "GET", "/public/draws/draw-2026q3/pool.csv", nil, http.StatusOK, nil),
		"inspectors.csv": p.send(t, "GET", "/public/draws/draw-2026q3/inspectors.csv", nil, http.StatusOK, nil)}
	kind, v, err := pipelines.VerifyPublished(doc, files, nil)
	if err != nil || kind != pipelines.DrawKindInspection || !v.OK() || !bytes.Contains(doc, []byte(`"seed":"`)) {
		t.Errorf("drawn draw %s: %v %v", doc, err, v.Err())
	}
	if !bytes.Equal(doc, drawn.Document) {
		t.Errorf("the admin saw %s, the public %s", drawn.Document, doc)
	}
	p.send(t, "POST", "/admin/draws/draw-2026q3/draw", api.DrawStep{Beacon: "1"}, http.StatusConflict, nil)
	p.send(t, "POST", "/admin/draws", map[string]string{"name": "x", "beacon_source": "y"}, http.StatusBadRequest, nil)
	p.send(t, "GET", "/public/draws/draw-2026q3/secrets.csv", nil, http.StatusNotFound, nil)
	var explain pipelines.DrawExplanation
	p.send(t, "GET", "/draws/draw-2026q3/explain", nil, http.StatusOK, &explain)
	if len(explain.Strata) != 4 || explain.Basis.ScoreRun != "score-1" {
		t.Errorf("explanation: %+v", explain)
	}
}

func TestPlanningAnalystRoutes(t *testing.T) {
	// Given the planning jobs' current runs in the read model, then the plan
	// answers as JSON and exports as CSV (BOM, Chinese and English headers)
	// and XLSX; the KPIs of one county are its 12 months, filtered by
	// month; overdue complaints, the self-correction report and the
	// re-check frame answer; a county that is no Huai'an bureau is a 400.
	p := newPlanningAPI(t)
	var plan api.PlanView
	p.send(t, "GET", "/plan", nil, http.StatusOK, &plan)
	if plan.Run.ID != "plan-1" || len(plan.Lines) == 0 || !bytes.Contains(plan.Summary, []byte(`"year":2027`)) {
		t.Errorf("plan: %+v", plan)
	}
	csv := p.send(t, "GET", "/plan?format=csv", nil, http.StatusOK, nil)
	if !bytes.HasPrefix(csv, []byte("\xef\xbb\xbf产品 (Product),行业 (Industry)")) || bytes.Count(csv, []byte("plan.base")) != len(plan.Lines) {
		t.Errorf("plan CSV:\n%.300s", csv)
	}
	if xlsx := p.send(t, "GET", "/plan?format=xlsx", nil, http.StatusOK, nil); !bytes.HasPrefix(xlsx, []byte("PK")) {
		t.Errorf("plan XLSX starts %q", xlsx[:min(8, len(xlsx))])
	}
	var kpis api.KPIView
	p.send(t, "GET", "/kpis?county=320830", nil, http.StatusOK, &kpis)
	if len(kpis.KPIs) != 12 {
		t.Fatalf("KPIs of 320830: %d months", len(kpis.KPIs))
	}
	for _, k := range kpis.KPIs {
		if !bytes.Contains(k, []byte(`"county":"320830"`)) {
			t.Errorf("KPI of another county: %s", k)
		}
	}
	p.send(t, "GET", "/kpis?county=320830&from=2026-05&to=2026-06", nil, http.StatusOK, &kpis)
	if len(kpis.KPIs) != 2 || !bytes.Contains(kpis.KPIs[0], []byte(`"month":"2026-05"`)) {
		t.Errorf("KPIs of May and June: %s", kpis.KPIs)
	}
	p.send(t, "GET", "/kpis?county=110101", nil, http.StatusBadRequest, nil)
	var overdue api.OverdueView
	p.send(t, "GET", "/complaints/overdue", nil, http.StatusOK, &overdue)
	var sc api.SelfCorrectionView
	p.send(t, "GET", "/equipment/self-correction?below=true", nil, http.StatusOK, &sc)
	for _, u := range sc.Units {
		if !bytes.Contains(u, []byte(`"below":true`)) {
			t.Errorf("a unit not below the target: %s", u)
		}
	}
	var re api.RecheckView
	p.send(t, "GET", "/rechecks", nil, http.StatusOK, &re)
	if !bytes.Contains(re.Summary, []byte(`"year":2025`)) {
		t.Errorf("re-check summary %s", re.Summary)
	}
	t.Logf("%d plan lines, %d overdue complaints, %d units below 90 %%, %d re-check concerns", len(plan.Lines), len(overdue.Complaints),
		len(sc.Units), len(re.Concerns))
}
