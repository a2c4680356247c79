package api_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/qcredit/qcredit/api"
	"github.com/qcredit/qcredit/api/apitest"
	"github.com/qcredit/qcredit/clusters"
	"github.com/qcredit/qcredit/ingest"
	"github.com/qcredit/qcredit/internal/testenv"
	"github.com/qcredit/qcredit/lists"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/pipelines"
	"github.com/qcredit/qcredit/scoring"
	"github.com/qcredit/qcredit/serving"
	"github.com/qcredit/qcredit/simulate"
	"github.com/qcredit/qcredit/warehouse/duckdb"
	"github.com/qcredit/qcredit/warehouse/duckdb/duckdbtest"
)

// The cluster runs of the tests' simulated city.
const (
	clustersMay  = "2026-05-31"
	clustersJune = "2026-06-30"
)

// clusterCityDir holds the simulated city's warehouse file; TestMain removes it.
var clusterCityDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if clusterCityDir != "" {
		os.RemoveAll(clusterCityDir)
	}
	os.Exit(code)
}

// clusterCity is a simulated city of 3,000 firms in DuckDB, scored and
// assessed as of the end of May and of June 2026; built once per test
// binary (it takes seconds; tests share no context, hence Background),
// each test opening a copy.
var clusterCity = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "qcredit-api-clusters-")
	if err != nil {
		return "", err
	}
	clusterCityDir = dir
	path := filepath.Join(dir, "city.duckdb")
	s, err := duckdb.Open(context.Background(), path, quiet)
	if err != nil {
		return "", err
	}
	defer s.Close()
	if _, err := s.Migrate(context.Background()); err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if _, err := simulate.Generate(simulate.Config{Enterprises: 3000, Years: 3, Seed: 5, End: time.Date(2026, 6, 30, 0, 0, 0, 0, model.Shanghai)},
		func(line []byte) error { buf.Write(line); buf.WriteByte('\n'); return nil }); err != nil {
		return "", err
	}
	if _, err := (ingest.Importer{Store: s}).Import(context.Background(), "sim.jsonl", &buf); err != nil {
		return "", err
	}
	sc, err := scoring.Default()
	if err != nil {
		return "", err
	}
	cfg, err := clusters.Default()
	if err != nil {
		return "", err
	}
	rules, err := lists.Default()
	if err != nil {
		return "", err
	}
	score, err := pipelines.NewScoreJob(pipelines.ScoreJobInput{Features: s, Listing: s, Scorecard: sc, Rules: rules, Log: quiet})
	if err != nil {
		return "", err
	}
	r, err := pipelines.NewRunner(s, quiet, pipelines.RunnerOptions{Jobs: []pipelines.Job{score, pipelines.NewClustersJob(s, cfg, quiet)}})
	if err != nil {
		return "", err
	}
	for _, asOf := range []string{clustersMay, clustersJune} {
		for _, job := range []string{pipelines.JobScore, pipelines.JobClusters} {
			if _, err := r.Run(context.Background(), pipelines.RunRequest{Job: job, AsOf: asOf}); err != nil {
				return "", err
			}
		}
	}
	return path, nil
})

// clusterServer is an API over a copy of the simulated city, with a key
// of every scope.
func clusterServer(t *testing.T, opts api.Options) *apitest.Server {
	t.Helper()
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
	return apitest.Start(t, s, loadedModel(t, s, serving.Options{Parts: []serving.PartLoader{serving.ClustersPart()}}), opts)
}

func init() {
	// Letters: HTML and PDF bodies are checked by their media type only.
	openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
	openapi3filter.RegisterBodyDecoder("application/pdf", openapi3filter.FileBodyDecoder)
}

// getDoc GETs an API path with the analyst key, checks its status and the
// response against the OpenAPI document, and decodes it into into.
func getDoc(t *testing.T, srv *apitest.Server, path string, wantStatus int, into any) {
	t.Helper()
	srv.Get(t, path, api.ScopeAnalyst, wantStatus, into)
}

// getError GETs a path that fails and decodes the error.
func getError(t *testing.T, srv *apitest.Server, path string, e *apiError) int {
	t.Helper()
	return srv.Get(t, path, api.ScopeAnalyst, 0, e).StatusCode
}

// fetch GETs path with the analyst key and an Accept header, checks the
// response against the document, and returns status, content type and body.
func fetch(t *testing.T, srv *apitest.Server, path, accept string) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+srv.Keys[api.ScopeAnalyst])
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp := srv.Send(t, req, nil, 0, nil)
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

func TestClusterWarningsAndLetters(t *testing.T) {
	// Given a simulated city assessed at the end of May and of June, when an
	// analyst lists the current warnings, then every warning with a level
	// that gets a letter links one, and each letter is HTML naming the
	// warning, its county government and the evidence numbers of the run
	// that wrote it; a watch has none.
	srv := clusterServer(t, api.Options{})
	var list api.WarningList
	getDoc(t, srv, "/api/v1/clusters/warnings?limit=1000", http.StatusOK, &list)
	if list.AsOf != clustersJune || list.Total == 0 || len(list.Items) != list.Total {
		t.Fatalf("warnings: %+v", list)
	}
	letters := 0
	for _, w := range list.Items {
		if w.Status == model.WarningStatusOpen && w.Level.AtLeast(model.LevelYellow) && (w.Letter == "" || w.LetterOn == "") {
			t.Errorf("open %s warning %s has no letter", w.Level, w.ID)
		}
		if w.Letter == "" {
			if code, _, _ := fetch(t, srv, "/api/v1/clusters/warnings/"+w.ID+"/letter", ""); code != http.StatusNotFound {
				t.Errorf("letter of %s (no letter): status %d", w.ID, code)
			}
			continue
		}
		letters++
		code, ctype, html := fetch(t, srv, w.Letter, "")
		if code != http.StatusOK || ctype != "text/html; charset=utf-8" {
			t.Fatalf("letter of %s: status %d, %s", w.ID, code, ctype)
		}
		ev := letterEvidence(t, srv, w.Warning)
		county, _ := model.LookupRegion(w.County)
		want := []string{"质量风险提示函", w.ID, county.Name, fmt.Sprint(ev.Checks), fmt.Sprint(ev.Failures),
			fmt.Sprintf("%.4f", ev.Rate), fmt.Sprintf("%.4f", ev.Baseline)}
		if ev.Phi != 0 {
			want = append(want, fmt.Sprintf("%.3f", ev.ZAdjusted), fmt.Sprintf("%.3f", ev.CUSUM.Final))
		}
		for _, s := range want {
			if !bytes.Contains(html, []byte(s)) {
				t.Errorf("letter of %s lacks %q", w.ID, s)
			}
		}
	}
	if letters == 0 {
		t.Fatal("no letter in the simulated city")
	}
	var one api.WarningView
	getDoc(t, srv, "/api/v1/clusters/warnings/"+list.Items[0].ID, http.StatusOK, &one)
	if one.ID != list.Items[0].ID || len(one.History) == 0 || one.LevelLabel != one.Level.Label() {
		t.Errorf("one warning: %+v", one)
	}
	getDoc(t, srv, "/api/v1/clusters/warnings/cw-nowhere-20260630", http.StatusNotFound, nil)
}

// letterEvidence is the evidence of w's cluster in the run that wrote its
// letter, from the cluster's history.
func letterEvidence(t *testing.T, srv *apitest.Server, w model.Warning) model.ClusterEvidence {
	t.Helper()
	var h api.ClusterHistory
	getDoc(t, srv, "/api/v1/clusters/assessments/"+url.PathEscape(w.Cluster)+"/history", http.StatusOK, &h)
	for _, item := range h.Items {
		if item.AsOf == w.LetterOn {
			return item.Evidence
		}
	}
	t.Fatalf("history of %s has no run of %s: %+v", w.Cluster, w.LetterOn, h)
	return model.ClusterEvidence{}
}

func TestClusterLettersPrintToPDF(t *testing.T) {
	// Given the simulated city's letters, when each is asked for as PDF
	// (?format=pdf, or Accept: application/pdf), then headless Chromium
	// prints it with the CJK font embedded (kept under test-output/clusters);
	// without Chromium the API says PDF is unavailable.
	testenv.Chromium(t)
	srv := clusterServer(t, api.Options{})
	out := testenv.OutputDir(t, "clusters")
	var list api.WarningList
	getDoc(t, srv, "/api/v1/clusters/warnings?min_level=yellow&limit=1000", http.StatusOK, &list)
	printed := 0
	for i, w := range list.Items {
		if w.Letter == "" {
			continue
		}
		path, accept := w.Letter+"?format=pdf", ""
		if i%2 == 1 {
			path, accept = w.Letter, "application/pdf"
		}
		code, ctype, pdf := fetch(t, srv, path, accept)
		if code != http.StatusOK || ctype != "application/pdf" || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
			t.Fatalf("PDF of %s: status %d, %s, %.40q", w.ID, code, ctype, pdf)
		}
		if !bytes.Contains(pdf, []byte("CJK")) {
			t.Errorf("PDF of %s embeds no CJK font: its Chinese would not print (is fonts-noto-cjk installed?)", w.ID)
		}
		if err := os.WriteFile(filepath.Join(out, w.ID+".pdf"), pdf, 0o644); err != nil {
			t.Fatal(err)
		}
		printed++
	}
	if printed == 0 {
		t.Fatal("no letter printed")
	}
	t.Logf("%d letters printed to %s", printed, out)

	off := clusterServer(t, api.Options{Chromium: "off"})
	var e apiError
	if code := getError(t, off, list.Items[0].Letter+"?format=pdf", &e); code != http.StatusServiceUnavailable || e.Error.Code != "pdf_unavailable" {
		t.Errorf("without Chromium: status %d, %+v", code, e)
	}
}

func TestClusterAssessmentsFunnelsAndHeatMap(t *testing.T) {
	// Given the simulated city's two runs, then a cluster's history lists
	// both runs, newest first; the funnel plot of a warned cluster's
	// division has it among its points with limits; the heat map's cells
	// hold every assessed cluster; filters narrow and bad ones are refused.
	srv := clusterServer(t, api.Options{})
	var list api.WarningList
	getDoc(t, srv, "/api/v1/clusters/warnings?min_level=orange", http.StatusOK, &list)
	if len(list.Items) == 0 {
		t.Fatal("no orange or red warning")
	}
	for _, w := range list.Items {
		if !w.Level.AtLeast(model.LevelOrange) {
			t.Errorf("min_level=orange listed %s %s", w.ID, w.Level)
		}
	}
	w := list.Items[0]
	var h api.ClusterHistory
	getDoc(t, srv, "/api/v1/clusters/assessments/"+url.PathEscape(w.Cluster)+"/history", http.StatusOK, &h)
	if len(h.Items) != 2 || h.Items[0].AsOf != clustersJune || h.Items[1].AsOf != clustersMay || h.Items[0].Evidence.Checks == 0 {
		t.Errorf("history of %s: %+v", w.Cluster, h)
	}
	var a api.AssessmentView
	getDoc(t, srv, "/api/v1/clusters/assessments/"+url.PathEscape(w.Cluster), http.StatusOK, &a)
	if a.Cluster != w.Cluster || a.Level != w.Level || a.AsOf != clustersJune {
		t.Errorf("assessment of %s: %+v", w.Cluster, a)
	}
	var f api.FunnelView
	getDoc(t, srv, "/api/v1/clusters/funnels/"+w.Division, http.StatusOK, &f)
	found := false
	for _, pt := range f.Points {
		found = found || pt.Cluster == w.Cluster
	}
	if !found || len(f.Limits) < 10 || f.Division != w.Division {
		t.Errorf("funnel of %s: cluster %s among its points %v, %d limits", w.Division, w.Cluster, found, len(f.Limits))
	}
	var all api.AssessmentList
	getDoc(t, srv, "/api/v1/clusters/assessments", http.StatusOK, &all)
	var hm api.HeatMap
	getDoc(t, srv, "/api/v1/clusters/heatmap", http.StatusOK, &hm)
	clustersInCells, red := 0, 0
	for _, c := range hm.Cells {
		clustersInCells += c.Clusters
		red += c.Red
	}
	if clustersInCells != len(all.Items) || red == 0 || all.Run == nil || all.Run.Phi == 0 {
		t.Errorf("heat map holds %d clusters (%d red), the run %d", clustersInCells, red, len(all.Items))
	}
	var insufficient api.AssessmentList
	getDoc(t, srv, "/api/v1/clusters/assessments?status=insufficient_data", http.StatusOK, &insufficient)
	for _, a := range insufficient.Items {
		if a.Status != model.AssessmentStatusInsufficientData || a.Evidence.Limit != model.LimitNone {
			t.Errorf("insufficient data listed %+v", a)
		}
	}
	if len(insufficient.Items) == 0 {
		t.Error("no cluster below the minimum sample")
	}
	for _, bad := range []string{"/clusters/warnings?level=purple", "/clusters/warnings?county=110101", "/clusters/warnings?status=maybe",
		"/clusters/warnings?needs_acknowledgement=yes", "/clusters/heatmap?level=red", "/clusters/assessments?division=C3099"} {
		var e apiError
		if code := getError(t, srv, "/api/v1"+bad, &e); code != http.StatusBadRequest || e.Error.Code != "invalid_query" {
			t.Errorf("%s: status %d, %+v", bad, code, e)
		}
	}
	getDoc(t, srv, "/api/v1/clusters/funnels/C3", http.StatusBadRequest, nil)
	getDoc(t, srv, "/api/v1/clusters/funnels/C14", http.StatusNotFound, nil)
	getDoc(t, srv, "/api/v1/clusters/assessments/nowhere/history", http.StatusNotFound, nil)
}

func TestClustersBeforeTheFirstRun(t *testing.T) {
	// Given a warehouse no clusters run has assessed, then the lists are
	// empty and a warning is not found.
	srv := scoredServer(t)
	var list api.WarningList
	getDoc(t, srv, "/api/v1/clusters/warnings", http.StatusOK, &list)
	if list.Total != 0 || list.RunID != "" || list.Items == nil {
		t.Errorf("warnings before the first run: %+v", list)
	}
	var e apiError
	if code := getError(t, srv, "/api/v1/clusters/warnings/cw-x-20260630/letter", &e); code != http.StatusNotFound || !strings.Contains(e.Error.Message, "no clusters run") {
		t.Errorf("letter before the first run: %d %+v", code, e)
	}
}
