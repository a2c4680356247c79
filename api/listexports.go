package api

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/qcredit/qcredit/api/export"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/serving"
)

// The tables of the analyst list views exported with format=csv|xlsx|ndjson
// (cluster warnings and assessments, the heat map, the grade breakdown, the
// self-correction report, the re-check's concerns, the audit log): their
// columns, Chinese and English, and how a row is made.

// exportLimit is an export's limit: everything unless one is given.
const exportLimit = 1<<31 - 1

// exportParam reads ?format=; exporting is true for every format but json.
func exportParam(c *gin.Context) (f export.Format, exporting bool, err error) {
	f, err = formatParam(c)
	if err != nil {
		return "", false, fmt.Errorf("format: %w", err)
	}
	return f, f != export.FormatJSON, nil
}

var warningColumns = []export.Column{
	{Key: "id", Zh: "预警编号", En: "Warning"},
	{Key: "cluster", Zh: "产业集聚区", En: "Cluster"},
	{Key: "county", Zh: "县区", En: "County"},
	{Key: "division", Zh: "行业", En: "Division"},
	{Key: "status", Zh: "状态", En: "Status"},
	{Key: "level", Zh: "预警等级", En: "Level"},
	{Key: "level_label", Zh: "等级名称", En: "Level name"},
	{Key: "peak", Zh: "最高等级", En: "Peak"},
	{Key: "raised_on", Zh: "发布日期", En: "Raised on"},
	{Key: "changed_on", Zh: "变更日期", En: "Changed on"},
	{Key: "closed_on", Zh: "解除日期", En: "Closed on"},
	{Key: "n", Zh: "抽查批次", En: "Checks", Kind: export.KindInt},
	{Key: "x", Zh: "不合格批次", En: "Failures", Kind: export.KindInt},
	{Key: "rate", Zh: "不合格率", En: "Failure rate"},
	{Key: "needs_acknowledgement", Zh: "待确认", En: "Needs acknowledgement", Kind: export.KindBool},
	{Key: "letter", Zh: "提示函", En: "Letter"},
}

func warningRow(v WarningView) []any {
	e := v.Assessment.Evidence
	return []any{v.ID, v.Cluster, v.County, v.Division, string(v.Status), string(v.Level), v.LevelLabel, string(v.Peak),
		v.RaisedOn, v.ChangedOn, v.ClosedOn, e.Checks, e.Failures, e.Rate, v.NeedsAcknowledgement, v.Letter}
}

var assessmentColumns = []export.Column{
	{Key: "cluster", Zh: "产业集聚区", En: "Cluster"},
	{Key: "county", Zh: "县区", En: "County"},
	{Key: "division", Zh: "行业", En: "Division"},
	{Key: "status", Zh: "评估状态", En: "Status"},
	{Key: "level", Zh: "预警等级", En: "Level"},
	{Key: "n", Zh: "抽查批次", En: "Checks", Kind: export.KindInt},
	{Key: "x", Zh: "不合格批次", En: "Failures", Kind: export.KindInt},
	{Key: "m", Zh: "企业数", En: "Enterprises", Kind: export.KindInt},
	{Key: "rate", Zh: "不合格率", En: "Failure rate"},
	{Key: "p0", Zh: "基准不合格率", En: "Baseline"},
	{Key: "z_adjusted", Zh: "调整Z值", En: "Adjusted z"},
	{Key: "signals", Zh: "信号", En: "Signals"},
	{Key: "top", Zh: "不合格较多企业", En: "Top enterprises"},
}

func assessmentRow(a model.ClusterAssessment) []any {
	e := a.Evidence
	signals := make([]string, len(a.Signals))
	for i, s := range a.Signals {
		signals[i] = fmt.Sprint(s)
	}
	top := make([]string, len(e.Top))
	for i, f := range e.Top {
		top[i] = fmt.Sprintf("%s %s (%d/%d)", f.USCC, f.Name, f.Failures, f.Checks)
	}
	return []any{a.Cluster, a.County, a.Division, string(a.Status), string(a.Level), e.Checks, e.Failures, e.Enterprises, e.Rate,
		e.Baseline, e.ZAdjusted, strings.Join(signals, "\n"), strings.Join(top, "\n")}
}

var heatMapColumns = []export.Column{
	{Key: "county", Zh: "县区", En: "County"},
	{Key: "division", Zh: "行业", En: "Division"},
	{Key: "clusters", Zh: "集聚区数", En: "Clusters", Kind: export.KindInt},
	{Key: "assessed", Zh: "已评估", En: "Assessed", Kind: export.KindInt},
	{Key: "enterprises", Zh: "企业数", En: "Enterprises", Kind: export.KindInt},
	{Key: "n", Zh: "抽查批次", En: "Checks", Kind: export.KindInt},
	{Key: "x", Zh: "不合格批次", En: "Failures", Kind: export.KindInt},
	{Key: "rate", Zh: "不合格率", En: "Failure rate"},
	{Key: "level", Zh: "最高等级", En: "Level"},
	{Key: "red", Zh: "红色", En: "Red", Kind: export.KindInt},
	{Key: "orange", Zh: "橙色", En: "Orange", Kind: export.KindInt},
	{Key: "yellow", Zh: "黄色", En: "Yellow", Kind: export.KindInt},
	{Key: "blue", Zh: "蓝色", En: "Blue", Kind: export.KindInt},
}

func heatMapRow(x serving.ClusterCell) []any {
	return []any{x.County, x.Division, x.Clusters, x.Assessed, x.Enterprises, x.Checks, x.Failures, x.Rate, string(x.Level),
		x.Red, x.Orange, x.Yellow, x.Blue}
}

var gradeGroupColumns = []export.Column{
	{Key: "key", Zh: "分组", En: "Group"},
	{Key: "name", Zh: "名称", En: "Name"},
	{Key: "county", Zh: "县区", En: "County"},
	{Key: "industry", Zh: "行业", En: "Industry"},
	{Key: "a", Zh: "守信(A)", En: "A", Kind: export.KindInt},
	{Key: "b", Zh: "基本守信(B)", En: "B", Kind: export.KindInt},
	{Key: "c", Zh: "失信(C)", En: "C", Kind: export.KindInt},
	{Key: "d", Zh: "严重失信(D)", En: "D", Kind: export.KindInt},
	{Key: "unscored", Zh: "未评级", En: "Unscored", Kind: export.KindInt},
	{Key: "total", Zh: "企业数", En: "Enterprises", Kind: export.KindInt},
	{Key: "risk_share", Zh: "C、D级占比", En: "Share graded C or D"},
}

func gradeGroupRow(g GradeGroup) []any {
	return []any{g.Key, g.Name, g.County, g.Industry, g.Grades[model.GradeA], g.Grades[model.GradeB], g.Grades[model.GradeC],
		g.Grades[model.GradeD], g.Unscored, g.Total, g.RiskShare}
}

var unitColumns = []export.Column{
	{Key: "uscc", Zh: "统一社会信用代码", En: "USCC"},
	{Key: "county", Zh: "县区", En: "County"},
	{Key: "hazards", Zh: "隐患数", En: "Hazards", Kind: export.KindInt},
	{Key: "self_corrected", Zh: "自查自纠数", En: "Self-corrected", Kind: export.KindInt},
	{Key: "corrected", Zh: "已整改", En: "Corrected", Kind: export.KindInt},
	{Key: "open", Zh: "未整改", En: "Open", Kind: export.KindInt},
	{Key: "rate", Zh: "自查自纠率", En: "Self-correction rate"},
	{Key: "below", Zh: "低于目标", En: "Below target", Kind: export.KindBool},
	{Key: "reasons", Zh: "依据", En: "Reasons"},
}

// unitRow is a using unit as the kpi job publishes it (planning.UnitRate).
type unitRow struct {
	USCC          string         `json:"uscc"`
	County        string         `json:"county"`
	Hazards       int64          `json:"hazards"`
	SelfCorrected int64          `json:"self_corrected"`
	Corrected     int64          `json:"corrected"`
	Open          int64          `json:"open"`
	Rate          json.Number    `json:"rate"`
	Below         bool           `json:"below"`
	Reasons       []model.Reason `json:"reasons"`
}

func unitCells(raw json.RawMessage) ([]any, error) {
	var u unitRow
	if err := json.Unmarshal(raw, &u); err != nil {
		return nil, err
	}
	return []any{u.USCC, u.County, u.Hazards, u.SelfCorrected, u.Corrected, u.Open, export.Decimal(u.Rate.String()), u.Below,
		reasonsText(u.Reasons)}, nil
}

var hazardColumns = []export.Column{
	{Key: "hazard_id", Zh: "隐患编号", En: "Hazard"},
	{Key: "uscc", Zh: "统一社会信用代码", En: "USCC"},
	{Key: "county", Zh: "县区", En: "County"},
	{Key: "equipment_id", Zh: "设备编号", En: "Equipment"},
	{Key: "deadline", Zh: "整改期限", En: "Deadline"},
	{Key: "days_overdue", Zh: "逾期天数", En: "Days overdue", Kind: export.KindInt},
	{Key: "reason", Zh: "依据", En: "Reason"},
}

// hazardRow is an overdue hazard as the kpi job publishes it
// (planning.OverdueHazard).
type hazardRow struct {
	HazardID    string       `json:"hazard_id"`
	USCC        string       `json:"uscc"`
	County      string       `json:"county"`
	EquipmentID string       `json:"equipment_id"`
	Deadline    string       `json:"deadline"`
	DaysOverdue int64        `json:"days_overdue"`
	Reason      model.Reason `json:"reason"`
}

func hazardCells(raw json.RawMessage) ([]any, error) {
	var h hazardRow
	if err := json.Unmarshal(raw, &h); err != nil {
		return nil, err
	}
	return []any{h.HazardID, h.USCC, h.County, h.EquipmentID, h.Deadline, h.DaysOverdue, reasonsText([]model.Reason{h.Reason})}, nil
}

var concernColumns = []export.Column{
	{Key: "uscc", Zh: "统一社会信用代码", En: "USCC"},
	{Key: "county", Zh: "县区", En: "County"},
	{Key: "complaints", Zh: "投诉", En: "Complaints"},
	{Key: "problems", Zh: "问题", En: "Problems"},
}

// concernRow is a re-check concern as the recheck job publishes it
// (pipelines.RecheckConcern).
type concernRow struct {
	USCC       string   `json:"uscc"`
	County     string   `json:"county"`
	Complaints []string `json:"complaints"`
	Problems   []string `json:"problems"`
}

func concernCells(raw json.RawMessage) ([]any, error) {
	var x concernRow
	if err := json.Unmarshal(raw, &x); err != nil {
		return nil, err
	}
	return []any{x.USCC, x.County, strings.Join(x.Complaints, "\n"), strings.Join(x.Problems, "\n")}, nil
}

var auditColumns = []export.Column{
	{Key: "at", Zh: "时间", En: "At"},
	{Key: "key", Zh: "密钥名称", En: "Key"},
	{Key: "scope", Zh: "权限", En: "Scope"},
	{Key: "method", Zh: "方法", En: "Method"},
	{Key: "route", Zh: "路由", En: "Route"},
	{Key: "params", Zh: "参数", En: "Parameters"},
	{Key: "status", Zh: "状态码", En: "Status", Kind: export.KindInt},
	{Key: "items", Zh: "条数", En: "Items", Kind: export.KindInt},
	{Key: "detail", Zh: "详情", En: "Detail"},
	{Key: "duration_ms", Zh: "耗时(毫秒)", En: "Duration (ms)", Kind: export.KindInt},
	{Key: "id", Zh: "记录编号", En: "Record"},
}

func auditRow(it AuditItem) []any {
	return []any{it.At, it.Key, it.Scope, it.Method, it.Route, it.AuditRecord.Params, it.Status, it.Items, it.AuditRecord.Detail,
		it.DurationMS, it.ID}
}
