package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/qcredit/qcredit/api/export"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/serving"
	"github.com/qcredit/qcredit/warehouse"
)

// Analyst routes.
func (s *Server) analystRoutes() {
	s.handle("GET", "/enterprises/:uscc", analysts, s.creditFile)
	s.handle("GET", "/scores", analysts, s.listScores)
}

// jobScore is the score job's name (pipelines.JobScore).
const jobScore = "score"

// Score is a score as the API shows it.
type Score struct {
	RunID        string          `json:"run_id"`
	AsOf         string          `json:"as_of"`
	ModelVersion string          `json:"model_version"`
	Score        model.Points    `json:"score"` // exact decimal, one fractional digit
	Grade        model.Grade     `json:"grade"`
	GradeLabel   string          `json:"grade_label"`
	Reasons      json.RawMessage `json:"reasons,omitempty"`
}

func scoreView(run warehouse.Run, o warehouse.OutputRow) Score {
	g := model.Grade(o.Label)
	out := Score{RunID: run.ID, AsOf: run.AsOf, ModelVersion: run.ModelVersion, Score: model.Points(o.Value), Grade: g, GradeLabel: g.Label()}
	if len(o.Payload) > 0 {
		out.Reasons = o.Payload
	}
	return out
}

// Enterprise is an enterprise's registered state, times in +08:00.
type Enterprise struct {
	model.Enterprise
	RegisteredAt time.Time `json:"registered_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Record is one event of the credit file, times in +08:00.
type Record struct {
	model.Event
	OccurredAt time.Time  `json:"occurred_at"`
	ReportedAt *time.Time `json:"reported_at,omitempty"`
}

// CreditFile is an enterprise's quality-credit file (企业质量信用档案).
type CreditFile struct {
	Enterprise Enterprise `json:"enterprise"`
	// Score is the current score with its reasons; null before the first score run.
	Score   *Score   `json:"score"`
	History []Score  `json:"history"`
	Records []Record `json:"records"`
	// RecordsTruncated says the timeline holds only the first records.
	RecordsTruncated bool `json:"records_truncated,omitempty"`
	// Listings is the listing history: entries in every state, what the
	// list versions published, objections and their decisions.
	Listings *Listings `json:"listings"`
}

const (
	historyLimit = 100
	recordsLimit = 5000
)

func (s *Server) creditFile(c *gin.Context) {
	uscc, ok := checkUSCC(c)
	if !ok {
		return
	}
	m, ok := s.currentModel(c)
	if !ok {
		return
	}
	run, scored := m.ScoreRun()
	r := s.readCreditFile(c.Request.Context(), uscc, run, scored, m.Lists() != nil)
	if errors.Is(r.enterpriseErr, warehouse.ErrNotFound) {
		abort(c, http.StatusNotFound, "enterprise_not_found", "no enterprise with USCC "+string(uscc))
		return
	}
	if err := errors.Join(r.enterpriseErr, r.scoreErr, r.historyErr, r.eventsErr, r.listingsErr); err != nil {
		s.internal(c, "credit file", err)
		return
	}
	e := r.enterprise
	if !analystCovers(c, e.Region) {
		return
	}
	file := CreditFile{Enterprise: Enterprise{Enterprise: e, RegisteredAt: local(e.RegisteredAt), UpdatedAt: local(e.UpdatedAt)},
		History: []Score{}, Records: []Record{}}
	if r.score != nil {
		v := scoreView(run, *r.score)
		file.Score = &v
	}
	for _, h := range r.history {
		file.History = append(file.History, scoreView(h.Run, h.OutputRow))
	}
	events := r.events
	if len(events) > recordsLimit {
		events, file.RecordsTruncated = events[:recordsLimit], true
	}
	for _, ev := range events {
		rec := Record{Event: ev, OccurredAt: local(ev.OccurredAt)}
		if ev.ReportedAt != nil {
			t := local(*ev.ReportedAt)
			rec.ReportedAt = &t
		}
		file.Records = append(file.Records, rec)
	}
	var err error
	if file.Listings, err = s.listings(c.Request.Context(), m, uscc, events, r.listings); err != nil {
		s.internal(c, "credit file", err)
		return
	}
	auditItems(c, 1)
	c.JSON(http.StatusOK, file)
}

// creditFileReads are a credit file's warehouse reads.
type creditFileReads struct {
	enterprise    model.Enterprise
	enterpriseErr error
	score         *warehouse.OutputRow // nil when unscored
	scoreErr      error
	history       []warehouse.VersionedOutput
	historyErr    error
	events        []model.Event // up to recordsLimit+1
	eventsErr     error
	listings      []warehouse.VersionedOutput // the firm's outputs of every lists run; nil without lists
	listingsErr   error
}

// readCreditFile makes the credit file's reads at once: each is a query of
// its own, so the file takes as long as the slowest of them instead of
// their sum (on the 30M-event bench city in DuckDB 2-12 ms each, about
// 30 ms in a row). run is the current score run, when scored.
func (s *Server) readCreditFile(ctx context.Context, uscc model.USCC, run warehouse.Run, scored, listed bool) creditFileReads {
	var r creditFileReads
	var wg sync.WaitGroup
	wg.Go(func() { r.enterprise, r.enterpriseErr = s.store.Enterprise(ctx, uscc) })
	if scored {
		wg.Go(func() { r.score, r.scoreErr = s.currentScore(ctx, run, uscc) })
	}
	wg.Go(func() { r.history, r.historyErr = s.store.OutputHistory(ctx, jobScore, uscc, historyLimit) })
	wg.Go(func() { r.events, r.eventsErr = s.store.Timeline(ctx, uscc, recordsLimit+1) })
	if listed {
		wg.Go(func() { r.listings, r.listingsErr = s.store.OutputHistory(ctx, serving.JobLists, uscc, 0) })
	}
	wg.Wait()
	return r
}

// currentScore is the enterprise's output in the current score run, or
// nil when the run did not score it.
func (s *Server) currentScore(ctx context.Context, run warehouse.Run, uscc model.USCC) (*warehouse.OutputRow, error) {
	o, err := s.store.Output(ctx, jobScore, run.Version, string(uscc))
	switch {
	case errors.Is(err, warehouse.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	}
	return &o, nil
}

// ScoreItem is one enterprise in a score listing.
type ScoreItem struct {
	USCC       model.USCC   `json:"uscc"`
	Name       string       `json:"name"`
	Region     string       `json:"region"`
	Industry   string       `json:"industry"`
	Cluster    string       `json:"cluster"`
	Score      model.Points `json:"score"`
	Grade      model.Grade  `json:"grade"`
	GradeLabel string       `json:"grade_label"`
}

// ScoreList is a page of the current score run's scores.
type ScoreList struct {
	RunID  string      `json:"run_id"`
	AsOf   string      `json:"as_of"`
	Total  int         `json:"total"`
	Limit  int         `json:"limit"`
	Offset int         `json:"offset"`
	Items  []ScoreItem `json:"items"`
}

// Listing limits.
const (
	defaultLimit = 100
	maxLimit     = 1000
)

func (s *Server) listScores(c *gin.Context) {
	m, ok := s.currentModel(c)
	if !ok {
		return
	}
	format, err := formatParam(c)
	exporting := err == nil && format != export.FormatJSON
	f, limit, offset, ferr := scoreFilter(c, m, exporting)
	if err = errors.Join(err, ferr); err != nil {
		abort(c, http.StatusBadRequest, "invalid_query", err.Error())
		return
	}
	if f.Region, ok = analystRegion(c, f.Region); !ok {
		return
	}
	run, scored := m.ScoreRun()
	if exporting {
		s.exportScores(c, m, f, offset, limit, run.AsOf, format)
		return
	}
	out := ScoreList{Limit: limit, Offset: offset, Items: []ScoreItem{}}
	if scored {
		out.RunID, out.AsOf = run.ID, run.AsOf
	}
	page := m.Firms(f, offset, limit)
	out.Total = page.Total
	for _, x := range page.Items {
		out.Items = append(out.Items, ScoreItem{USCC: x.USCC, Name: x.Name, Region: x.Region, Industry: x.Industry,
			Cluster: x.ClusterKey(), Score: x.Score, Grade: x.Grade, GradeLabel: x.Grade.Label()})
	}
	auditItems(c, len(out.Items))
	c.JSON(http.StatusOK, out)
}

// scoreColumns are the columns of a scores export.
var scoreColumns = []export.Column{
	{Key: "uscc", Zh: "统一社会信用代码", En: "USCC"},
	{Key: "name", Zh: "企业名称", En: "Name"},
	{Key: "region", Zh: "行政区划", En: "Region"},
	{Key: "industry", Zh: "行业", En: "Industry"},
	{Key: "cluster", Zh: "产业集聚区", En: "Cluster"},
	{Key: "score", Zh: "信用分", En: "Score"},
	{Key: "grade", Zh: "等级", En: "Grade"},
	{Key: "grade_label", Zh: "等级名称", En: "Grade label"},
	{Key: "as_of", Zh: "评价日期", En: "As of"},
}

// exportScores streams the matching scores, offset and limit applied.
func (s *Server) exportScores(c *gin.Context, m *serving.Model, f serving.FirmFilter, offset, limit int, asOf string, format export.Format) {
	name := "scores"
	if asOf != "" {
		name += "-" + asOf
	}
	s.streamTable(c, format, name, scoreColumns, func(w *export.Writer) error {
		var err error
		n := 0
		m.EachFirm(f, func(x serving.Firm) bool {
			if n++; n <= offset {
				return true
			}
			err = w.Row(x.USCC, x.Name, x.Region, x.Industry, x.ClusterKey(), decimal(x.Score), x.Grade, x.Grade.Label(), asOf)
			return err == nil && w.Rows() < limit
		})
		return err
	})
}

// scoreFilter reads and checks the listing's query, one message per
// problem. An export has no limit unless one is given.
func scoreFilter(c *gin.Context, m *serving.Model, exporting bool) (serving.FirmFilter, int, int, error) {
	f := serving.FirmFilter{Scored: true, Region: c.Query("region"), Industry: c.Query("industry"), Cluster: c.Query("cluster")}
	var errs []error
	if g := c.Query("grade"); g != "" {
		grade, err := model.ParseGrade(g)
		errs = append(errs, err)
		f.Grade = grade
	}
	if f.Region != "" {
		if _, ok := model.LookupRegion(f.Region); !ok || !serving.InRegion(f.Region, model.CityHuaian) && f.Region != "320000" {
			errs = append(errs, fmt.Errorf("region %q is not the city (320800) or one of its counties (GB/T 2260)", f.Region))
		}
	}
	if f.Industry != "" && !model.ValidIndustryPrefix(f.Industry) {
		errs = append(errs, fmt.Errorf("industry %q is not a GB/T 4754-2017 section, division, group or class (C, C33, C331, C3311)", f.Industry))
	}
	if f.Cluster != "" && !m.HasCluster(f.Cluster) {
		errs = append(errs, fmt.Errorf("cluster %q is not a cluster of any enterprise (a declared cluster id, or county-division such as 320830-C13)", f.Cluster))
	}
	limit, offset, err := listingPage(c, exporting)
	errs = append(errs, err)
	return f, limit, offset, errors.Join(errs...)
}

// pageParams reads ?limit= (def when absent, 1 to hi) and ?offset= (0 or
// more), with every problem in err.
func pageParams(c *gin.Context, def, hi int) (limit, offset int, err error) {
	limit, lerr := intParam(c, "limit", def, 1, hi)
	offset, oerr := intParam(c, "offset", 0, 0, 1<<31-1)
	return limit, offset, errors.Join(lerr, oerr)
}

// listingPage is pageParams for an analysts' listing: defaultLimit, at most
// maxLimit, and no limit for an export unless one is asked for.
func listingPage(c *gin.Context, exporting bool) (limit, offset int, err error) {
	if exporting {
		return pageParams(c, exportLimit, exportLimit)
	}
	return pageParams(c, defaultLimit, maxLimit)
}

// intParam reads an integer query parameter in [lo, hi], def when absent.
func intParam(c *gin.Context, name string, def, lo, hi int) (int, error) {
	v, ok := c.GetQuery(name)
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return def, fmt.Errorf("%s must be a whole number from %d to %d, got %q", name, lo, hi, v)
	}
	return n, nil
}

// analystRegion is the region an analyst's listing covers: the one asked
// for when the key covers it (403 otherwise), the key's own when none is
// asked. A key bound to a county sees that county's enterprises only.
func analystRegion(c *gin.Context, asked string) (string, bool) {
	cl := caller(c)
	switch {
	case cl.Region == "" || cl.Region == model.CityHuaian:
		return asked, true
	case asked == "":
		return cl.Region, true
	case !cl.Covers(asked):
		outsideRegion(c, cl, asked)
		return "", false
	}
	return asked, true
}

// analystCovers answers 403 unless the caller's key covers region.
func analystCovers(c *gin.Context, region string) bool {
	cl := caller(c)
	if cl.Covers(region) {
		return true
	}
	outsideRegion(c, cl, region)
	return false
}

func outsideRegion(c *gin.Context, cl Caller, region string) {
	abort(c, http.StatusForbidden, "outside_region",
		fmt.Sprintf("key %s is bound to region %s and does not cover %s", cl.Key, cl.Region, region))
}
