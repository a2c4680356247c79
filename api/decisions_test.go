package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qcredit/qcredit/api"
	"github.com/qcredit/qcredit/api/apitest"
	"github.com/qcredit/qcredit/clusters"
	"github.com/qcredit/qcredit/lists"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/pipelines"
	"github.com/qcredit/qcredit/planning"
	"github.com/qcredit/qcredit/serving"
	"github.com/qcredit/qcredit/warehouse"
	"github.com/qcredit/qcredit/warehouse/duckdb"
	"github.com/qcredit/qcredit/warehouse/duckdb/duckdbtest"
)

// decide posts a decision with key (a raw API key), checks the status and
// the contract, and returns the stored decision or the error.
func decide(t *testing.T, srv *apitest.Server, key string, q any, wantStatus int) (api.Decision, apiError) {
	t.Helper()
	body, err := json.Marshal(q)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/api/v1/decisions", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	var d api.Decision
	var e apiError
	into := any(&d)
	if wantStatus != http.StatusCreated {
		into = &e
	}
	srv.Send(t, req, body, wantStatus, into)
	return d, e
}

// countyKey creates an analyst key bound to county and makes the server
// know it at once.
func countyKey(t *testing.T, srv *apitest.Server, store api.KeyStore, county string) string {
	t.Helper()
	k := apitest.CreateKey(t, store, api.KeyRequest{Name: "analyst-" + county, Scope: api.ScopeAnalyst, Source: county})
	if err := srv.API.ReloadKeys(t.Context()); err != nil {
		t.Fatal(err)
	}
	return k
}

func events(t *testing.T, s *duckdb.Store) int64 {
	t.Helper()
	n, err := s.CountEvents(t.Context(), warehouse.EventCount{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// otherCounty is a county of the city that is not county.
func otherCounty(county string) string {
	if county == "320830" {
		return "320804"
	}
	return "320830"
}

func TestDecisionsOnAWarningAreReadByTheNextClustersRun(t *testing.T) {
	// Given the simulated city assessed at the end of June and an open
	// warning, when its county's analyst acknowledges it and records an
	// action on 1 July through the API, then the clusters run as of 1 July
	// shows the warning acknowledged with that action, both carrying the
	// events' ids, the key's county as source and the key's name as analyst;
	// another county's key, a key of another scope and invalid data store
	// nothing; the audit log records the decisions with their event ids.
	src, err := clusterCity()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "city.duckdb")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	s := duckdbtest.OpenFile(t, path)
	now := time.Date(2026, 7, 1, 10, 0, 0, 0, model.Shanghai)
	rm := loadedModel(t, s, serving.Options{Parts: []serving.PartLoader{serving.ClustersPart()}})
	srv := apitest.Start(t, s, rm, api.Options{Now: func() time.Time { return now }})

	var list api.WarningList
	getDoc(t, srv, "/api/v1/clusters/warnings?status=open&needs_acknowledgement=true&limit=1", http.StatusOK, &list)
	if len(list.Items) == 0 {
		t.Fatal("no open warning needs acknowledgement in the test city")
	}
	w := list.Items[0]
	key := countyKey(t, srv, s, w.County)
	before := events(t, s)

	ack, _ := decide(t, srv, key, map[string]any{"type": "warning.acknowledged", "data": map[string]any{"warning_id": w.ID, "note": "已转县局核查"}}, http.StatusCreated)
	if ack.Source != w.County || !ack.OccurredAt.Equal(now) || !strings.HasPrefix(ack.ID, w.County+"-DEC-20260701-") {
		t.Errorf("acknowledgement stored as %+v, want source %s at %s", ack, w.County, now)
	}
	act, _ := decide(t, srv, key, map[string]any{"type": "warning.action_recorded", "data": map[string]any{"warning_id": w.ID, "action": "约谈企业", "analyst": "王分析"}}, http.StatusCreated)

	t.Run("refused", func(t *testing.T) {
		cases := []struct {
			name   string
			key    string
			q      map[string]any
			status int
			code   string
		}{
			{"another county's key", countyKey(t, srv, s, otherCounty(w.County)),
				map[string]any{"type": "warning.acknowledged", "data": map[string]any{"warning_id": w.ID}}, http.StatusForbidden, "outside_region"},
			{"a partner key", srv.Keys[api.ScopePartner],
				map[string]any{"type": "warning.acknowledged", "data": map[string]any{"warning_id": w.ID}}, http.StatusForbidden, "forbidden"},
			{"an ingest key", srv.Keys[api.ScopeIngest],
				map[string]any{"type": "warning.acknowledged", "data": map[string]any{"warning_id": w.ID}}, http.StatusForbidden, "forbidden"},
			{"an action without action", key,
				map[string]any{"type": "warning.action_recorded", "data": map[string]any{"warning_id": w.ID}}, http.StatusBadRequest, "invalid_decision"},
			{"a field the contract does not have", key,
				map[string]any{"type": "warning.acknowledged", "data": map[string]any{"warning_id": w.ID, "level": "red"}}, http.StatusBadRequest, "invalid_decision"},
			{"a uscc on a warning", key,
				map[string]any{"type": "warning.acknowledged", "uscc": "91320830MA1MXXXX1B", "data": map[string]any{"warning_id": w.ID}}, http.StatusBadRequest, "invalid_decision"},
			{"a type that is no decision", key,
				map[string]any{"type": "penalty.decided", "uscc": "91320830MA1MXXXX1B", "data": map[string]any{}}, http.StatusBadRequest, "invalid_decision"},
			{"no such warning", key,
				map[string]any{"type": "warning.acknowledged", "data": map[string]any{"warning_id": "cw-nowhere-20260630"}}, http.StatusNotFound, "warning_not_found"},
		}
		for _, tc := range cases {
			if _, e := decide(t, srv, tc.key, tc.q, tc.status); e.Error.Code != tc.code || e.Error.Message == "" {
				t.Errorf("%s: %+v, want %s", tc.name, e, tc.code)
			}
		}
		if n := events(t, s); n != before+2 {
			t.Errorf("%d events stored, want the 2 decisions (%d before)", n, before)
		}
	})

	// The audit log is written every second: poll it with a deadline.
	for deadline := time.Now().Add(10 * time.Second); ; {
		var log api.AuditList
		srv.Get(t, "/api/v1/audit?route=/api/v1/decisions&key_name=analyst-"+w.County, api.ScopeAdmin, http.StatusOK, &log)
		if slices.ContainsFunc(log.Items, func(a api.AuditItem) bool {
			return a.Status == http.StatusCreated && a.Method == http.MethodPost && a.Detail["event"] == ack.ID && a.Detail["type"] == "warning.acknowledged"
		}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the audit log has no record of decision %s: %+v", ack.ID, log.Items)
		}
		time.Sleep(100 * time.Millisecond)
	}

	cfg, err := clusters.Default()
	if err != nil {
		t.Fatal(err)
	}
	r, err := pipelines.NewRunner(s, quiet, pipelines.RunnerOptions{Jobs: []pipelines.Job{pipelines.NewClustersJob(s, cfg, quiet)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Run(t.Context(), pipelines.RunRequest{Job: pipelines.JobClusters, AsOf: "2026-07-01"}); err != nil {
		t.Fatal(err)
	}
	if _, err := rm.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	var got api.WarningView
	getDoc(t, srv, "/api/v1/clusters/warnings/"+w.ID, http.StatusOK, &got)
	if a := got.Acknowledgement; a == nil || a.EventID != ack.ID || a.Analyst != "analyst-"+w.County || a.Note != "已转县局核查" {
		t.Errorf("acknowledgement after the run: %+v, want event %s by the key's name", a, ack.ID)
	}
	if !slices.ContainsFunc(got.Actions, func(a model.WarningAction) bool {
		return a.EventID == act.ID && a.Action == "约谈企业" && a.Analyst == "王分析"
	}) {
		t.Errorf("actions after the run: %+v, want event %s", got.Actions, act.ID)
	}
}

func TestAnUpheldObjectionKeepsAPendingFirmOffTheList(t *testing.T) {
	// Given two firms of 320830 with heavy penalties, pending (拟列入), when
	// an analyst records the first firm's objection and upholds it through
	// the API during the notice period, then after the notice period the
	// lists run lists the second firm only, the first not_listed; a county
	// key of another county, an entry key of another firm and a decision on
	// an objection never received are refused and store nothing.
	c := newListCity(t, 1, 2, 10*365*24*time.Hour, api.Options{})
	day := time.Date(2024, 3, 4, 0, 0, 0, 0, model.Shanghai)
	objector, other := c.firms[0], c.firms[1]
	cases := map[model.USCC]string{objector: "盱市监罚〔2024〕1号", other: "盱市监罚〔2024〕2号"}
	var items []warehouse.Item
	for u, no := range cases {
		items = append(items, c.event(model.EventPenaltyDecided, u, day.Add(10*time.Hour), map[string]any{"case_no": no, "violation": "counterfeit", "severity": "heavy"}))
	}
	c.write(items)
	c.run(day)
	key := lists.DishonestKey(objector, "serious.heavy_penalty", cases[objector])
	analyst := c.srv.Keys[api.ScopeAnalyst]
	before := events(c.t, c.s)

	obj, _ := decide(t, c.srv, analyst, map[string]any{"type": "listing.objection_received", "uscc": objector,
		"data": map[string]any{"key": key, "statement": "非故意"}}, http.StatusCreated)
	var od struct {
		ObjectionID string `json:"objection_id"`
	}
	if err := json.Unmarshal(obj.Data, &od); err != nil || od.ObjectionID == "" || obj.Source != model.CityHuaian {
		t.Fatalf("objection stored as %+v (%v): want an objection_id and the city as source", obj, err)
	}
	decide(t, c.srv, analyst, map[string]any{"type": "listing.objection_decided", "uscc": objector,
		"data": map[string]any{"objection_id": od.ObjectionID, "outcome": "upheld", "decision_no": "盱市监告〔2024〕1号"}}, http.StatusCreated)

	refused := []struct {
		name   string
		key    string
		q      map[string]any
		status int
		code   string
	}{
		{"another county's key", countyKey(t, c.srv, c.s, "320804"), map[string]any{"type": "listing.objection_received", "uscc": objector,
			"data": map[string]any{"key": key}}, http.StatusForbidden, "outside_region"},
		{"another firm's entry", analyst, map[string]any{"type": "listing.objection_received", "uscc": other,
			"data": map[string]any{"key": key}}, http.StatusBadRequest, "invalid_decision"},
		{"an outcome the contract does not have", analyst, map[string]any{"type": "listing.objection_decided", "uscc": objector,
			"data": map[string]any{"objection_id": od.ObjectionID, "outcome": "maybe"}}, http.StatusBadRequest, "invalid_decision"},
		{"a bad uscc", analyst, map[string]any{"type": "listing.objection_received", "uscc": "91320830MA1MXXXX1C",
			"data": map[string]any{"key": key}}, http.StatusBadRequest, "invalid_decision"},
		{"an objection never received", analyst, map[string]any{"type": "listing.objection_decided", "uscc": other,
			"data": map[string]any{"objection_id": od.ObjectionID, "outcome": "upheld"}}, http.StatusNotFound, "objection_not_found"},
	}
	for _, tc := range refused {
		if _, e := decide(t, c.srv, tc.key, tc.q, tc.status); e.Error.Code != tc.code {
			t.Errorf("%s: %+v, want %s", tc.name, e, tc.code)
		}
	}
	if n := events(c.t, c.s); n != before+2 {
		t.Errorf("%d events stored, want the 2 decisions (%d before)", n, before)
	}

	c.run(day.AddDate(0, 0, 14))
	snap := c.snapshot(model.ListDishonest, 0, "json")
	listed := map[model.USCC]bool{}
	for _, e := range snap.entries {
		listed[e.USCC] = true
	}
	if listed[objector] || !listed[other] {
		t.Errorf("dishonest list after the notice period: %v, want %s only", listed, other)
	}
	var file struct {
		Listings api.Listings `json:"listings"`
	}
	c.srv.Get(t, "/api/v1/enterprises/"+string(objector), api.ScopeAnalyst, http.StatusOK, &file)
	if e := file.Listings.Entries; len(e) != 1 || e[0].State != model.ListStateNotListed || e[0].RemovedReason != "objection_upheld" {
		t.Errorf("objector's entries: %+v, want not_listed (objection_upheld)", e)
	}
}

func TestAPlanSuggestionIsReadByTheNextPlanRun(t *testing.T) {
	// Given a county analyst's key, when it suggests spot checks of a
	// product for 2025 through the API, then the suggestion is stored as
	// plan.suggested from that county with a suggestion_id, and the plan run
	// as of the end of 2024 has a line for the product that names the
	// event; a suggestion without batches is 400.
	c := newListCity(t, 1, 1, 10*365*24*time.Hour, api.Options{})
	key := countyKey(t, c.srv, c.s, "320830")
	d, _ := decide(t, c.srv, key, map[string]any{"type": "plan.suggested", "data": map[string]any{"year": 2025, "product": "小龙虾", "batches": 6, "note": "盱眙"}}, http.StatusCreated)
	var data struct {
		SuggestionID string `json:"suggestion_id"`
		Batches      int    `json:"batches"`
	}
	if err := json.Unmarshal(d.Data, &data); err != nil || d.Source != "320830" || d.USCC != "" || data.SuggestionID == "" || data.Batches != 6 {
		t.Errorf("suggestion stored as %+v (%v)", d, err)
	}
	if _, e := decide(t, c.srv, key, map[string]any{"type": "plan.suggested", "data": map[string]any{"year": 2025, "product": "小龙虾"}}, http.StatusBadRequest); !strings.Contains(e.Error.Message, "batches") {
		t.Errorf("suggestion without batches: %+v", e)
	}

	rules, err := planning.DefaultPlanRules()
	if err != nil {
		t.Fatal(err)
	}
	r, err := pipelines.NewRunner(c.s, quiet, pipelines.RunnerOptions{Jobs: []pipelines.Job{pipelines.NewPlanJob(c.s, rules, quiet)}})
	if err != nil {
		t.Fatal(err)
	}
	run, err := r.Run(t.Context(), pipelines.RunRequest{Job: pipelines.JobPlan, AsOf: "2024-12-31"})
	if err != nil {
		t.Fatal(err)
	}
	line, err := c.s.Output(t.Context(), pipelines.JobPlan, run.Version, "line/小龙虾")
	if err != nil {
		t.Fatalf("the plan has no line for the suggested product: %v", err)
	}
	if !strings.Contains(string(line.Payload), d.ID) {
		t.Errorf("the plan's line does not name suggestion %s: %s", d.ID, line.Payload)
	}
}
