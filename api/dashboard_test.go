package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"

	"github.com/qcredit/qcredit/api"
	"github.com/qcredit/qcredit/api/apitest"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/pipelines"
	"github.com/qcredit/qcredit/scoring"
	"github.com/qcredit/qcredit/serving"
	"github.com/qcredit/qcredit/warehouse/conformance"
	"github.com/qcredit/qcredit/warehouse/duckdb"
	"github.com/qcredit/qcredit/warehouse/duckdb/duckdbtest"
)

// dashboardServer is an API with the dashboards' parts over two firms
// scored as of 2025-06-30 and, after a critical failure of firm A, as of
// 2025-07-31, with the stats job run as of that day.
func dashboardServer(t *testing.T, opts api.Options) *httptest.Server {
	t.Helper()
	s := scoredWarehouse(t, duckdbtest.Open(t))
	addEvents(t, s, conformance.Event(t, "a3", model.EventSpotCheckCompleted, firmA, at(7, 5),
		map[string]any{"check_id": "C3", "product": "小龙虾", "result": "fail", "severity": "critical"}))
	sc, err := scoring.Default()
	if err != nil {
		t.Fatal(err)
	}
	r, err := pipelines.NewRunner(s, quiet, pipelines.RunnerOptions{Jobs: []pipelines.Job{scoreJob(t, s, sc), pipelines.NewStatsJob(s)}})
	if err != nil {
		t.Fatal(err)
	}
	for _, job := range []string{pipelines.JobScore, pipelines.JobStats} {
		if _, err := r.Run(t.Context(), pipelines.RunRequest{Job: job, AsOf: "2025-07-31"}); err != nil {
			t.Fatal(err)
		}
	}
	return serveWith(t, s, opts)
}

func serveWith(t *testing.T, s *duckdb.Store, opts api.Options) *httptest.Server {
	t.Helper()
	rm := loadedModel(t, s, serving.Options{Parts: []serving.PartLoader{serving.MovementPart(), serving.StatsPart()}})
	return apitest.Start(t, s, rm, opts).Server
}

func TestDashboardStatistics(t *testing.T) {
	// Given two firms scored at two month-ends, firm A failing a critical
	// check in between, when the dashboards ask for their statistics, then
	// they see the grades by county, A's move from the June grade to the
	// July one, the spot checks by month and each county's indicators.
	// They call as the web UI of qcredit dev does: with its session.
	srv := dashboardServer(t, api.Options{UI: stubUI, DevSession: true})

	var grades api.GradeBreakdown
	dashGet(t, srv, "/api/v1/dashboard/grades?by=county", http.StatusOK, &grades)
	if grades.Total != 2 || grades.Items[0].Key != "320812" || grades.Items[0].Name != "清江浦区" || grades.Items[0].Grades[model.GradeD] != 1 ||
		grades.Items[1].Key != "320830" || grades.Items[1].Total != 1 || grades.AsOf != "2025-07-31" {
		t.Errorf("grades by county: %+v", grades)
	}
	var page api.GradeBreakdown
	dashGet(t, srv, "/api/v1/dashboard/grades?by=county&offset=1&limit=1", http.StatusOK, &page)
	if len(page.Items) != 1 || page.Items[0].Key != "320830" || page.Total != 2 {
		t.Errorf("page 2 of grades by county: %+v", page)
	}
	var cross api.GradeBreakdown
	dashGet(t, srv, "/api/v1/dashboard/grades?by=county_industry", http.StatusOK, &cross)
	if len(cross.Items) != 2 || cross.Items[0].County != "320812" || cross.Items[0].Industry != "C31" || cross.Items[0].RiskShare != 1 {
		t.Errorf("grades by county and industry: %+v", cross)
	}
	dashGet(t, srv, "/api/v1/dashboard/grades?by=planet", http.StatusBadRequest, nil)

	var mv api.GradeMovement
	dashGet(t, srv, "/api/v1/dashboard/movement", http.StatusOK, &mv)
	if mv.From == nil || mv.From.AsOf != "2025-06-30" || mv.To == nil || mv.To.AsOf != "2025-07-31" {
		t.Fatalf("movement between %+v and %+v", mv.From, mv.To)
	}
	want := []api.Flow{{From: "A", To: "B", Count: 1}, {From: "D", To: "D", Count: 1}}
	if !slices.Equal(mv.Flows, want) {
		t.Errorf("flows %+v, want %+v", mv.Flows, want)
	}

	var trend api.SpotCheckTrend
	dashGet(t, srv, "/api/v1/dashboard/spot-checks?months=12", http.StatusOK, &trend)
	// Every month of the window, 2024-08 to 2025-07, those without checks too.
	if len(trend.Months) != 12 || trend.Months[0].Month != "2024-08" || trend.Months[11] != (api.MonthChecks{Month: "2025-07", Checks: 1, Failures: 1, Rate: 1}) ||
		trend.Months[6] != (api.MonthChecks{Month: "2025-02", Checks: 1}) || trend.Months[7] != (api.MonthChecks{Month: "2025-03", Checks: 1, Failures: 1, Rate: 1}) ||
		trend.Months[8].Checks != 0 {
		t.Errorf("spot checks by month: %+v", trend.Months)
	}
	dashGet(t, srv, "/api/v1/dashboard/spot-checks?county=320812&months=4", http.StatusOK, &trend)
	if len(trend.Months) != 4 || trend.Months[0].Month != "2025-04" || trend.Months[3].Checks != 0 {
		t.Errorf("spot checks of 320812 in the last 4 months: %+v", trend.Months)
	}
	dashGet(t, srv, "/api/v1/dashboard/spot-checks?county=110000", http.StatusBadRequest, nil)

	var counties api.CountiesReport
	dashGet(t, srv, "/api/v1/dashboard/counties?months=12", http.StatusOK, &counties)
	if counties.From != "2024-08" || counties.To != "2025-07" || len(counties.Counties) != 2 {
		t.Fatalf("counties: %+v", counties)
	}
	c := counties.Counties[1] // 320830: every fixture event is reported by its bureau
	if c.County != "320830" || c.Enterprises != 1 || c.Events != 6 || c.SpotChecks != 3 || c.SpotCheckFailures != 2 || c.DeadLetterRate != 0 {
		t.Errorf("320830: %+v", c)
	}

	var ov api.Overview
	dashGet(t, srv, "/api/v1/dashboard/overview", http.StatusOK, &ov)
	if ov.Enterprises != 2 || ov.Scored != 2 || ov.Grades[model.GradeB] != 1 || ov.SpotChecks != 3 || ov.StatsRun == nil || len(ov.Runs) != 3 {
		t.Errorf("overview: %+v", ov)
	}

	var found api.FirmSearch
	dashGet(t, srv, "/api/v1/dashboard/enterprises?q=%E9%BE%99%E8%99%BE", http.StatusOK, &found) // 龙虾
	if len(found.Items) != 1 || found.Items[0].USCC != firmA || found.Items[0].Grade != model.GradeB {
		t.Errorf("search 龙虾: %+v", found)
	}
	dashGet(t, srv, "/api/v1/dashboard/enterprises?q="+string(firmB), http.StatusOK, &found)
	if len(found.Items) != 1 || found.Items[0].USCC != firmB {
		t.Errorf("search by USCC: %+v", found)
	}
	dashGet(t, srv, "/api/v1/dashboard/enterprises?q=", http.StatusBadRequest, nil)
	// The name index: the shorter name first, a limit that cuts says so,
	// and one character is too short a query (a USCC is not).
	dashGet(t, srv, "/api/v1/dashboard/enterprises?q="+url.QueryEscape("有限公司")+"&limit=1", http.StatusOK, &found)
	if len(found.Items) != 1 || found.Items[0].Name != "淮安特钢有限公司" || !found.More {
		t.Errorf("search 有限公司, limit 1: %+v", found)
	}
	dashGet(t, srv, "/api/v1/dashboard/enterprises?q="+url.QueryEscape("有限公司"), http.StatusOK, &found)
	if len(found.Items) != 2 || found.More {
		t.Errorf("search 有限公司: %+v", found)
	}
	dashGet(t, srv, "/api/v1/dashboard/enterprises?q="+url.QueryEscape("龙"), http.StatusBadRequest, nil)
}

func TestDevSession(t *testing.T) {
	// Given the API of qcredit dev, when a browser opens a page, then it
	// receives the development session and the API admits it with scope
	// analyst; without the page's cookie it is not admitted, and the
	// session route says which routes exist. Under serve there is none.
	ui := stubUI
	srv := dashboardServer(t, api.Options{UI: ui, DevSession: true})
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	var before api.Session
	res0, err := http.Get(srv.URL + "/api/v1/session")
	if err != nil {
		t.Fatal(err)
	}
	decode(t, res0, &before)
	res0.Body.Close()
	if !before.Dev || before.Analyst || !slices.Contains(before.Routes, "GET /api/v1/dashboard/overview") {
		t.Errorf("session without the cookie: %+v", before)
	}
	for _, page := range []string{"/", "/clusters", "/enterprises/" + string(firmA), "/lists", "/counties"} {
		res, err := browser.Get(srv.URL + page)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %s", page, res.Status)
		}
	}
	res, err := browser.Get(srv.URL + "/api/v1/session")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var after api.Session
	decode(t, res, &after)
	if !after.Dev || !after.Analyst {
		t.Errorf("session with the page's cookie: %+v", after)
	}
	if res, err := http.Get(srv.URL + "/api/v1/dashboard/overview"); err != nil || res.StatusCode != http.StatusUnauthorized {
		t.Errorf("an analyst route without the cookie or a key: %v %v", res.Status, err)
	}

	plain := dashboardServer(t, api.Options{UI: ui})
	var served api.Session
	res1, err := http.Get(plain.URL + "/api/v1/session")
	if err != nil {
		t.Fatal(err)
	}
	decode(t, res1, &served)
	res1.Body.Close()
	if served.Dev || served.Analyst {
		t.Errorf("serve has a dev session: %+v", served)
	}
	res2, err := http.Get(plain.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	res2.Body.Close()
	if len(res2.Cookies()) != 0 {
		t.Errorf("serve set cookies %v", res2.Cookies())
	}
}

var stubUI = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<!doctype html>")) })

// dashGet gets path as the dashboards do, with the dev session that a page
// of srv hands out, and decodes its JSON body into into (when not nil),
// failing unless the status is want.
func dashGet(t *testing.T, srv *httptest.Server, path string, want int, into any) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	page, err := browser.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	page.Body.Close()
	res, err := browser.Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != want {
		t.Fatalf("GET %s: %s, want %d", path, res.Status, want)
	}
	if into != nil {
		decode(t, res, into)
	}
}

func decode(t *testing.T, res *http.Response, into any) {
	t.Helper()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%s: %s", res.Request.URL, res.Status)
	}
	if err := json.NewDecoder(res.Body).Decode(into); err != nil {
		t.Fatal(err)
	}
}
