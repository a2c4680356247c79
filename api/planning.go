package api

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/qcredit/qcredit/api/export"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/pipelines"
	"github.com/qcredit/qcredit/serving"
	"github.com/qcredit/qcredit/warehouse"
)

// Analysts' routes of supervision planning, answered from the read model
// (the plan, kpi, recheck and lottery jobs' current runs, held whole): the
// plan with its export, the county KPIs (the dashboards' county page), the
// complaints overdue per county, the special-equipment self-correction
// report, the re-check and a draw's explanation.

func (s *Server) planningRoutes() {
	s.handle("GET", "/plan", analysts, s.plan)
	s.handle("GET", "/kpis", analysts, s.kpis)
	s.handle("GET", "/complaints/overdue", analysts, s.overdueComplaints)
	s.handle("GET", "/equipment/self-correction", analysts, s.selfCorrection)
	s.handle("GET", "/rechecks", analysts, s.rechecks)
	s.handle("GET", "/draws/:id/explain", analysts, s.drawExplain)
}

// RunRef names the run an answer comes from.
type RunRef struct {
	ID           string `json:"id"`
	AsOf         string `json:"as_of"`
	ModelVersion string `json:"model_version"`
}

func runRef(r warehouse.Run) RunRef {
	return RunRef{ID: r.ID, AsOf: r.AsOf, ModelVersion: r.ModelVersion}
}

// jobOutputs is job's current outputs from the read model, or a 404 naming
// the job to run when it has not run.
func (s *Server) jobOutputs(c *gin.Context, job string) (*serving.Outputs, bool) {
	m, ok := s.currentModel(c)
	if !ok {
		return nil, false
	}
	o := m.Outputs(job)
	if o == nil {
		abort(c, http.StatusNotFound, "no_run", fmt.Sprintf("the %s job has no current run yet (qcredit pipeline run %s)", job, job))
		return nil, false
	}
	return o, true
}

// raws are the payloads of the outputs under prefix that keep says to keep.
func raws(o *serving.Outputs, prefix string, keep func(warehouse.OutputRow) bool) []json.RawMessage {
	out := []json.RawMessage{}
	o.Prefix(prefix, func(r warehouse.OutputRow) bool {
		if keep == nil || keep(r) {
			out = append(out, r.Payload)
		}
		return true
	})
	return out
}

// exportFormat reads ?format= (json, ndjson, csv, xlsx; default json).
func exportFormat(c *gin.Context) (export.Format, bool) {
	f, err := formatParam(c)
	if err != nil {
		abort(c, http.StatusBadRequest, "invalid_query", "format: "+err.Error())
		return "", false
	}
	return f, true
}

// PlanView is the current plan.
type PlanView struct {
	Run     RunRef            `json:"run"`
	Summary json.RawMessage   `json:"summary"`
	Lines   []json.RawMessage `json:"lines"`
}

// planLine is a plan line as the plan job publishes it (pipelines.PlanJob,
// planning.PlanLine), for the export's columns.
type planLine struct {
	Product  string         `json:"product"`
	Industry string         `json:"industry"`
	Checks   int64          `json:"checks"`
	Failures int64          `json:"failures"`
	PassRate *json.Number   `json:"pass_rate"`
	Batches  int64          `json:"batches"`
	Quarters [4]int64       `json:"quarters"`
	Reasons  []model.Reason `json:"reasons"`
}

var planColumns = []export.Column{
	{Key: "product", Zh: "产品", En: "Product"},
	{Key: "industry", Zh: "行业", En: "Industry"},
	{Key: "checks", Zh: "本年抽查批次", En: "Checks this year"},
	{Key: "failures", Zh: "不合格批次", En: "Failures"},
	{Key: "pass_rate", Zh: "合格率", En: "Pass rate"},
	{Key: "batches", Zh: "计划批次", En: "Batches planned"},
	{Key: "q1", Zh: "第一季度", En: "Q1"},
	{Key: "q2", Zh: "第二季度", En: "Q2"},
	{Key: "q3", Zh: "第三季度", En: "Q3"},
	{Key: "q4", Zh: "第四季度", En: "Q4"},
	{Key: "reasons", Zh: "依据", En: "Reasons"},
}

// plan is next year's spot-check plan; ?format=csv or xlsx exports its
// lines (one per product) with their reasons.
func (s *Server) plan(c *gin.Context) {
	f, ok := exportFormat(c)
	if !ok {
		return
	}
	o, ok := s.jobOutputs(c, pipelines.JobPlan)
	if !ok {
		return
	}
	lines := raws(o, "line/", nil)
	auditItems(c, len(lines))
	auditDetail(c, "run", o.Run().ID)
	if f == export.FormatJSON {
		sum, _ := o.Get("plan")
		c.JSON(http.StatusOK, PlanView{Run: runRef(o.Run()), Summary: sum.Payload, Lines: lines})
		return
	}
	s.exportRows(c, f, "plan-"+o.Run().AsOf, planColumns, lines, func(raw json.RawMessage) ([]any, error) {
		var l planLine
		if err := json.Unmarshal(raw, &l); err != nil {
			return nil, err
		}
		var rate any
		if l.PassRate != nil {
			rate = export.Decimal(l.PassRate.String())
		}
		return []any{l.Product, l.Industry, l.Checks, l.Failures, rate, l.Batches, l.Quarters[0], l.Quarters[1], l.Quarters[2], l.Quarters[3],
			reasonsText(l.Reasons)}, nil
	})
}

// reasonsText is a line's reasons as one cell: "rule: detail" per line.
func reasonsText(rs []model.Reason) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r.Rule + ": " + r.Detail
	}
	return strings.Join(parts, "\n")
}

// exportRows writes payloads as a table, each turned into a row by row.
func (s *Server) exportRows(c *gin.Context, f export.Format, name string, cols []export.Column, payloads []json.RawMessage,
	row func(json.RawMessage) ([]any, error)) {
	rows := make([][]any, len(payloads))
	for i, p := range payloads {
		r, err := row(p)
		if err != nil {
			s.internal(c, "export "+name, err)
			return
		}
		rows[i] = r
	}
	c.Header("Content-Type", f.ContentType())
	if f == export.FormatCSV || f == export.FormatXLSX {
		c.Header("Content-Disposition", f.Attachment(name))
	}
	c.Status(http.StatusOK)
	w, err := export.NewWriter(c.Writer, f, cols)
	if err == nil {
		for _, r := range rows {
			if err = w.Row(r...); err != nil {
				break
			}
		}
		err = w.Close()
	}
	if err != nil {
		s.log.Error("export", "name", name, "err", err) // the status is sent: the body ends short
	}
}

// countyParam reads ?county= (a Huai'an bureau code, or empty for all): a
// key bound to a county gets its own when none is asked, 403 for another.
func countyParam(c *gin.Context) (string, bool) {
	county := c.Query("county")
	if county != "" && !model.IsHuaianBureau(county) {
		abort(c, http.StatusBadRequest, "invalid_query", fmt.Sprintf("county %q is not the city bureau (320800) or a 3208xx county code", county))
		return "", false
	}
	county, ok := analystRegion(c, county)
	return model.CurrentCounty(county), ok
}

// firmRows keeps the rows of firms the caller may see (firmCovered: by the
// row's USCC, else the county its payload names).
func firmRows(m *serving.Model, cl Caller) func(warehouse.OutputRow) bool {
	return func(r warehouse.OutputRow) bool {
		if boundCounty(cl) == "" {
			return true
		}
		var x struct {
			County string `json:"county"`
		}
		_ = json.Unmarshal(r.Payload, &x) // unreadable: no county, so only a known firm of the county passes
		return firmCovered(m, cl, model.USCC(r.USCC), x.County)
	}
}

var monthParam = regexp.MustCompile(`^\d{4}-(0[1-9]|1[0-2])$`)

// KPIView is the county KPIs per month.
type KPIView struct {
	Run  RunRef            `json:"run"`
	KPIs []json.RawMessage `json:"kpis"`
}

type fraction struct {
	Num   int64        `json:"num"`
	Den   int64        `json:"den"`
	Value *json.Number `json:"value"`
}

type countyKPI struct {
	County              string   `json:"county"`
	Month               string   `json:"month"`
	Coverage            fraction `json:"coverage"`
	ComplaintTimeliness fraction `json:"complaint_timeliness"`
	ComplaintClosure    fraction `json:"complaint_closure"`
	HazardCorrection    fraction `json:"hazard_correction"`
	SelfCorrection      fraction `json:"self_correction"`
	MeanDelaySeconds    int64    `json:"mean_delay_seconds"`
	LateReports         fraction `json:"late_reports"`
	DeadLetterRate      fraction `json:"dead_letter_rate"`
}

func (f fraction) cell() any {
	if f.Value == nil {
		return nil
	}
	return export.Decimal(f.Value.String())
}

var kpiColumns = []export.Column{
	{Key: "county", Zh: "县区", En: "County"},
	{Key: "month", Zh: "月份", En: "Month"},
	{Key: "coverage", Zh: "抽查覆盖率", En: "Spot-check coverage"},
	{Key: "complaint_timeliness", Zh: "投诉按时受理率", En: "Complaints decided in time"},
	{Key: "complaint_closure", Zh: "投诉按时办结率", En: "Complaints closed in time"},
	{Key: "hazard_correction", Zh: "隐患整改率", En: "Hazards corrected"},
	{Key: "self_correction", Zh: "隐患自查自纠率", En: "Self-correction rate"},
	{Key: "mean_delay_seconds", Zh: "平均报送延迟(秒)", En: "Mean reporting delay (s)"},
	{Key: "late_reports", Zh: "迟报率", En: "Late reports"},
	{Key: "dead_letter_rate", Zh: "退件率", En: "Dead-letter rate"},
}

// kpis are the county bureaus' KPIs per month (?county=, ?from= and ?to=
// as YYYY-MM), county by county, months in order; ?format= exports them.
func (s *Server) kpis(c *gin.Context) {
	f, ok := exportFormat(c)
	if !ok {
		return
	}
	county, ok := countyParam(c)
	if !ok {
		return
	}
	from, to := c.Query("from"), c.Query("to")
	for _, m := range []string{from, to} {
		if m != "" && !monthParam.MatchString(m) {
			abort(c, http.StatusBadRequest, "invalid_query", fmt.Sprintf("month %q: want YYYY-MM", m))
			return
		}
	}
	o, ok := s.jobOutputs(c, pipelines.JobKPI)
	if !ok {
		return
	}
	prefix := "kpi/"
	if county != "" {
		prefix += county + "/"
	}
	list := raws(o, prefix, func(r warehouse.OutputRow) bool {
		month := r.Key[strings.LastIndexByte(r.Key, '/')+1:]
		return (from == "" || month >= from) && (to == "" || month <= to)
	})
	auditItems(c, len(list))
	if f == export.FormatJSON {
		c.JSON(http.StatusOK, KPIView{Run: runRef(o.Run()), KPIs: list})
		return
	}
	s.exportRows(c, f, "kpis-"+o.Run().AsOf, kpiColumns, list, func(raw json.RawMessage) ([]any, error) {
		var k countyKPI
		if err := json.Unmarshal(raw, &k); err != nil {
			return nil, err
		}
		return []any{k.County, k.Month, k.Coverage.cell(), k.ComplaintTimeliness.cell(), k.ComplaintClosure.cell(),
			k.HazardCorrection.cell(), k.SelfCorrection.cell(), k.MeanDelaySeconds, k.LateReports.cell(), k.DeadLetterRate.cell()}, nil
	})
}

// OverdueView is the complaints overdue as of the kpi run's as_of.
type OverdueView struct {
	Run        RunRef            `json:"run"`
	Complaints []json.RawMessage `json:"complaints"`
}

var overdueColumns = []export.Column{
	{Key: "county", Zh: "县区", En: "County"},
	{Key: "complaint_id", Zh: "投诉编号", En: "Complaint"},
	{Key: "uscc", Zh: "统一社会信用代码", En: "USCC"},
	{Key: "stage", Zh: "逾期环节", En: "Overdue for"},
	{Key: "since", Zh: "起算日", En: "Since"},
	{Key: "deadline", Zh: "期限", En: "Deadline"},
	{Key: "working_days_late", Zh: "逾期工作日", En: "Working days late"},
}

// overdueRow is an overdue complaint as the kpi job publishes it
// (planning.OverdueComplaint), for the export's columns.
type overdueRow struct {
	County          string `json:"county"`
	ComplaintID     string `json:"complaint_id"`
	USCC            string `json:"uscc"`
	Stage           string `json:"stage"`
	Since           string `json:"since"`
	Deadline        string `json:"deadline"`
	WorkingDaysLate int64  `json:"working_days_late"`
}

// overdueComplaints are the complaints past their 7-day decision or
// 45-day closure deadline (?county=), by county, then deadline.
func (s *Server) overdueComplaints(c *gin.Context) {
	f, ok := exportFormat(c)
	if !ok {
		return
	}
	county, ok := countyParam(c)
	if !ok {
		return
	}
	o, ok := s.jobOutputs(c, pipelines.JobKPI)
	if !ok {
		return
	}
	// A row is filed under its handling bureau; a county key sees the
	// complaints about its firms, whichever bureau handles them.
	prefix := "complaint/"
	if county != "" && boundCounty(caller(c)) == "" {
		prefix += county + "/"
	}
	m, _ := s.currentModel(c) // jobOutputs had it
	list := raws(o, prefix, firmRows(m, caller(c)))
	auditItems(c, len(list))
	if f == export.FormatJSON {
		c.JSON(http.StatusOK, OverdueView{Run: runRef(o.Run()), Complaints: list})
		return
	}
	s.exportRows(c, f, "complaints-overdue-"+o.Run().AsOf, overdueColumns, list, func(raw json.RawMessage) ([]any, error) {
		var x overdueRow
		if err := json.Unmarshal(raw, &x); err != nil {
			return nil, err
		}
		return []any{x.County, x.ComplaintID, x.USCC, x.Stage, x.Since, x.Deadline, x.WorkingDaysLate}, nil
	})
}

// SelfCorrectionView is the special-equipment report: every using unit's
// self-correction rate (or those below the target) and the serious hazards
// open past their deadline.
type SelfCorrectionView struct {
	Run            RunRef            `json:"run"`
	Units          []json.RawMessage `json:"units"`
	OverdueHazards []json.RawMessage `json:"overdue_hazards"`
}

// selfCorrection is the self-correction report (?county=; ?below=true for
// the units under 90 %); ?format= exports the units, or with
// ?table=overdue_hazards the serious hazards past their deadline.
func (s *Server) selfCorrection(c *gin.Context) {
	f, ok := exportFormat(c)
	if !ok {
		return
	}
	county, ok := countyParam(c)
	if !ok {
		return
	}
	below, table := c.Query("below"), cmp.Or(c.Query("table"), "units")
	if below != "" && below != "true" && below != "false" {
		abort(c, http.StatusBadRequest, "invalid_query", fmt.Sprintf("below %q: want true or false", below))
		return
	}
	if table != "units" && table != "overdue_hazards" {
		abort(c, http.StatusBadRequest, "invalid_query", fmt.Sprintf("table %q: want units or overdue_hazards (the table an export writes)", table))
		return
	}
	o, ok := s.jobOutputs(c, pipelines.JobKPI)
	if !ok {
		return
	}
	m, _ := s.currentModel(c) // jobOutputs had it
	covered := firmRows(m, caller(c))
	inCounty := func(r warehouse.OutputRow) bool {
		if !covered(r) {
			return false
		}
		if county == "" || boundCounty(caller(c)) != "" { // a county key: its firms, wherever the row was filed
			return true
		}
		var x struct {
			County string `json:"county"`
		}
		return json.Unmarshal(r.Payload, &x) == nil && x.County == county
	}
	units := raws(o, "equipment/unit/", func(r warehouse.OutputRow) bool { return (below != "true" || r.Label == "below") && inCounty(r) })
	hazards := raws(o, "equipment/hazard/", inCounty)
	switch {
	case f == export.FormatJSON:
		auditItems(c, len(units)+len(hazards))
		c.JSON(http.StatusOK, SelfCorrectionView{Run: runRef(o.Run()), Units: units, OverdueHazards: hazards})
	case table == "units":
		auditItems(c, len(units))
		s.exportRows(c, f, "self-correction-units-"+o.Run().AsOf, unitColumns, units, unitCells)
	default:
		auditItems(c, len(hazards))
		s.exportRows(c, f, "overdue-hazards-"+o.Run().AsOf, hazardColumns, hazards, hazardCells)
	}
}

// RecheckView is the re-check frame of the recheck job's current run and
// the re-check draws made from it.
type RecheckView struct {
	Run      RunRef            `json:"run"`
	Summary  json.RawMessage   `json:"summary"`
	Concerns []json.RawMessage `json:"concerns"`
	// Draws are the explanations of the re-check draws (drawn ones list
	// every firm with its reasons and inspectors).
	Draws []json.RawMessage `json:"draws"`
}

// rechecks is the year's re-check: its frame (N, k, the firms with
// concerns) and its draws; ?format= exports the concerns.
func (s *Server) rechecks(c *gin.Context) {
	f, ok := exportFormat(c)
	if !ok {
		return
	}
	o, ok := s.jobOutputs(c, pipelines.JobRecheck)
	if !ok {
		return
	}
	m, _ := s.currentModel(c)
	sum, _ := o.Get("summary")
	// A county key sees the frame (the city's N and k), its firms' concerns
	// and no draw: a draw's explanation lists every county's firms.
	bound := boundCounty(caller(c)) != ""
	view := RecheckView{Run: runRef(o.Run()), Summary: sum.Payload, Concerns: raws(o, "concern/", firmRows(m, caller(c))), Draws: []json.RawMessage{}}
	if draws := m.Outputs(pipelines.JobLottery); draws != nil && !bound {
		draws.Prefix("", func(r warehouse.OutputRow) bool {
			if r.Label == string(pipelines.DrawKindRecheck) && !strings.ContainsAny(r.Key, "/_") {
				if e, ok := draws.Get(r.Key + "/explain"); ok {
					view.Draws = append(view.Draws, e.Payload)
				}
			}
			return true
		})
	}
	auditItems(c, len(view.Concerns))
	if f != export.FormatJSON {
		s.exportRows(c, f, "recheck-concerns-"+o.Run().AsOf, concernColumns, view.Concerns, concernCells)
		return
	}
	c.JSON(http.StatusOK, view)
}

// drawExplain is what a draw was made from and what it gave: the filters
// and runs behind it, the strata (N_g, p_g, k_g), the firms short of
// inspectors, a re-check's lines with their reasons.
func (s *Server) drawExplain(c *gin.Context) {
	o, ok := s.drawsPart(c)
	if !ok {
		return
	}
	id := c.Param("id")
	if _, ok := drawOutput(o, id); !ok {
		abort(c, http.StatusNotFound, "draw_not_found", "no published draw "+id)
		return
	}
	e, _ := o.Get(id + "/explain")
	c.Data(http.StatusOK, "application/json; charset=utf-8", e.Payload)
}
