package api_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/qcredit/qcredit/api"
	"github.com/qcredit/qcredit/api/apitest"
	"github.com/qcredit/qcredit/clusters"
	"github.com/qcredit/qcredit/ingest"
	"github.com/qcredit/qcredit/lists"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/pipelines"
	"github.com/qcredit/qcredit/planning"
	"github.com/qcredit/qcredit/scoring"
	"github.com/qcredit/qcredit/serving"
	"github.com/qcredit/qcredit/simulate"
	"github.com/qcredit/qcredit/warehouse/duckdb/duckdbtest"
)

// countyCity is an API over a simulated city of several counties with
// every job that feeds an analyst route run (two score and clusters runs,
// stats, lists, plan, kpi, recheck) and a re-check draw made, the read
// model holding every part `serve` loads; and a key bound to the county
// with the most firms.
type countyCity struct {
	srv    *apitest.Server
	rm     *serving.Store
	county string // the bound key's county
	key    string
	// inside and outside are firms of the county and of the others.
	inside, outside []serving.Firm
}

func newCountyCity(t *testing.T) *countyCity {
	t.Helper()
	s := duckdbtest.Open(t)
	var buf bytes.Buffer
	end := time.Date(2026, 6, 30, 0, 0, 0, 0, model.Shanghai)
	if _, err := simulate.Generate(simulate.Config{Enterprises: 1500, Years: 3, Seed: 11, End: end},
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
	method, err := clusters.Default()
	if err != nil {
		t.Fatal(err)
	}
	rules, err := lists.Default()
	if err != nil {
		t.Fatal(err)
	}
	planRules, err := planning.DefaultPlanRules()
	if err != nil {
		t.Fatal(err)
	}
	r, err := pipelines.NewRunner(s, quiet, pipelines.RunnerOptions{Jobs: []pipelines.Job{scoreJob(t, s, sc), pipelines.NewStatsJob(s),
		pipelines.NewClustersJob(s, method, quiet), pipelines.NewListsJob(s, rules, quiet), pipelines.NewPlanJob(s, planRules, quiet),
		pipelines.NewKPIJob(s, pipelines.DefaultKPIConfig(), quiet), pipelines.NewRecheckJob(s, pipelines.DefaultRecheckJobConfig(), quiet),
		pipelines.NewLotteryJob(s, quiet)}})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct{ job, asOf string }{{pipelines.JobScore, "2026-05-31"}, {pipelines.JobClusters, "2026-05-31"},
		{pipelines.JobScore, "2026-06-30"}, {pipelines.JobClusters, "2026-06-30"}, {pipelines.JobStats, "2026-06-30"},
		{pipelines.JobLists, "2026-06-30"}, {pipelines.JobPlan, "2026-06-30"}, {pipelines.JobKPI, "2026-06-30"},
		{pipelines.JobRecheck, "2026-06-30"}}
	for _, st := range steps {
		if _, err := r.Run(t.Context(), pipelines.RunRequest{Job: st.job, AsOf: st.asOf}); err != nil {
			t.Fatalf("%s as of %s: %v", st.job, st.asOf, err)
		}
	}
	rm, err := serving.NewStore(s, quiet, serving.Options{Parts: []serving.PartLoader{serving.MovementPart(), serving.StatsPart(),
		serving.ClustersPart(), serving.ListsLoader(serving.ListsOptions{Retention: 365 * 24 * time.Hour, Log: quiet}),
		serving.OutputsLoader(pipelines.JobLottery), serving.OutputsLoader(pipelines.JobKPI), serving.OutputsLoader(pipelines.JobPlan),
		serving.OutputsLoader(pipelines.JobRecheck)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := rm.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	srv := apitest.Start(t, s, rm, api.Options{Runner: r, Draws: pipelines.NewLottery(s, r, quiet, pipelines.LotteryOptions{})})
	c := &countyCity{srv: srv, rm: rm}
	c.recheckDraw(t)

	perCounty := map[string][]serving.Firm{}
	rm.Current().EachFirm(serving.FirmFilter{}, func(f serving.Firm) bool {
		perCounty[f.Region] = append(perCounty[f.Region], f)
		return true
	})
	for county, firms := range perCounty {
		if len(firms) > len(perCounty[c.county]) || len(firms) == len(perCounty[c.county]) && county < c.county {
			c.county = county
		}
	}
	if len(perCounty) < 3 {
		t.Fatalf("the simulated city has %d counties; the test needs several", len(perCounty))
	}
	for county, firms := range perCounty {
		if county == c.county {
			c.inside = firms
		} else {
			c.outside = append(c.outside, firms...)
		}
	}
	c.key = apitest.CreateKey(t, srv.API.Store(), api.KeyRequest{Name: "county-analyst", Scope: api.ScopeAnalyst, Source: c.county})
	srv.API.ReloadKeys(t.Context())
	return c
}

// recheckDraw puts an inspector of every county in the pool and makes the
// year's re-check draw, so /rechecks has a draw and /draws/:id/explain one
// to explain.
func (c *countyCity) recheckDraw(t *testing.T) {
	t.Helper()
	for i, county := range []string{"320802", "320803", "320804", "320812", "320813", "320826", "320830", "320831"} {
		c.srv.Do(t, "PUT", fmt.Sprintf("/api/v1/admin/inspectors/I-%d", i), api.ScopeAdmin,
			fmt.Appendf(nil, `{"name":"检查员%d","county":%q}`, i, county), http.StatusOK, nil)
	}
	c.srv.Post(t, "/api/v1/admin/rechecks", api.ScopeAdmin, pipelines.CreateRecheckRequest{ID: "recheck-2025", Name: "2025年度复查",
		BeaconSource: "上证指数收盘点位"}, http.StatusCreated, nil)
	c.srv.Post(t, "/api/v1/admin/draws/recheck-2025/draw", api.ScopeAdmin, api.DrawStep{Beacon: "3268.15"}, http.StatusOK, nil)
	if _, err := c.rm.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// countyGet sends a request with the county key and returns its status
// and body; the response is checked against the contract.
func (c *countyCity) countyDo(t *testing.T, method, path string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, c.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp := c.srv.Send(t, req, body, 0, nil)
	got, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, got
}

// cityGet GETs path with the city-wide analyst key into into.
func (c *countyCity) cityGet(t *testing.T, path string, into any) {
	t.Helper()
	c.srv.Get(t, path, api.ScopeAnalyst, http.StatusOK, into)
}

// secrets are what the county key must not see, as they would appear in a
// body: other counties' USCCs and names (those no firm of the county
// contains), their cluster keys and warning ids.
func (c *countyCity) secrets(t *testing.T) []string {
	t.Helper()
	var inNames strings.Builder
	for _, f := range c.inside {
		inNames.WriteString(f.Name + "\n")
	}
	var out []string
	counties := map[string]bool{}
	for _, f := range c.outside {
		out = append(out, string(f.USCC))
		if !strings.Contains(inNames.String(), f.Name) {
			out = append(out, f.Name)
		}
		counties[f.Region] = true
	}
	// A county's code as a value, a key or the start of a cluster key: its
	// figures (grades per county, KPI and heat-map rows) are not the key's.
	for county := range counties {
		out = append(out, `"`+county+`"`, county+"|", county+"-", "/"+county+"/", ","+county+",", "\n"+county+",")
	}
	var as api.AssessmentList
	c.cityGet(t, "/api/v1/clusters/assessments", &as)
	for _, a := range as.Items {
		if a.County != c.county {
			out = append(out, `"`+a.Cluster+`"`)
		}
	}
	var ws api.WarningList
	c.cityGet(t, "/api/v1/clusters/warnings?limit=500", &ws)
	for _, w := range ws.Items {
		if w.County != c.county {
			out = append(out, w.ID)
		}
	}
	return out
}

// samples are path parameters to call a route with: one of the county's
// and one of another county's where the parameter names a firm, a warning
// or a cluster.
func (c *countyCity) samples(t *testing.T) map[string][]string {
	t.Helper()
	var as api.AssessmentList
	c.cityGet(t, "/api/v1/clusters/assessments", &as)
	var ws api.WarningList
	c.cityGet(t, "/api/v1/clusters/warnings?limit=500", &ws)
	pick := func(inside bool, items []string, county func(int) string) string {
		for i, it := range items {
			if (county(i) == c.county) == inside {
				return it
			}
		}
		return "none"
	}
	var clusterKeys, divisions, warningIDs []string
	for _, a := range as.Items {
		clusterKeys, divisions = append(clusterKeys, a.Cluster), append(divisions, a.Division)
	}
	for _, w := range ws.Items {
		warningIDs = append(warningIDs, w.ID)
	}
	aCounty := func(i int) string { return as.Items[i].County }
	wCounty := func(i int) string { return ws.Items[i].County }
	// A division with clusters in the county and elsewhere, and one without any of the county's.
	mixed, foreign := "C30", "C30"
	for _, d := range divisions {
		in := slices.ContainsFunc(as.Items, func(a model.ClusterAssessment) bool { return a.Division == d && a.County == c.county })
		out := slices.ContainsFunc(as.Items, func(a model.ClusterAssessment) bool { return a.Division == d && a.County != c.county })
		switch {
		case in && out:
			mixed = d
		case out:
			foreign = d
		}
	}
	return map[string][]string{
		":uscc":     {string(c.inside[0].USCC), string(c.outside[0].USCC)},
		":cluster":  {pick(true, clusterKeys, aCounty), pick(false, clusterKeys, aCounty)},
		":division": {mixed, foreign},
		":list":     {string(model.ListDishonest), string(model.ListFocus)},
		// :id is a warning (clusters) or a draw (draws).
		":id": {pick(true, warningIDs, wCounty), pick(false, warningIDs, wCounty), "recheck-2025"},
	}
}

// expand is every concrete path of a route pattern given samples.
func expand(pattern string, samples map[string][]string) []string {
	paths := []string{""}
	for _, part := range strings.Split(strings.TrimPrefix(pattern, "/"), "/") {
		values := []string{part}
		if strings.HasPrefix(part, ":") {
			values = samples[part]
		}
		var next []string
		for _, p := range paths {
			for _, v := range values {
				next = append(next, p+"/"+v)
			}
		}
		paths = next
	}
	return paths
}

func TestCountyKeySeesNoOtherCountyOnAnyAnalystRoute(t *testing.T) {
	// Given a simulated city of several counties with every analyst route's
	// data, and an analyst key bound to one county, when the key calls
	// every route of the route table that accepts scope analyst (each path
	// parameter once of its county and once of another, with and without
	// ?county= and ?region= of another county), then each answer is a 403
	// or holds no USCC, firm name, cluster or warning of another county;
	// and the city-wide key reads the same routes (the walk is not vacuous).
	c := newCountyCity(t)
	secrets := c.secrets(t)
	samples := c.samples(t)
	other := c.outside[0].Region
	t.Logf("county %s: %d firms; %d of other counties; %d strings that must not appear", c.county, len(c.inside), len(c.outside), len(secrets))
	checkBody := []byte(fmt.Sprintf(`{"usccs":[%q,%q]}`, c.inside[0].USCC, c.outside[0].USCC))
	// Every route without a query, asking for another county, with the
	// queries that open the dashboards' other views (a name search, the
	// grade breakdowns) and as exports.
	queries := []string{"", "?county=" + other + "&region=" + other, "?q=" + url.QueryEscape("有限公司") + "&limit=50",
		"?by=cluster&limit=500", "?by=industry&limit=500", "?by=county_industry&limit=500", "?format=csv", "?format=ndjson&by=cluster"}
	answered := 0
	for _, rt := range c.srv.API.Routes() {
		if !slices.Contains(rt.Scopes, api.ScopeAnalyst) {
			continue
		}
		for _, path := range expand(strings.TrimPrefix(rt.Path, "/api/v1"), samples) {
			for _, query := range queries {
				var body []byte
				if rt.Method == http.MethodPost {
					body = checkBody
					if strings.HasPrefix(path, "/pipeline/") {
						body = []byte(`{"job":"score","as_of":"2026-06-30"}`)
					}
				}
				status, got := c.countyDo(t, rt.Method, "/api/v1"+path+query, body)
				name := rt.Method + " " + path + query
				switch {
				case status >= 500:
					t.Errorf("%s: %d %.300s", name, status, got)
				case status == http.StatusForbidden:
					if !bytes.Contains(got, []byte(c.county)) {
						t.Errorf("%s: 403 without saying why: %s", name, got)
					}
				default:
					answered++
					for _, s := range secrets {
						if bytes.Contains(got, []byte(s)) {
							t.Errorf("%s: %d answer holds %s of another county: %.300s", name, status, s, got)
							break
						}
					}
				}
			}
		}
	}
	if answered < 20 {
		t.Errorf("only %d answers other than 403: the walk checks too little", answered)
	}
}

// countyGet GETs path with the county key, wanting 200, into into.
func (c *countyCity) countyGet(t *testing.T, path string, into any) {
	t.Helper()
	status, got := c.countyDo(t, http.MethodGet, path, nil)
	if status != http.StatusOK {
		t.Fatalf("GET %s with the county key: %d %s", path, status, got)
	}
	if err := json.Unmarshal(got, into); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

func TestCountyKeyAggregatesAreTheCountys(t *testing.T) {
	// Given the simulated city and a key bound to one county, then the
	// dashboards' figures for that key are the county's own (those the
	// city-wide key sees for the county), its lists hold its rows only, and
	// the city-wide routes refuse it saying why.
	c := newCountyCity(t)
	var registered int
	grades := map[model.Grade]int{}
	for _, f := range c.inside {
		if !f.Deregistered {
			registered++
			if f.Grade != "" {
				grades[f.Grade]++
			}
		}
	}

	t.Run("overview and grades", func(t *testing.T) {
		// When the county key asks for the overview and the grade breakdowns,
		// then they count the county's firms only.
		var ov api.Overview
		c.countyGet(t, "/api/v1/dashboard/overview", &ov)
		if ov.Enterprises != len(c.inside) {
			t.Errorf("overview: %d enterprises, the county has %d", ov.Enterprises, len(c.inside))
		}
		for _, g := range model.Grades {
			if ov.Grades[g] != grades[g] {
				t.Errorf("overview: %d firms graded %s, the county has %d", ov.Grades[g], g, grades[g])
			}
		}
		var city, county api.GradeBreakdown
		c.cityGet(t, "/api/v1/dashboard/grades?by=county&limit=500", &city)
		c.countyGet(t, "/api/v1/dashboard/grades?by=county", &county)
		i := slices.IndexFunc(city.Items, func(g api.GradeGroup) bool { return g.Key == c.county })
		if len(county.Items) != 1 || i < 0 || fmt.Sprint(county.Items[0]) != fmt.Sprint(city.Items[i]) {
			t.Errorf("by county: the county key sees %+v, the city key %+v", county.Items, city.Items)
		}
		for _, by := range []string{"industry", "cluster", "county_industry"} {
			var b api.GradeBreakdown
			c.countyGet(t, "/api/v1/dashboard/grades?limit=500&by="+by, &b)
			total := 0
			for _, g := range b.Items {
				total += g.Total
			}
			if total != registered || b.Total != len(b.Items) {
				t.Errorf("by %s: %d groups of %d firms; the county has %d registered", by, b.Total, total, registered)
			}
		}
	})

	t.Run("search", func(t *testing.T) {
		// When the county key searches for a part of every name, then every
		// hit is the county's, and a firm of the county is found by its name.
		var hits api.FirmSearch
		c.countyGet(t, "/api/v1/dashboard/enterprises?limit=50&q="+url.QueryEscape("有限公司"), &hits)
		if len(hits.Items) == 0 {
			t.Fatal("no hit")
		}
		for _, h := range hits.Items {
			if h.Region != c.county {
				t.Errorf("hit of %s: %+v", h.Region, h)
			}
		}
		c.countyGet(t, "/api/v1/dashboard/enterprises?q="+url.QueryEscape(c.inside[1].Name), &hits)
		if !slices.ContainsFunc(hits.Items, func(h api.FirmHit) bool { return h.USCC == c.inside[1].USCC }) {
			t.Errorf("searching %s: %+v", c.inside[1].Name, hits.Items)
		}
	})

	t.Run("clusters", func(t *testing.T) {
		// When the county key lists warnings and assessments, then they are
		// those the city key sees with ?county= of the county.
		for _, path := range []string{"/api/v1/clusters/warnings?limit=500", "/api/v1/clusters/assessments"} {
			sep := "?"
			if strings.Contains(path, "?") {
				sep = "&"
			}
			var city, county map[string]json.RawMessage
			c.cityGet(t, path+sep+"county="+c.county, &city)
			c.countyGet(t, path, &county)
			if strings.HasPrefix(path, "/api/v1/clusters/assessments") && len(county["items"]) < 3 {
				t.Errorf("%s: no assessment of the county: the comparison checks nothing", path)
			}
			if !bytes.Equal(city["items"], county["items"]) {
				t.Errorf("%s: the county key sees %.300s, the city key for the county %.300s", path, county["items"], city["items"])
			}
		}
		var hm api.HeatMap
		c.countyGet(t, "/api/v1/clusters/heatmap", &hm)
		if len(hm.Cells) == 0 {
			t.Error("an empty heat map")
		}
		for _, cell := range hm.Cells {
			if cell.County != c.county {
				t.Errorf("a heat-map cell of %s", cell.County)
			}
		}
	})

	t.Run("planning rows", func(t *testing.T) {
		// When the county key reads the KPIs, overdue complaints, the
		// self-correction report and the re-check, then they are the rows
		// of the county and of its firms, and the re-check has no draw.
		var cityKPI, countyKPI api.KPIView
		c.cityGet(t, "/api/v1/kpis?county="+c.county, &cityKPI)
		c.countyGet(t, "/api/v1/kpis", &countyKPI)
		if len(countyKPI.KPIs) == 0 || fmt.Sprint(cityKPI.KPIs) != fmt.Sprint(countyKPI.KPIs) {
			t.Errorf("KPIs: the county key sees %d rows, the city key %d for the county", len(countyKPI.KPIs), len(cityKPI.KPIs))
		}
		inside := map[model.USCC]bool{}
		for _, f := range c.inside {
			inside[f.USCC] = true
		}
		ofCounty := func(rows []json.RawMessage) (n int) {
			for _, r := range rows {
				var x struct {
					USCC model.USCC `json:"uscc"`
				}
				if json.Unmarshal(r, &x) == nil && inside[x.USCC] {
					n++
				}
			}
			return n
		}
		var cityOver, countyOver api.OverdueView
		c.cityGet(t, "/api/v1/complaints/overdue", &cityOver)
		c.countyGet(t, "/api/v1/complaints/overdue", &countyOver)
		var citySC, countySC api.SelfCorrectionView
		c.cityGet(t, "/api/v1/equipment/self-correction", &citySC)
		c.countyGet(t, "/api/v1/equipment/self-correction", &countySC)
		var cityRe, countyRe api.RecheckView
		c.cityGet(t, "/api/v1/rechecks", &cityRe)
		c.countyGet(t, "/api/v1/rechecks", &countyRe)
		for _, l := range []struct {
			name       string
			city, mine []json.RawMessage
		}{{"overdue complaints", cityOver.Complaints, countyOver.Complaints}, {"units", citySC.Units, countySC.Units},
			{"overdue hazards", citySC.OverdueHazards, countySC.OverdueHazards}, {"re-check concerns", cityRe.Concerns, countyRe.Concerns}} {
			if want := ofCounty(l.city); len(l.mine) != want || ofCounty(l.mine) != want {
				t.Errorf("%s: the county key sees %d rows, %d of its firms; the city has %d of them (of %d)", l.name, len(l.mine), ofCounty(l.mine), want, len(l.city))
			}
			t.Logf("%s: %d of the city's %d", l.name, len(l.mine), len(l.city))
		}
		if len(cityRe.Draws) != 1 || len(countyRe.Draws) != 0 {
			t.Errorf("re-check draws: the city key sees %d, the county key %d", len(cityRe.Draws), len(countyRe.Draws))
		}
	})

	t.Run("city-wide routes", func(t *testing.T) {
		// When the county key asks for a city-wide answer, then it gets 403
		// city_wide_route naming its county; the city key gets the answer.
		for _, path := range []string{"/api/v1/dashboard/movement", "/api/v1/plan", "/api/v1/draws/recheck-2025/explain", "/api/v1/partner/lists/dishonest"} {
			status, got := c.countyDo(t, http.MethodGet, path, nil)
			if status != http.StatusForbidden || !bytes.Contains(got, []byte(`"city_wide_route"`)) || !bytes.Contains(got, []byte(c.county)) {
				t.Errorf("%s: %d %s", path, status, got)
			}
			c.srv.Get(t, path, api.ScopeAnalyst, http.StatusOK, nil)
		}
		status, got := c.countyDo(t, http.MethodGet, "/api/v1/kpis?county=320800", nil)
		if status != http.StatusForbidden || !bytes.Contains(got, []byte(`"outside_region"`)) {
			t.Errorf("the city bureau's KPIs: %d %s", status, got)
		}
	})
}

func TestAnalystListViewsExport(t *testing.T) {
	// Given the simulated city, when each list view that gained an export
	// is asked for CSV, XLSX and NDJSON, then each is a download with a
	// BOM (CSV), Chinese and English headers and one row per item of the
	// JSON answer, every item unless a limit is given; a county key's
	// export holds its county's rows only.
	c := newCountyCity(t)
	until := url.QueryEscape(time.Now().Format(time.RFC3339Nano))
	c.srv.Get(t, "/api/v1/audit?limit=1", api.ScopeAdmin, http.StatusOK, nil) // the calls so far are written
	count := func(field string) func(map[string]json.RawMessage) int {
		return func(m map[string]json.RawMessage) int {
			var items []json.RawMessage
			if err := json.Unmarshal(m[field], &items); err != nil {
				t.Fatalf("%s: %v", field, err)
			}
			return len(items)
		}
	}
	for _, v := range []struct {
		path  string
		scope api.Scope
		items func(map[string]json.RawMessage) int
		min   int // the JSON answer has at least this many items: the comparison means something
	}{
		{"/api/v1/clusters/warnings", api.ScopeAnalyst, func(m map[string]json.RawMessage) int {
			var n int
			json.Unmarshal(m["total"], &n)
			return n
		}, 1},
		{"/api/v1/clusters/assessments", api.ScopeAnalyst, count("items"), 10},
		{"/api/v1/clusters/heatmap", api.ScopeAnalyst, count("cells"), 5},
		{"/api/v1/dashboard/grades?by=cluster", api.ScopeAnalyst, func(m map[string]json.RawMessage) int {
			var n int
			json.Unmarshal(m["total"], &n)
			return n
		}, 50},
		{"/api/v1/equipment/self-correction", api.ScopeAnalyst, count("units"), 10},
		{"/api/v1/equipment/self-correction?table=overdue_hazards", api.ScopeAnalyst, count("overdue_hazards"), 5},
		{"/api/v1/rechecks", api.ScopeAnalyst, count("concerns"), 10},
		{"/api/v1/audit?limit=1000&until=" + until, api.ScopeAdmin, count("items"), 3},
	} {
		sep := "?"
		if strings.Contains(v.path, "?") {
			sep = "&"
		}
		var page map[string]json.RawMessage
		c.srv.Get(t, v.path, v.scope, http.StatusOK, &page)
		want := v.items(page)
		if want < v.min {
			t.Errorf("%s: %d items in JSON, the test wants %d", v.path, want, v.min)
		}
		resp := c.srv.Get(t, v.path+sep+"format=csv", v.scope, http.StatusOK, nil)
		body, _ := io.ReadAll(resp.Body)
		rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")))).ReadAll()
		switch {
		case err != nil:
			t.Errorf("%s CSV: %v", v.path, err)
		case !bytes.HasPrefix(body, []byte("\xef\xbb\xbf")) || !strings.Contains(resp.Header.Get("Content-Disposition"), `.csv"`):
			t.Errorf("%s CSV: no BOM or no download: %q %q", v.path, body[:min(8, len(body))], resp.Header.Get("Content-Disposition"))
		case len(rows)-1 != want || !strings.Contains(rows[0][0], " (") || !utf8.ValidString(rows[0][0]):
			t.Errorf("%s CSV: %d rows, JSON has %d; header %q", v.path, len(rows)-1, want, rows[0])
		}
		resp = c.srv.Get(t, v.path+sep+"format=ndjson", v.scope, http.StatusOK, nil)
		body, _ = io.ReadAll(resp.Body)
		if n := bytes.Count(body, []byte("\n")); n != want {
			t.Errorf("%s NDJSON: %d lines, JSON has %d items", v.path, n, want)
		}
		resp = c.srv.Get(t, v.path+sep+"format=xlsx", v.scope, http.StatusOK, nil)
		f, err := excelize.OpenReader(resp.Body)
		if err != nil {
			t.Errorf("%s XLSX: %v", v.path, err)
			continue
		}
		sheet, _ := f.GetRows("Sheet1")
		f.Close()
		if len(sheet)-1 != want {
			t.Errorf("%s XLSX: %d rows, JSON has %d", v.path, len(sheet)-1, want)
		}
	}

	resp := c.srv.Get(t, "/api/v1/dashboard/grades?by=cluster&limit=10&offset=20&format=csv", api.ScopeAnalyst, http.StatusOK, nil)
	if body, _ := io.ReadAll(resp.Body); bytes.Count(body, []byte("\n")) != 11 {
		t.Errorf("grades by cluster, 10 from the 21st: %s", body)
	}
	status, body := c.countyDo(t, http.MethodGet, "/api/v1/clusters/assessments?format=csv", nil)
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")))).ReadAll()
	if status != http.StatusOK || err != nil || len(rows) < 2 {
		t.Fatalf("the county key's export: %d %v %d rows", status, err, len(rows))
	}
	for _, r := range rows[1:] {
		if r[1] != c.county {
			t.Errorf("the county key's export holds a cluster of %s: %q", r[1], r)
		}
	}
	c.srv.Get(t, "/api/v1/rechecks?format=pdf", api.ScopeAnalyst, http.StatusBadRequest, nil)
	c.srv.Get(t, "/api/v1/equipment/self-correction?format=csv&table=units_and_hazards", api.ScopeAnalyst, http.StatusBadRequest, nil)
}
