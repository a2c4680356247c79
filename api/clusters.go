package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/qcredit/qcredit/api/export"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/serving"
	"github.com/qcredit/qcredit/warehouse"
)

// Cluster risk warning routes (产业集聚区质量风险预警), for analysts. Current
// state answers from the read model; a cluster's history and the letters
// come from the warehouse.
func (s *Server) clusterRoutes() {
	s.handle("GET", "/clusters/warnings", analysts, s.clusterWarnings)
	s.handle("GET", "/clusters/warnings/:id", analysts, s.clusterWarning)
	s.handle("GET", "/clusters/warnings/:id/letter", analysts, s.clusterLetter)
	s.handle("GET", "/clusters/assessments", analysts, s.clusterAssessments)
	s.handle("GET", "/clusters/assessments/:cluster", analysts, s.clusterAssessment)
	s.handle("GET", "/clusters/assessments/:cluster/history", analysts, s.clusterHistory)
	s.handle("GET", "/clusters/funnels/:division", analysts, s.clusterFunnel)
	s.handle("GET", "/clusters/heatmap", analysts, s.clusterHeatMap)
}

// jobClusters is the clusters job's name (pipelines.JobClusters).
const jobClusters = "clusters"

// ClusterRunRef names the clusters run an answer comes from.
type ClusterRunRef struct {
	RunID string `json:"run_id"`
	AsOf  string `json:"as_of"`
}

// WarningView is a warning as the API shows it: with its level's Chinese
// name and, when it has a letter, where to get it.
type WarningView struct {
	model.Warning
	LevelLabel string `json:"level_label"`
	// Letter is the path of its letter (质量风险提示函), or "" for a watch.
	Letter string `json:"letter,omitempty"`
}

// WarningList is a page of the current warnings.
type WarningList struct {
	ClusterRunRef
	Total  int           `json:"total"`
	Limit  int           `json:"limit"`
	Offset int           `json:"offset"`
	Items  []WarningView `json:"items"`
}

// clusterPart is the read model's clusters part (nil before the first
// clusters run) and its run; ok is false, and a 503 sent, while the read
// model loads.
func (s *Server) clusterPart(c *gin.Context) (*serving.ClusterPart, ClusterRunRef, bool) {
	m, ok := s.currentModel(c)
	if !ok {
		return nil, ClusterRunRef{}, false
	}
	p := m.Clusters()
	run, _ := m.Run(jobClusters)
	return p, ClusterRunRef{RunID: run.ID, AsOf: run.AsOf}, true
}

// warningView is w as the caller sees it: a county key sees only its
// county's enterprises among the assessment's top ones.
func (s *Server) warningView(c *gin.Context, p *serving.ClusterPart, w model.Warning) WarningView {
	if m := s.model.Current(); m != nil {
		w.Assessment = coveredTop(m, caller(c), w.Assessment)
	}
	v := WarningView{Warning: w, LevelLabel: w.Level.Label()}
	if _, ok := p.LetterRun(w.ID); ok {
		v.Letter = "/api/v1/clusters/warnings/" + w.ID + "/letter"
	}
	return v
}

func (s *Server) clusterWarnings(c *gin.Context) {
	format, exporting, xerr := exportParam(c)
	f, err := clusterFilter(c, "open", "closed")
	err = errors.Join(xerr, err)
	limit, offset, perr := listingPage(c, exporting)
	if v, ok := c.GetQuery("needs_acknowledgement"); ok {
		switch v {
		case "true", "false":
			b := v == "true"
			f.NeedsAcknowledgement = &b
		default:
			err = errors.Join(err, fmt.Errorf("needs_acknowledgement must be true or false, got %q", v))
		}
	}
	if err := errors.Join(err, perr); err != nil {
		abort(c, http.StatusBadRequest, "invalid_query", err.Error())
		return
	}
	var ok bool
	if f.County, ok = analystRegion(c, f.County); !ok { // a county key: its county's clusters
		return
	}
	p, ref, ok := s.clusterPart(c)
	if !ok {
		return
	}
	out := WarningList{ClusterRunRef: ref, Limit: limit, Offset: offset, Items: []WarningView{}}
	if p != nil {
		page := p.Warnings(f, offset, limit)
		out.Total = page.Total
		for _, w := range page.Items {
			out.Items = append(out.Items, s.warningView(c, p, w))
		}
	}
	if exporting {
		s.streamTable(c, format, "cluster-warnings-"+ref.AsOf, warningColumns, func(w *export.Writer) error {
			for _, v := range out.Items {
				if err := w.Row(warningRow(v)...); err != nil {
					return err
				}
			}
			return nil
		})
		return
	}
	auditItems(c, len(out.Items))
	c.JSON(http.StatusOK, out)
}

// warning finds the :id warning in the current run, or answers 404.
func (s *Server) warning(c *gin.Context) (*serving.ClusterPart, model.Warning, bool) {
	p, ref, ok := s.clusterPart(c)
	if !ok {
		return nil, model.Warning{}, false
	}
	id := c.Param("id")
	if p == nil {
		abort(c, http.StatusNotFound, "warning_not_found", "no clusters run yet: no warning "+id)
		return nil, model.Warning{}, false
	}
	w, found := p.Warning(id)
	if !found {
		abort(c, http.StatusNotFound, "warning_not_found", fmt.Sprintf("no warning %s in the current clusters run %s (closed warnings are kept a year)", id, ref.RunID))
		return nil, model.Warning{}, false
	}
	if !analystCovers(c, w.County) {
		return nil, model.Warning{}, false
	}
	return p, w, true
}

func (s *Server) clusterWarning(c *gin.Context) {
	p, w, ok := s.warning(c)
	if !ok {
		return
	}
	auditDetail(c, "warning", w.ID)
	c.JSON(http.StatusOK, s.warningView(c, p, w))
}

// clusterLetter serves a warning's letter as the run that raised or
// escalated it wrote it: HTML, or PDF printed by headless Chromium with
// ?format=pdf or Accept: application/pdf.
func (s *Server) clusterLetter(c *gin.Context) {
	pdf, err := wantsPDF(c)
	if err != nil {
		abort(c, http.StatusBadRequest, "invalid_query", err.Error())
		return
	}
	p, w, ok := s.warning(c)
	if !ok {
		return
	}
	if m := s.model.Current(); boundCounty(caller(c)) != "" && m != nil && !clusterWithin(m, caller(c), w.Cluster) {
		abort(c, http.StatusForbidden, "outside_region", fmt.Sprintf("cluster %s has firms outside county %s and its letter names them; ask a city-wide analyst for it",
			w.Cluster, caller(c).Region))
		return
	}
	version, ok := p.LetterRun(w.ID)
	if !ok {
		abort(c, http.StatusNotFound, "letter_not_found", fmt.Sprintf("warning %s has no letter: a watch (blue) gets none", w.ID))
		return
	}
	o, err := s.store.Output(c.Request.Context(), jobClusters, version, model.ClusterKeyLetter+w.ID)
	if errors.Is(err, warehouse.ErrNotFound) {
		abort(c, http.StatusNotFound, "letter_not_found", fmt.Sprintf("the letter of warning %s is not in run %s (was %s re-run since?)",
			w.ID, warehouse.RunID(jobClusters, version), w.LetterOn))
		return
	}
	if err != nil {
		s.internal(c, "warning letter", err)
		return
	}
	auditDetail(c, "warning", w.ID)
	if !pdf {
		c.Header("Content-Disposition", fmt.Sprintf(`inline; filename="%s.html"`, w.ID))
		// The letter is a document: its own styles and inline SVG, nothing to run or fetch.
		c.Header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
		c.Data(http.StatusOK, "text/html; charset=utf-8", o.Payload)
		return
	}
	doc, err := s.letters.Print(c.Request.Context(), o.Payload)
	if errors.Is(err, ErrNoChromium) {
		abort(c, http.StatusServiceUnavailable, "pdf_unavailable", err.Error()+"; the HTML letter prints from any browser")
		return
	}
	if err != nil {
		s.internal(c, "print warning letter", err)
		return
	}
	c.Header("Content-Disposition", fmt.Sprintf(`inline; filename="%s.pdf"`, w.ID))
	c.Data(http.StatusOK, "application/pdf", doc)
}

// wantsPDF reads ?format= (html or pdf), else the Accept header.
func wantsPDF(c *gin.Context) (bool, error) {
	switch f := c.Query("format"); f {
	case "pdf":
		return true, nil
	case "html":
		return false, nil
	case "":
		accept := c.GetHeader("Accept")
		return strings.Contains(accept, "application/pdf") && !strings.Contains(accept, "text/html"), nil
	default:
		return false, fmt.Errorf("format must be html or pdf, got %q", f)
	}
}

// AssessmentList is the current assessments that match a filter.
type AssessmentList struct {
	ClusterRunRef
	// Run is the clusters run's window and overdispersion; null before the first run.
	Run   *model.ClusterRun         `json:"run"`
	Items []model.ClusterAssessment `json:"items"`
}

func (s *Server) clusterAssessments(c *gin.Context) {
	format, exporting, xerr := exportParam(c)
	f, err := clusterFilter(c, string(model.AssessmentStatusAssessed), string(model.AssessmentStatusInsufficientData))
	if err = errors.Join(xerr, err); err != nil {
		abort(c, http.StatusBadRequest, "invalid_query", err.Error())
		return
	}
	var ok bool
	if f.County, ok = analystRegion(c, f.County); !ok {
		return
	}
	m, ok := s.currentModel(c)
	if !ok {
		return
	}
	p, ref, _ := s.clusterPart(c)
	out := AssessmentList{ClusterRunRef: ref, Items: []model.ClusterAssessment{}}
	if p != nil {
		out.Run = &p.Run
		for _, a := range p.Assessments(f) {
			out.Items = append(out.Items, coveredTop(m, caller(c), a))
		}
	}
	if exporting {
		s.streamTable(c, format, "cluster-assessments-"+ref.AsOf, assessmentColumns, func(w *export.Writer) error {
			for _, a := range out.Items {
				if err := w.Row(assessmentRow(a)...); err != nil {
					return err
				}
			}
			return nil
		})
		return
	}
	auditItems(c, len(out.Items))
	c.JSON(http.StatusOK, out)
}

// AssessmentView is one cluster's current assessment.
type AssessmentView struct {
	ClusterRunRef
	model.ClusterAssessment
	LevelLabel string `json:"level_label"`
}

func (s *Server) clusterAssessment(c *gin.Context) {
	p, ref, ok := s.clusterPart(c)
	if !ok {
		return
	}
	key := c.Param("cluster")
	var a model.ClusterAssessment
	if p != nil {
		a, ok = p.Assessment(key)
	}
	if p == nil || !ok {
		abort(c, http.StatusNotFound, "cluster_not_found", fmt.Sprintf("no cluster %q in the current clusters run %s", key, ref.RunID))
		return
	}
	if !analystCovers(c, a.County) {
		return
	}
	if m := s.model.Current(); m != nil {
		a = coveredTop(m, caller(c), a)
	}
	c.JSON(http.StatusOK, AssessmentView{ClusterRunRef: ref, ClusterAssessment: a, LevelLabel: a.Level.Label()})
}

// ClusterHistory is a cluster's indicators over past runs, the latest
// first: one entry per as_of (that day's current run).
type ClusterHistory struct {
	Cluster string               `json:"cluster"`
	Items   []ClusterHistoryItem `json:"items"`
}

// ClusterHistoryItem is a cluster's level, evidence and indicators in one run.
type ClusterHistoryItem struct {
	ClusterRunRef
	Level      model.Level             `json:"level"`
	Status     model.AssessmentStatus  `json:"status"`
	Signals    []model.Signal          `json:"signals"`
	Evidence   model.ClusterEvidence   `json:"evidence"`
	Indicators model.ClusterIndicators `json:"indicators"`
}

// historyRuns bounds the runs a cluster's history reads: a year of daily runs.
const historyRuns = 400

func (s *Server) clusterHistory(c *gin.Context) {
	limit, err := intParam(c, "limit", 100, 1, historyRuns)
	if err != nil {
		abort(c, http.StatusBadRequest, "invalid_query", err.Error())
		return
	}
	key := c.Param("cluster")
	// Re-runs of a day are all kept; the newest of each as_of comes first.
	rows, err := s.store.KeyHistory(c.Request.Context(), jobClusters, model.ClusterKeyAssessment+key, historyRuns)
	if err != nil {
		s.internal(c, "cluster history", err)
		return
	}
	out := ClusterHistory{Cluster: key, Items: []ClusterHistoryItem{}}
	seen := map[string]bool{}
	outside := "" // the county a skipped run placed the cluster in
	for _, r := range rows {
		if seen[r.Run.AsOf] || len(out.Items) == limit {
			continue
		}
		seen[r.Run.AsOf] = true
		var a model.ClusterAssessment
		if err := json.Unmarshal(r.Payload, &a); err != nil {
			s.internal(c, "cluster history", fmt.Errorf("assessment of %s in %s: %w", key, r.Run.ID, err))
			return
		}
		a.Evidence.Top = nil // the history shows figures; the current assessment names the enterprises
		if !caller(c).Covers(a.County) {
			outside = a.County
			continue // a county key: the runs that placed the cluster in its county only
		}
		out.Items = append(out.Items, ClusterHistoryItem{ClusterRunRef: ClusterRunRef{RunID: r.Run.ID, AsOf: r.Run.AsOf},
			Level: a.Level, Status: a.Status, Signals: a.Signals, Evidence: a.Evidence, Indicators: a.Indicators})
	}
	if len(out.Items) == 0 && outside != "" {
		outsideRegion(c, caller(c), outside)
		return
	}
	if len(out.Items) == 0 {
		abort(c, http.StatusNotFound, "cluster_not_found", fmt.Sprintf("no clusters run has assessed cluster %q", key))
		return
	}
	auditItems(c, len(out.Items))
	c.JSON(http.StatusOK, out)
}

// FunnelView is a division's funnel plot in the current run.
type FunnelView struct {
	ClusterRunRef
	model.FunnelPlot
}

func (s *Server) clusterFunnel(c *gin.Context) {
	d := c.Param("division")
	if len(d) != 3 || !model.ValidIndustryCode(d) {
		abort(c, http.StatusBadRequest, "invalid_division", fmt.Sprintf("division %q is not a GB/T 4754-2017 division such as C30", d))
		return
	}
	p, ref, ok := s.clusterPart(c)
	if !ok {
		return
	}
	var f model.FunnelPlot
	if p != nil {
		f, ok = p.Funnel(d)
	}
	if p != nil && ok {
		f, ok = coveredFunnel(caller(c), f)
	}
	if p == nil || !ok {
		abort(c, http.StatusNotFound, "division_not_found", fmt.Sprintf("no cluster of division %s in the current clusters run %s that key %s covers",
			d, ref.RunID, caller(c).Key))
		return
	}
	c.JSON(http.StatusOK, FunnelView{ClusterRunRef: ref, FunnelPlot: f})
}

// coveredFunnel is f with only the clusters the caller covers; its centre
// line and limits stay the division's, the city-wide reference a county's
// points are read against. ok is false when no point is left.
func coveredFunnel(cl Caller, f model.FunnelPlot) (model.FunnelPlot, bool) {
	if boundCounty(cl) == "" {
		return f, true
	}
	points := make([]model.FunnelPoint, 0, len(f.Points))
	for _, pt := range f.Points {
		if cl.Covers(pt.County) {
			points = append(points, pt)
		}
	}
	f.Points = points
	return f, len(points) > 0
}

// HeatMap is the county × division cells of the current run.
type HeatMap struct {
	ClusterRunRef
	Cells []serving.ClusterCell `json:"cells"`
}

func (s *Server) clusterHeatMap(c *gin.Context) {
	format, exporting, xerr := exportParam(c)
	f, err := clusterFilter(c)
	if err == nil && (f.Cluster != "" || f.Level != "" || f.MinLevel != "" || f.Status != "") {
		err = errors.New("the heat map filters by county and division only")
	}
	err = errors.Join(xerr, err)
	if err != nil {
		abort(c, http.StatusBadRequest, "invalid_query", err.Error())
		return
	}
	var ok bool
	if f.County, ok = analystRegion(c, f.County); !ok { // a county key: its county's cells
		return
	}
	p, ref, ok := s.clusterPart(c)
	if !ok {
		return
	}
	out := HeatMap{ClusterRunRef: ref, Cells: []serving.ClusterCell{}}
	if p != nil {
		out.Cells = p.HeatMap(f)
	}
	if exporting {
		s.streamTable(c, format, "cluster-heatmap-"+ref.AsOf, heatMapColumns, func(w *export.Writer) error {
			for _, x := range out.Cells {
				if err := w.Row(heatMapRow(x)...); err != nil {
					return err
				}
			}
			return nil
		})
		return
	}
	c.JSON(http.StatusOK, out)
}

// clusterFilter reads county, division, cluster, level, min_level and
// status (one of statuses), one message per problem.
func clusterFilter(c *gin.Context, statuses ...string) (serving.ClusterFilter, error) {
	f := serving.ClusterFilter{County: c.Query("county"), Division: c.Query("division"), Cluster: c.Query("cluster"), Status: c.Query("status")}
	var errs []error
	if f.County != "" {
		if _, ok := model.LookupRegion(f.County); !ok || !serving.InRegion(f.County, model.CityHuaian) {
			errs = append(errs, fmt.Errorf("county %q is not the city (320800) or one of its counties (GB/T 2260)", f.County))
		}
	}
	if f.Division != "" && !(len(f.Division) <= 3 && model.ValidIndustryPrefix(f.Division)) {
		errs = append(errs, fmt.Errorf("division %q is not a GB/T 4754-2017 section or division (C, C30)", f.Division))
	}
	for _, l := range []struct {
		name string
		dst  *model.Level
	}{{"level", &f.Level}, {"min_level", &f.MinLevel}} {
		name, dst := l.name, l.dst
		if v := c.Query(name); v != "" {
			l, ok := model.ParseLevel(v)
			if !ok {
				errs = append(errs, fmt.Errorf("%s must be red, orange, yellow or blue, got %q", name, v))
			}
			*dst = l
		}
	}
	if _, ok := c.GetQuery("status"); ok && !slices.Contains(statuses, f.Status) {
		errs = append(errs, fmt.Errorf("status must be one of %s, got %q", strings.Join(statuses, ", "), f.Status))
	}
	return f, errors.Join(errs...)
}
