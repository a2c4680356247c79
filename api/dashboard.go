package api

import (
	"cmp"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/qcredit/qcredit/api/export"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/serving"
	"github.com/qcredit/qcredit/warehouse"
)

// Dashboard statistics (scope analyst), answered from the read model: the
// grade breakdowns are computed once per snapshot, the movement and the
// monthly stats by part loaders when their run changes. Documented in
// api/openapi/dashboards.yaml.
func (s *Server) dashboardRoutes() {
	s.handle("GET", "/dashboard/overview", analysts, s.dashboardOverview)
	s.handle("GET", "/dashboard/grades", analysts, s.dashboardGrades)
	s.handle("GET", "/dashboard/movement", analysts, s.dashboardMovement)
	s.handle("GET", "/dashboard/spot-checks", analysts, s.dashboardSpotChecks)
	s.handle("GET", "/dashboard/counties", analysts, s.dashboardCounties)
	s.handle("GET", "/dashboard/enterprises", analysts, s.dashboardSearch)
}

// RunView is a run record with times in +08:00.
type RunView struct {
	warehouse.Run
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
}

func runView(r warehouse.Run) RunView {
	v := RunView{Run: r, StartedAt: local(r.StartedAt)}
	v.Watermark = local(r.Watermark)
	if r.FinishedAt != nil {
		f := local(*r.FinishedAt)
		v.FinishedAt = &f
	}
	return v
}

func optRun(r warehouse.Run, ok bool) *RunView {
	if !ok {
		return nil
	}
	v := runView(r)
	return &v
}

// GradeCounts are enterprises per grade, keyed A–D.
type GradeCounts map[model.Grade]int

func gradeCounts(g [4]int) GradeCounts {
	out := GradeCounts{}
	for i, grade := range model.Grades {
		out[grade] = g[i]
	}
	return out
}

// Overview is the overview page's headline figures.
type Overview struct {
	Enterprises int         `json:"enterprises"`
	Scored      int         `json:"scored"`
	Grades      GradeCounts `json:"grades"`
	ScoreRun    *RunView    `json:"score_run"`
	StatsRun    *RunView    `json:"stats_run"`
	// SpotChecks and SpotCheckFailures are the last 12 months' (stats run).
	SpotChecks        int64 `json:"spot_checks"`
	SpotCheckFailures int64 `json:"spot_check_failures"`
	ComplaintsOpen    int64 `json:"complaints_open"`
	ComplaintsOverdue int64 `json:"complaints_overdue"`
	// Runs are the latest pipeline runs, newest first, whatever their status.
	Runs []RunView `json:"runs"`
}

const overviewRuns = 12

func (s *Server) dashboardOverview(c *gin.Context) {
	m, ok := s.currentModel(c)
	if !ok {
		return
	}
	runs, err := s.store.Runs(c.Request.Context(), warehouse.RunFilter{Limit: overviewRuns})
	if err != nil {
		s.internal(c, "pipeline runs", err)
		return
	}
	// A county key's figures are its county's: its firms' grades, its
	// bureau's spot checks and complaints.
	county := boundCounty(caller(c))
	b, enterprises := s.breakdown(c, m)
	var total [4]int
	for _, r := range b.ByCounty {
		for i := range total {
			total[i] += r.Grades[i]
		}
	}
	out := Overview{Enterprises: enterprises, Grades: gradeCounts(total), ScoreRun: optRun(m.ScoreRun()), Runs: []RunView{}}
	for _, n := range total {
		out.Scored += n
	}
	if st := serving.StatsOf(m); st != nil {
		out.StatsRun = optRun(st.Run, true)
		since := monthsBack(st.Run.AsOf, 12)
		for _, cm := range st.Months {
			if cm.Month >= since && (county == "" || cm.County == county) {
				out.SpotChecks += cm.SpotChecks
				out.SpotCheckFailures += cm.SpotCheckFailures
			}
		}
		for _, cc := range st.Complaints {
			if county == "" || cc.County == county {
				out.ComplaintsOpen += cc.Open
				out.ComplaintsOverdue += cc.Overdue
			}
		}
	}
	for _, r := range runs {
		out.Runs = append(out.Runs, runView(r))
	}
	c.JSON(http.StatusOK, out)
}

// monthsBack is the first month (YYYY-MM) of the n months ending with
// asOf's month.
func monthsBack(asOf string, n int) string {
	t, err := time.ParseInLocation(time.DateOnly, asOf, model.Shanghai)
	if err != nil {
		return ""
	}
	return time.Date(t.Year(), t.Month()-time.Month(n-1), 1, 0, 0, 0, 0, model.Shanghai).Format("2006-01")
}

// months are the n months (YYYY-MM) ending with asOf's month, oldest first.
func months(asOf string, n int) []string {
	t, err := time.ParseInLocation(time.DateOnly, asOf, model.Shanghai)
	if err != nil {
		return nil
	}
	out := make([]string, n)
	for i := range n {
		out[i] = time.Date(t.Year(), t.Month()-time.Month(n-1-i), 1, 0, 0, 0, 0, model.Shanghai).Format("2006-01")
	}
	return out
}

// GradeGroup is one group's enterprises by grade.
type GradeGroup struct {
	Key  string `json:"key"`
	Name string `json:"name"`
	// County and Industry are set for by=county_industry (key county|division).
	County   string      `json:"county,omitempty"`
	Industry string      `json:"industry,omitempty"`
	Grades   GradeCounts `json:"grades"`
	Unscored int         `json:"unscored"`
	Total    int         `json:"total"`
	// RiskShare is the share of graded enterprises graded C or D.
	RiskShare float64 `json:"risk_share"`
}

// GradeBreakdown is a page of groups.
type GradeBreakdown struct {
	By     string       `json:"by"`
	AsOf   string       `json:"as_of,omitempty"`
	Total  int          `json:"total"`
	Offset int          `json:"offset"`
	Limit  int          `json:"limit"`
	Items  []GradeGroup `json:"items"`
}

func (s *Server) dashboardGrades(c *gin.Context) {
	m, ok := s.currentModel(c)
	if !ok {
		return
	}
	b, _ := s.breakdown(c, m) // a county key's groups count its county's firms only
	groups := map[string][]serving.GradeRow{"county": b.ByCounty, "industry": b.ByIndustry, "cluster": b.ByCluster,
		"county_industry": b.ByCountyIndustry}
	by := cmp.Or(c.Query("by"), "county")
	rows, known := groups[by]
	format, exporting, err0 := exportParam(c)
	limit, offset, err := listingPage(c, exporting)
	switch {
	case !known:
		abort(c, http.StatusBadRequest, "invalid_query", "by must be county, industry, cluster or county_industry, got "+by)
		return
	case err0 != nil || err != nil:
		abort(c, http.StatusBadRequest, "invalid_query", errors.Join(err0, err).Error())
		return
	}
	out := GradeBreakdown{By: by, Total: len(rows), Offset: offset, Limit: limit, Items: []GradeGroup{}}
	if run, ok := m.ScoreRun(); ok {
		out.AsOf = run.AsOf
	}
	for _, r := range rows[min(offset, len(rows)):min(offset+limit, len(rows))] {
		out.Items = append(out.Items, gradeGroup(by, r))
	}
	if exporting {
		s.streamTable(c, format, "grades-by-"+by+"-"+cmp.Or(out.AsOf, "unscored"), gradeGroupColumns, func(w *export.Writer) error {
			for _, g := range out.Items {
				if err := w.Row(gradeGroupRow(g)...); err != nil {
					return err
				}
			}
			return nil
		})
		return
	}
	c.JSON(http.StatusOK, out)
}

func gradeGroup(by string, r serving.GradeRow) GradeGroup {
	g := GradeGroup{Key: r.Key, Grades: gradeCounts(r.Grades), Unscored: r.Unscored, Total: r.Total()}
	if graded := r.Total() - r.Unscored; graded > 0 {
		g.RiskShare = float64(r.Grades[2]+r.Grades[3]) / float64(graded)
	}
	switch by {
	case "county":
		g.Name = regionName(r.Key)
	case "industry":
		g.Name = industryName(r.Key)
	case "cluster":
		g.Name = clusterName(r.Key)
	case "county_industry":
		g.County, g.Industry, _ = strings.Cut(r.Key, "|")
		g.Name = regionName(g.County) + " " + industryName(g.Industry)
	}
	return g
}

func regionName(code string) string {
	if r, ok := model.LookupRegion(code); ok {
		return r.Name
	}
	return code
}

func industryName(code string) string {
	if i, ok := model.LookupIndustry(code); ok {
		return i.Name
	}
	return code
}

// clusterName names a county-division cluster key (320830-C30) by its
// county and division; a declared cluster id is its own name.
func clusterName(key string) string {
	county, div, ok := strings.Cut(key, "-")
	if _, known := model.LookupRegion(county); !ok || !known {
		return key
	}
	return regionName(county) + " " + industryName(div)
}

// Flow is how many enterprises moved from one grade to another between two
// score runs; From is "new" for enterprises the earlier run did not grade.
type Flow struct {
	From  string `json:"from"`
	To    string `json:"to"`
	Count int    `json:"count"`
}

// GradeMovement is the grade movement between the previous score run (by
// as_of) and the current one.
type GradeMovement struct {
	From  *RunView `json:"from"`
	To    *RunView `json:"to"`
	Flows []Flow   `json:"flows"`
}

func (s *Server) dashboardMovement(c *gin.Context) {
	m, ok := s.currentModel(c)
	if !ok {
		return
	}
	out := GradeMovement{Flows: []Flow{}}
	mv := serving.MovementOf(m)
	if mv == nil {
		c.JSON(http.StatusOK, out)
		return
	}
	out.To = optRun(mv.To, true)
	out.From = optRun(mv.From, mv.From.ID != "")
	for from, row := range mv.Flows {
		name := "new"
		if from < len(model.Grades) {
			name = string(model.Grades[from])
		}
		for to, n := range row {
			if n > 0 {
				out.Flows = append(out.Flows, Flow{From: name, To: string(model.Grades[to]), Count: n})
			}
		}
	}
	c.JSON(http.StatusOK, out)
}

// MonthChecks is one month of spot checks.
type MonthChecks struct {
	Month    string  `json:"month"`
	Checks   int64   `json:"checks"`
	Failures int64   `json:"failures"`
	Rate     float64 `json:"rate"` // failures / checks, 0 without checks
}

// SpotCheckTrend is the spot-check failure trend by month.
type SpotCheckTrend struct {
	Run    *RunView      `json:"run"`
	County string        `json:"county,omitempty"`
	Months []MonthChecks `json:"months"`
}

func (s *Server) dashboardSpotChecks(c *gin.Context) {
	m, ok := s.currentModel(c)
	if !ok {
		return
	}
	county := c.Query("county")
	n, err := intParam(c, "months", 24, 1, 36)
	if err != nil {
		abort(c, http.StatusBadRequest, "invalid_query", err.Error())
		return
	}
	if county != "" && !model.IsHuaianBureau(county) {
		abort(c, http.StatusBadRequest, "invalid_query", "county "+county+" is not the city (320800) or one of its county bureaus")
		return
	}
	if county, ok = analystRegion(c, county); !ok { // a county key: its bureau's checks
		return
	}
	out := SpotCheckTrend{County: county, Months: []MonthChecks{}}
	st := serving.StatsOf(m)
	if st == nil {
		c.JSON(http.StatusOK, out)
		return
	}
	out.Run = optRun(st.Run, true)
	// Every month of the window, those without checks too: a continuous axis.
	index := map[string]int{}
	for i, m := range months(st.Run.AsOf, n) {
		index[m] = i
		out.Months = append(out.Months, MonthChecks{Month: m})
	}
	for _, cm := range st.Months {
		i, ok := index[cm.Month]
		if !ok || county != "" && cm.County != county {
			continue
		}
		out.Months[i].Checks += cm.SpotChecks
		out.Months[i].Failures += cm.SpotCheckFailures
	}
	for i, mc := range out.Months {
		if mc.Checks > 0 {
			out.Months[i].Rate = float64(mc.Failures) / float64(mc.Checks)
		}
	}
	c.JSON(http.StatusOK, out)
}

// CountyMonthView is one month of a county's reporting.
type CountyMonthView struct {
	Month       string `json:"month"`
	Events      int64  `json:"events"`
	DeadLetters int64  `json:"dead_letters"`
}

// CountyIndicators are one county bureau's indicators over the window.
type CountyIndicators struct {
	County      string      `json:"county"` // "" for refused input whose source could not be read
	Name        string      `json:"name"`
	Enterprises int         `json:"enterprises"`
	Grades      GradeCounts `json:"grades"`
	// Events reported in the window, spot checks and failures among them.
	Events            int64 `json:"events"`
	SpotChecks        int64 `json:"spot_checks"`
	SpotCheckFailures int64 `json:"spot_check_failures"`
	// MeanDelayHours is the mean reporting delay (reported_at − occurred_at)
	// of the events that say when they were reported; null when none did.
	MeanDelayHours *float64 `json:"mean_delay_hours"`
	DeadLetters    int64    `json:"dead_letters"`
	// DeadLetterRate is dead letters / (events + dead letters).
	DeadLetterRate    float64           `json:"dead_letter_rate"`
	ComplaintsOpen    int64             `json:"complaints_open"`
	ComplaintsOverdue int64             `json:"complaints_overdue"`
	Months            []CountyMonthView `json:"months"`
}

// CountiesReport is every county bureau's indicators.
type CountiesReport struct {
	Run      *RunView           `json:"run"`
	From     string             `json:"from,omitempty"` // first month of the window, YYYY-MM
	To       string             `json:"to,omitempty"`
	Counties []CountyIndicators `json:"counties"`
}

func (s *Server) dashboardCounties(c *gin.Context) {
	m, ok := s.currentModel(c)
	if !ok {
		return
	}
	n, err := intParam(c, "months", 12, 1, 36)
	if err != nil {
		abort(c, http.StatusBadRequest, "invalid_query", err.Error())
		return
	}
	rows := map[string]*CountyIndicators{}
	row := func(county string) *CountyIndicators {
		r := rows[county]
		if r == nil {
			r = &CountyIndicators{County: county, Name: regionName(county), Grades: gradeCounts([4]int{}), Months: []CountyMonthView{}}
			rows[county] = r
		}
		return r
	}
	for _, g := range m.Breakdown().ByCounty {
		if model.IsHuaianBureau(g.Key) {
			r := row(g.Key)
			r.Enterprises, r.Grades = g.Total(), gradeCounts(g.Grades)
		}
	}
	out := CountiesReport{Counties: []CountyIndicators{}}
	if st := serving.StatsOf(m); st != nil {
		out.Run = optRun(st.Run, true)
		out.From, out.To = monthsBack(st.Run.AsOf, n), st.Run.AsOf[:7]
		reported, delay := map[string]int64{}, map[string]int64{}
		for _, cm := range st.Months {
			if cm.Month < out.From {
				continue
			}
			r := row(cm.County)
			r.Events += cm.Events
			r.SpotChecks += cm.SpotChecks
			r.SpotCheckFailures += cm.SpotCheckFailures
			r.DeadLetters += cm.DeadLetters
			reported[cm.County] += cm.Reported
			delay[cm.County] += cm.DelaySeconds
			r.Months = append(r.Months, CountyMonthView{Month: cm.Month, Events: cm.Events, DeadLetters: cm.DeadLetters})
		}
		for county, r := range rows {
			if n := reported[county]; n > 0 {
				h := float64(delay[county]) / float64(n) / 3600
				r.MeanDelayHours = &h
			}
			if r.Events+r.DeadLetters > 0 {
				r.DeadLetterRate = float64(r.DeadLetters) / float64(r.Events+r.DeadLetters)
			}
		}
		for _, cc := range st.Complaints {
			r := row(cc.County)
			r.ComplaintsOpen, r.ComplaintsOverdue = cc.Open, cc.Overdue
		}
	}
	bound := boundCounty(caller(c))
	for _, r := range rows {
		if bound != "" && r.County != bound {
			continue // a county key sees its own bureau's row only
		}
		if r.County == "" {
			r.Name = ""
		}
		out.Counties = append(out.Counties, *r)
	}
	slices.SortFunc(out.Counties, func(a, b CountyIndicators) int { return strings.Compare(a.County, b.County) })
	c.JSON(http.StatusOK, out)
}

// FirmHit is an enterprise found by name or USCC.
type FirmHit struct {
	USCC       model.USCC   `json:"uscc"`
	Name       string       `json:"name"`
	Region     string       `json:"region"`
	RegionName string       `json:"region_name,omitempty"`
	Industry   string       `json:"industry"`
	Grade      model.Grade  `json:"grade,omitempty"`
	Score      model.Points `json:"score,omitempty"`
}

// FirmSearch are the hits of a search: the enterprise whose USCC is q, then
// the names containing q, shortest first, then by USCC (so an exact name
// comes first). More: there were more hits than the limit.
type FirmSearch struct {
	Query string    `json:"q"`
	Items []FirmHit `json:"items"`
	More  bool      `json:"more"`
}

// countySearchScan is how many of the city's best hits a county key's
// search looks through for its county's: past them, More says there may be
// more (a longer query narrows them).
const countySearchScan = 2000

// dashboardSearch is the credit file's search: the public search's bigram
// index (serving.SearchNames: no scan of every firm, whatever the city's
// size) with what analysts see besides, the score and the region's name.
func (s *Server) dashboardSearch(c *gin.Context) {
	q, limit, err := searchQuery(c)
	if err != nil {
		abort(c, http.StatusBadRequest, "invalid_query", err.Error())
		return
	}
	m, ok := s.currentModel(c)
	if !ok {
		return
	}
	cl := caller(c)
	scan := limit
	if boundCounty(cl) != "" {
		scan = countySearchScan
	}
	res, err := m.SearchNames(q, scan)
	if err != nil {
		abort(c, http.StatusBadRequest, "invalid_query", err.Error())
		return
	}
	out := FirmSearch{Query: q, Items: make([]FirmHit, 0, min(limit, len(res.Hits))), More: res.More}
	for _, f := range res.Hits {
		if !cl.Covers(f.Region) {
			continue
		}
		if len(out.Items) == limit {
			out.More = true
			break
		}
		out.Items = append(out.Items, FirmHit{USCC: f.USCC, Name: f.Name, Region: f.Region, RegionName: regionName(f.Region),
			Industry: f.Industry, Grade: f.Grade, Score: f.Score})
	}
	auditItems(c, len(out.Items))
	c.JSON(http.StatusOK, out)
}
