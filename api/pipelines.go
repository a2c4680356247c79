package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/qcredit/qcredit/api/export"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/pipelines"
	"github.com/qcredit/qcredit/warehouse"
)

// Pipeline runs and manual triggers for analysts: the jobs with their
// schedules, the runs (exportable), and POST /api/v1/pipeline/runs, which
// runs a job now through the server's runner, under the same one-run-per-job
// rule as the scheduler (409 while it runs, here or on another replica).
// Triggers are city-wide work: a key bound to a county may list, not trigger.

func (s *Server) pipelineRoutes() {
	s.handle("GET", "/pipeline/jobs", analysts, s.listJobs)
	s.handle("GET", "/pipeline/runs", analysts, s.listRuns)
	s.handle("POST", "/pipeline/runs", analysts, s.triggerRun)
}

// JobInfo is a job and its schedule.
type JobInfo struct {
	Name         string `json:"name"`
	Schedule     string `json:"schedule"`
	ModelVersion string `json:"model_version"`
}

func (s *Server) runner(c *gin.Context) (*pipelines.Runner, bool) {
	if s.opts.Runner == nil {
		abort(c, http.StatusServiceUnavailable, "no_runner", "this server runs no pipelines")
		return nil, false
	}
	return s.opts.Runner, true
}

func (s *Server) listJobs(c *gin.Context) {
	r, ok := s.runner(c)
	if !ok {
		return
	}
	out := []JobInfo{}
	for _, j := range r.Jobs() {
		out = append(out, JobInfo{Name: j.Name(), Schedule: j.Schedule(), ModelVersion: j.ModelVersion()})
	}
	auditItems(c, len(out))
	c.JSON(http.StatusOK, gin.H{"jobs": out})
}

// runRecord is a run record with its times in +08:00.
func runRecord(r warehouse.Run) warehouse.Run {
	r.Watermark, r.StartedAt = local(r.Watermark), local(r.StartedAt)
	if r.FinishedAt != nil {
		f := local(*r.FinishedAt)
		r.FinishedAt = &f
	}
	if r.Counts == nil {
		r.Counts = map[string]int64{}
	}
	return r
}

var runColumns = []export.Column{
	{Key: "id", Zh: "运行编号", En: "Run"},
	{Key: "job", Zh: "任务", En: "Job"},
	{Key: "as_of", Zh: "截止日期", En: "As of"},
	{Key: "status", Zh: "状态", En: "Status"},
	{Key: "started_at", Zh: "开始时间", En: "Started"},
	{Key: "finished_at", Zh: "结束时间", En: "Finished"},
	{Key: "watermark", Zh: "数据截止", En: "Watermark"},
	{Key: "model_version", Zh: "模型版本", En: "Model version"},
	{Key: "counts", Zh: "计数", En: "Counts"},
	{Key: "digest", Zh: "摘要", En: "Digest"},
	{Key: "error", Zh: "错误", En: "Error"},
}

func (s *Server) listRuns(c *gin.Context) {
	r, ok := s.runner(c)
	if !ok {
		return
	}
	format, err := formatParam(c)
	f := warehouse.RunFilter{Job: c.Query("job"), Status: warehouse.RunStatus(c.Query("status"))}
	errs := []error{err}
	if f.Job != "" && !slices.ContainsFunc(r.Jobs(), func(j pipelines.Job) bool { return j.Name() == f.Job }) {
		errs = append(errs, fmt.Errorf("job %q is not one of this server's jobs", f.Job))
	}
	if f.Status != "" && !slices.Contains([]warehouse.RunStatus{warehouse.RunRunning, warehouse.RunSucceeded, warehouse.RunFailed}, f.Status) {
		errs = append(errs, fmt.Errorf("status %q: want running, succeeded or failed", f.Status))
	}
	f.Limit, err = intParam(c, "limit", defaultLimit, 1, maxLimit)
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		abort(c, http.StatusBadRequest, "invalid_query", err.Error())
		return
	}
	runs, err := r.Runs(c.Request.Context(), f)
	if err != nil {
		s.internal(c, "runs", err)
		return
	}
	if format != export.FormatJSON {
		s.streamTable(c, format, "runs-"+dayOf(s.now()), runColumns, func(w *export.Writer) error {
			for _, run := range runs {
				v := runRecord(run)
				var finished any
				if v.FinishedAt != nil {
					finished = *v.FinishedAt
				}
				counts, _ := json.Marshal(v.Counts)
				if err := w.Row(v.ID, v.Job, v.AsOf, v.Status, v.StartedAt, finished, v.Watermark, v.ModelVersion,
					string(counts), v.Digest, v.Error); err != nil {
					return err
				}
			}
			return nil
		})
		return
	}
	out := make([]warehouse.Run, len(runs))
	for i, run := range runs {
		out[i] = runRecord(run)
	}
	auditItems(c, len(out))
	c.JSON(http.StatusOK, gin.H{"runs": out})
}

// TriggerRequest asks for a run now (as `qcredit pipeline run`).
type TriggerRequest struct {
	Job string `json:"job"`
	// AsOf is YYYY-MM-DD; empty: today (Asia/Shanghai).
	AsOf string `json:"as_of,omitempty"`
	// Like re-runs with that run's watermark (reproduces its digest).
	Like string `json:"like,omitempty"`
	// Watermark reads events ingested up to this time.
	Watermark *time.Time `json:"watermark,omitempty"`
}

// triggerRun runs a job now and answers its record when it ends (a failed
// run too: the record says why). The run goes on if the caller leaves.
func (s *Server) triggerRun(c *gin.Context) {
	r, ok := s.runner(c)
	if !ok {
		return
	}
	if cl := caller(c); cl.Region != "" && cl.Region != model.CityHuaian {
		abort(c, http.StatusForbidden, "outside_region", "key "+cl.Key+" is bound to "+cl.Region+": runs are triggered city-wide")
		return
	}
	body, ok := readBody(c, 4<<10)
	if !ok {
		return
	}
	var q TriggerRequest
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&q); err != nil {
		abort(c, http.StatusBadRequest, "invalid_body", "want {\"job\": \"score\", \"as_of\": \"YYYY-MM-DD\"}: "+err.Error())
		return
	}
	req := pipelines.RunRequest{Job: q.Job, AsOf: q.AsOf, Like: q.Like}
	if q.Watermark != nil {
		req.Watermark = *q.Watermark
	}
	auditDetail(c, "job", q.Job)
	run, err := r.Run(context.WithoutCancel(c.Request.Context()), req)
	switch {
	case errors.Is(err, pipelines.ErrRunning):
		abort(c, http.StatusConflict, "job_running", err.Error())
		return
	case run.ID == "" && err != nil: // refused before it began: the request is wrong
		abort(c, http.StatusBadRequest, "invalid_run", err.Error())
		return
	}
	auditDetail(c, "run", run.ID)
	auditItems(c, 1)
	c.JSON(http.StatusOK, runRecord(run))
}
