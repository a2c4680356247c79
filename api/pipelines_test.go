package api_test

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/qcredit/qcredit/api"
	"github.com/qcredit/qcredit/api/apitest"
	"github.com/qcredit/qcredit/pipelines"
	"github.com/qcredit/qcredit/scoring"
	"github.com/qcredit/qcredit/serving"
	"github.com/qcredit/qcredit/warehouse"
	"github.com/qcredit/qcredit/warehouse/duckdb"
	"github.com/qcredit/qcredit/warehouse/duckdb/duckdbtest"
)

func runnerFor(t *testing.T, s *duckdb.Store) *pipelines.Runner {
	t.Helper()
	sc, err := scoring.Default()
	if err != nil {
		t.Fatal(err)
	}
	r, err := pipelines.NewRunner(s, quiet, pipelines.RunnerOptions{Jobs: []pipelines.Job{scoreJob(t, s, sc)}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestPipelineRunsAndTriggers(t *testing.T) {
	// Given a scored warehouse, when an analyst triggers a score run as of
	// another day, then it answers the succeeded run, and the runs listing
	// and its CSV export show both runs; a county key may list but not
	// trigger; an unknown job is a 400.
	s := duckdbtest.Open(t)
	scoredWarehouse(t, s)
	srv := apitest.Start(t, s, loadedModel(t, s, serving.Options{}), api.Options{Runner: runnerFor(t, s)})
	var run warehouse.Run
	srv.Post(t, "/api/v1/pipeline/runs", api.ScopeAnalyst, map[string]any{"job": "score", "as_of": "2025-07-31"}, http.StatusOK, &run)
	if run.Status != warehouse.RunSucceeded || run.AsOf != "2025-07-31" || run.Counts["enterprises"] != 2 {
		t.Errorf("triggered run: %+v", run)
	}
	var list struct{ Runs []warehouse.Run }
	srv.Get(t, "/api/v1/pipeline/runs?job=score", api.ScopeAnalyst, http.StatusOK, &list)
	if len(list.Runs) != 2 || list.Runs[0].ID != run.ID {
		t.Errorf("runs: %+v", list.Runs)
	}
	resp := srv.Get(t, "/api/v1/pipeline/runs?format=csv", api.ScopeAnalyst, http.StatusOK, nil)
	rows, err := csv.NewReader(bytes.NewReader([]byte(readAll(resp))[3:])).ReadAll()
	if err != nil || len(rows) != 3 || rows[0][0] != "运行编号 (Run)" || rows[1][0] != run.ID {
		t.Errorf("csv export: %v %q", err, rows)
	}
	srv.Post(t, "/api/v1/pipeline/runs", api.ScopeAnalyst, map[string]any{"job": "nope"}, http.StatusBadRequest, nil)
	srv.Post(t, "/api/v1/pipeline/runs", api.ScopeAnalyst, map[string]any{"job": "score", "as_of": "2999-01-01"}, http.StatusBadRequest, nil)
	srv.Post(t, "/api/v1/pipeline/runs", api.ScopeAnalyst, map[string]any{"job": "score", "extra": 1}, http.StatusBadRequest, nil)

	county := apitest.CreateKey(t, s, api.KeyRequest{Name: "xuyi-analyst", Scope: api.ScopeAnalyst, Source: "320830"})
	srv.API.ReloadKeys(t.Context())
	req, _ := http.NewRequestWithContext(t.Context(), "POST", srv.URL+"/api/v1/pipeline/runs", bytes.NewReader([]byte(`{"job":"score"}`)))
	req.Header.Set("Authorization", "Bearer "+county)
	srv.Send(t, req, []byte(`{"job":"score"}`), http.StatusForbidden, nil)
	var jobs struct{ Jobs []api.JobInfo }
	srv.Get(t, "/api/v1/pipeline/jobs", api.ScopeAnalyst, http.StatusOK, &jobs)
	if len(jobs.Jobs) != 1 || jobs.Jobs[0].Name != "score" || jobs.Jobs[0].Schedule == "" {
		t.Errorf("jobs: %+v", jobs)
	}
}

func TestScoreExportsAndCountyKeys(t *testing.T) {
	// Given two firms in two counties, when the city-wide analyst exports
	// scores as CSV and XLSX, then both have the Chinese headers and both
	// firms; a key bound to 盱眙 (320830) sees only its firm, in the listing,
	// the export and the credit file (403 for the other county's firm).
	srv := scoredServer(t)
	resp := srv.Get(t, "/api/v1/scores?format=csv", api.ScopeAnalyst, http.StatusOK, nil)
	body := []byte(readAll(resp))
	if !bytes.HasPrefix(body, []byte("\xEF\xBB\xBF")) || resp.Header.Get("Content-Disposition") != `attachment; filename="scores-2025-06-30.csv"` {
		t.Errorf("csv: %q %q", body[:min(20, len(body))], resp.Header.Get("Content-Disposition"))
	}
	rows, err := csv.NewReader(bytes.NewReader(body[3:])).ReadAll()
	if err != nil || len(rows) != 3 || rows[0][1] != "企业名称 (Name)" || rows[2][1] != "盱眙龙虾食品有限公司" || rows[2][5] != "96.0" {
		t.Errorf("csv rows: %v %q", err, rows)
	}
	resp = srv.Get(t, "/api/v1/scores?format=xlsx&grade=D", api.ScopeAnalyst, http.StatusOK, nil)
	f, err := excelize.OpenReader(bytes.NewReader([]byte(readAll(resp))))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, _ := f.GetRows("Sheet1")
	if len(got) != 2 || got[1][1] != "淮安特钢有限公司" || got[1][6] != "D" {
		t.Errorf("xlsx rows: %q", got)
	}

	county := apitest.CreateKey(t, srv.API.Store(), api.KeyRequest{Name: "xuyi-analyst", Scope: api.ScopeAnalyst, Source: "320830"})
	srv.API.ReloadKeys(t.Context())
	get := func(path string, status int, into any) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), "GET", srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+county)
		srv.Send(t, req, nil, status, into)
	}
	var page api.ScoreList
	get("/api/v1/scores", http.StatusOK, &page)
	if page.Total != 1 || page.Items[0].USCC != firmA {
		t.Errorf("county listing: %+v", page)
	}
	get("/api/v1/scores?region=320812", http.StatusForbidden, nil)
	get("/api/v1/scores?region=320800", http.StatusForbidden, nil)
	get("/api/v1/enterprises/"+string(firmB), http.StatusForbidden, nil)
	get("/api/v1/enterprises/"+string(firmA), http.StatusOK, nil)
}
