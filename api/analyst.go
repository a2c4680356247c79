package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// Analyst routes (/api/v1). Scope checks come with the API keys; until then
// they are open.
func (s *Server) analystRoutes(v1 *gin.RouterGroup) {
	v1.GET("/enterprises/:uscc", s.creditFile)
	v1.GET("/scores", s.listScores)
}

// Score is a score as the API shows it.
type Score struct {
	RunID        string          `json:"run_id"`
	AsOf         string          `json:"as_of"`
	ModelVersion string          `json:"model_version"`
	Score        json.Number     `json:"score"` // exact decimal, one fractional digit
	Grade        string          `json:"grade"`
	Reasons      json.RawMessage `json:"reasons,omitempty"`
}

func scoreView(r warehouse.ScoreRow, withReasons bool) Score {
	out := Score{RunID: r.RunID, AsOf: r.AsOf, ModelVersion: r.ModelVersion, Grade: r.Grade,
		Score: json.Number(strconv.FormatInt(r.ScoreTenths/10, 10) + "." + strconv.FormatInt(r.ScoreTenths%10, 10))}
	if withReasons {
		out.Reasons = r.Reasons
	}
	return out
}

// CreditFile is an enterprise's quality-credit file (企业质量信用档案).
type CreditFile struct {
	Enterprise model.Enterprise `json:"enterprise"`
	// Score is the latest score with its reasons; null before the first score run.
	Score   *Score        `json:"score"`
	History []Score       `json:"history"`
	Records []model.Event `json:"records"`
	// RecordsTruncated says the timeline holds only the first records.
	RecordsTruncated bool `json:"records_truncated,omitempty"`
}

const (
	historyLimit = 100
	recordsLimit = 5000
)

func (s *Server) pipelineStore(c *gin.Context) (warehouse.PipelineStore, bool) {
	ps, ok := s.store.(warehouse.PipelineStore)
	if !ok {
		abort(c, http.StatusNotImplemented, "not_supported", "this warehouse backend does not serve scores yet")
	}
	return ps, ok
}

func (s *Server) creditFile(c *gin.Context) {
	code := c.Param("uscc")
	if r := (model.USCCPolicy{}).Check(code); !r.Valid() {
		abort(c, http.StatusBadRequest, "invalid_uscc", r.Err().Error())
		return
	}
	ps, ok := s.pipelineStore(c)
	if !ok {
		return
	}
	ctx, uscc := c.Request.Context(), model.USCC(code)
	e, err := s.store.Enterprise(ctx, uscc)
	if errors.Is(err, warehouse.ErrNotFound) {
		abort(c, http.StatusNotFound, "enterprise_not_found", "no enterprise with USCC "+code)
		return
	}
	if err != nil {
		s.internal(c, "credit file", err)
		return
	}
	file := CreditFile{Enterprise: e, History: []Score{}}
	latest, err := ps.LatestScore(ctx, uscc)
	switch {
	case err == nil:
		v := scoreView(latest, true)
		file.Score = &v
	case !errors.Is(err, warehouse.ErrNotFound):
		s.internal(c, "credit file", err)
		return
	}
	hist, err := ps.ScoreHistory(ctx, uscc, historyLimit)
	if err != nil {
		s.internal(c, "credit file", err)
		return
	}
	for _, h := range hist {
		file.History = append(file.History, scoreView(h, false))
	}
	file.Records, err = ps.Timeline(ctx, uscc, recordsLimit+1)
	if err != nil {
		s.internal(c, "credit file", err)
		return
	}
	if len(file.Records) > recordsLimit {
		file.Records, file.RecordsTruncated = file.Records[:recordsLimit], true
	}
	c.JSON(http.StatusOK, file)
}

// ScoreItem is one enterprise in a score listing.
type ScoreItem struct {
	USCC     model.USCC  `json:"uscc"`
	Name     string      `json:"name"`
	Region   string      `json:"region"`
	Industry string      `json:"industry"`
	Cluster  string      `json:"cluster"`
	Score    json.Number `json:"score"`
	Grade    string      `json:"grade"`
}

// ScoreList is a page of scores of the latest score run.
type ScoreList struct {
	RunID  string      `json:"run_id"`
	AsOf   string      `json:"as_of"`
	Total  int64       `json:"total"`
	Limit  int         `json:"limit"`
	Offset int         `json:"offset"`
	Items  []ScoreItem `json:"items"`
}

func (s *Server) listScores(c *gin.Context) {
	ps, ok := s.pipelineStore(c)
	if !ok {
		return
	}
	f := warehouse.ScoreFilter{Grade: c.Query("grade"), Region: c.Query("region"), Industry: c.Query("industry"),
		Cluster: c.Query("cluster"), Limit: 100}
	var errs []error
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			errs = append(errs, errors.New("limit must be a number"))
		}
		f.Limit = n
	}
	if v := c.Query("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			errs = append(errs, errors.New("offset must be a number"))
		}
		f.Offset = n
	}
	if err := errors.Join(append(errs, f.Validate())...); err != nil {
		abort(c, http.StatusBadRequest, "invalid_query", err.Error())
		return
	}
	page, err := ps.ListScores(c.Request.Context(), f)
	if err != nil {
		s.internal(c, "list scores", err)
		return
	}
	out := ScoreList{RunID: page.RunID, AsOf: page.AsOf, Total: page.Total, Limit: f.Limit, Offset: f.Offset, Items: []ScoreItem{}}
	for _, it := range page.Items {
		out.Items = append(out.Items, ScoreItem{USCC: it.USCC, Name: it.Name, Region: it.Region, Industry: it.Industry,
			Cluster: it.Cluster, Score: scoreView(it.ScoreRow, false).Score, Grade: it.Grade})
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) internal(c *gin.Context, what string, err error) {
	s.log.Error(what, "path", c.Request.URL.Path, "err", err)
	abort(c, http.StatusInternalServerError, "internal", what+" failed")
}

// publicGrade is the grade the public lookup shows; a failure to read it
// leaves the grade out rather than failing the lookup.
func (s *Server) publicGrade(c *gin.Context, uscc model.USCC) string {
	ps, ok := s.store.(warehouse.PipelineStore)
	if !ok {
		return ""
	}
	r, err := ps.LatestScore(c.Request.Context(), uscc)
	if err != nil {
		if !errors.Is(err, warehouse.ErrNotFound) {
			s.log.Warn("public grade", "uscc", uscc, "err", err)
		}
		return ""
	}
	return r.Grade
}
