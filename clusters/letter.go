package clusters

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/qcredit/qcredit/model"
)

//go:embed letter.html
var letterHTML string

// letterTemplate is parsed once; Must fails only on a broken embedded file,
// a build defect that every letter test catches.
var letterTemplate = template.Must(template.New("letter").Parse(letterHTML))

// LetterInput is what a warning letter (质量风险提示函) reports: a warning
// as assessed in one run (its date is the run's as_of).
type LetterInput struct {
	Warning model.Warning
	Result  *Result
	// Calendar counts the reply deadline; nil is model.DefaultCalendar().
	Calendar *model.Calendar
}

// Validate says why no letter can be written.
func (in *LetterInput) Validate() error {
	var errs []error
	if in.Result == nil {
		errs = append(errs, errors.New("the run's result is required"))
	} else if _, ok := in.Result.Cluster(in.Warning.Cluster); !ok {
		errs = append(errs, fmt.Errorf("cluster %q is not in the run of %s", in.Warning.Cluster, in.Result.AsOf))
	}
	if in.Warning.Status != model.WarningStatusOpen {
		errs = append(errs, fmt.Errorf("warning %s is %s: letters are for open warnings", in.Warning.ID, in.Warning.Status))
	}
	return errors.Join(errs...)
}

// RenderLetter renders the printable Chinese HTML letter of a warning: the
// county government addressed, the cluster, the findings in plain words,
// the evidence, the division's funnel plot with the cluster marked, the
// enterprises concerned, the requested actions and the reply deadline. It
// is pure: the same input renders the same bytes.
func (c *Config) RenderLetter(in LetterInput) ([]byte, error) {
	if err := in.Validate(); err != nil {
		return nil, fmt.Errorf("warning letter: %w", err)
	}
	a, _ := in.Result.Cluster(in.Warning.Cluster)
	rule, ok := c.rule(a.Level)
	if !ok || !rule.Letter {
		return nil, fmt.Errorf("warning letter: warning %s is at level %q in the run of %s, which gets no letter (a watch or none)",
			in.Warning.ID, a.Level, in.Result.AsOf)
	}
	v, err := c.letterView(in, a, rule)
	if err != nil {
		return nil, fmt.Errorf("warning letter %s: %w", in.Warning.ID, err)
	}
	var b bytes.Buffer
	if err := letterTemplate.Execute(&b, v); err != nil {
		return nil, fmt.Errorf("warning letter %s: %w", in.Warning.ID, err)
	}
	return b.Bytes(), nil
}

// letterView is what the template shows; every text is built here, so the
// template only lays it out.
type letterView struct {
	Number      string
	Addressee   string
	Sender      string
	Date        string
	Cluster     string
	Level       string
	LevelClass  string
	Opening     string
	Findings    []string
	Evidence    []row
	Indicators  []row
	Plot        template.HTML
	PlotCaption string
	Firms       []model.FirmEvidence
	Actions     []string
	Reply       string
	Basis       []string
	Footer      string
}

type row struct{ Label, Value string }

func (c *Config) letterView(in LetterInput, a model.ClusterAssessment, rule LevelRule) (letterView, error) {
	asOf, err := ParseAsOf(in.Result.AsOf)
	if err != nil {
		return letterView{}, err
	}
	addressee, err := c.addressee(a.County)
	if err != nil {
		return letterView{}, err
	}
	f, err := c.Funnel(in.Result, a.Division)
	if err != nil {
		return letterView{}, err
	}
	// The letter centres the plot on the cluster's own baseline (its
	// division without it), so the limits drawn are those it was tested against.
	if a.Evidence.BaselineScope != model.BaselineScopeNone {
		f.Baseline, f.BaselineScope = a.Evidence.Baseline, a.Evidence.BaselineScope
		f.Limits = c.funnelLimits(f)
	}
	svg, err := funnelSVG(f, a.Cluster)
	if err != nil {
		return letterView{}, err
	}
	w := in.Result.Window
	v := letterView{
		Number: in.Warning.ID, Addressee: addressee, Sender: c.Sender, Date: chineseDate(asOf),
		Cluster: clusterName(a), Level: a.Level.Label() + "预警", LevelClass: string(a.Level),
		Opening: fmt.Sprintf("根据《淮安市质监局市场主体监管实施办法（试行）》“开展产业集聚区质量问题综合治理，建立质量风险提示函制度”的要求，"+
			"我局对全市产业集聚区%s至%s的产品质量监督抽查及相关监管记录进行了统计分析。贵地区%s现为%s，现将有关情况提示如下。",
			chineseDate(w.Start), chineseDate(w.Cutoff.AddDate(0, 0, -1)), clusterName(a), a.Level.Label()+"预警"),
		Findings:   c.findings(a),
		Evidence:   c.evidenceRows(a),
		Indicators: indicatorRows(a.Indicators),
		// The SVG is the plotting library's output from numbers and cluster
		// keys, which it escapes (html.EscapeString); it is trusted markup.
		Plot:        template.HTML(svg),
		PlotCaption: plotCaption(a.Division, in.Result.Phi),
		Firms:       a.Evidence.Top,
		Actions:     rule.Actions,
		Reply:       c.replyText(in, asOf),
		Footer:      fmt.Sprintf("预警编号 %s · 评估日 %s · 方法版本 %s", in.Warning.ID, in.Result.AsOf, in.Result.Version),
	}
	for _, r := range a.Reasons {
		v.Basis = append(v.Basis, r.Basis)
	}
	return v, nil
}

// addressee is the county's government, unless the method names another body.
func (c *Config) addressee(county string) (string, error) {
	if name := c.Addressees[county]; name != "" {
		return name, nil
	}
	r, ok := model.LookupRegion(county)
	if !ok {
		return "", fmt.Errorf("county %q is not a GB/T 2260 code (name its addressee in letter.addressees)", county)
	}
	return r.Name + "人民政府", nil
}

func (c *Config) replyText(in LetterInput, asOf time.Time) string {
	cal := in.Calendar
	if cal == nil {
		cal = model.DefaultCalendar()
	}
	d := cal.AddWorkingDays(asOf, c.ReplyWorkingDays)
	s := fmt.Sprintf("请于%s前（%d个工作日内）将核查处置和整改落实情况书面回复我局。", chineseDate(d.Date), c.ReplyWorkingDays)
	if d.Estimated {
		s += fmt.Sprintf("（%d年以后的节假日安排尚未公布，期限按周一至周五估算，公布后以实际安排为准。）", cal.LastYear())
	}
	return s
}

func plotCaption(division string, phi float64) string {
	adjusted := fmt.Sprintf("离散系数φ = %.2f ≤ 1，未调整", phi)
	if phi > 1 {
		adjusted = fmt.Sprintf("已按离散系数φ = %.2f放宽", phi)
	}
	return fmt.Sprintf("图：%s各集聚区漏斗图（横轴：抽查批次 n；纵轴：不合格率；点线为本集聚区的比较基准p0，虚线为95%%控制限，实线为99.8%%控制限，%s；红点为本集聚区）",
		divisionName(division), adjusted)
}

func chineseDate(t time.Time) string {
	return fmt.Sprintf("%d年%d月%d日", t.Year(), int(t.Month()), t.Day())
}

// clusterName names a cluster for people: a declared id as it is, a county
// and division cluster by their names.
func clusterName(a model.ClusterAssessment) string {
	if a.Cluster != a.County+"-"+a.Division {
		return fmt.Sprintf("%s集聚区（%s）", a.Cluster, divisionName(a.Division))
	}
	county := a.County
	if r, ok := model.LookupRegion(a.County); ok {
		county = r.Name
	}
	return fmt.Sprintf("%s%s集聚区（%s）", county, divisionName(a.Division), a.Cluster)
}

func divisionName(d string) string {
	if i, ok := model.LookupIndustry(d); ok {
		return i.Name + " " + d
	}
	return d
}

func pct(v float64) string { return fmt.Sprintf("%.1f%%", 100*v) }

// findings says in plain words what the numbers show.
func (c *Config) findings(a model.ClusterAssessment) []string {
	ev := a.Evidence
	var out []string
	out = append(out, fmt.Sprintf("近%d个月该集聚区共接受产品质量监督抽查%d批次，涉及企业%d家，不合格%d批次，不合格率%s（95%%置信区间%s–%s）。",
		c.WindowMonths, ev.Checks, ev.Enterprises, ev.Failures, pct(ev.Rate), pct(ev.RateLow), pct(ev.RateHigh)))
	switch ev.BaselineScope {
	case model.BaselineScopeDivision:
		out = append(out, fmt.Sprintf("同期全市同行业（%s）其他集聚区的不合格率为%s（%d批次中不合格%d批次）。",
			divisionName(a.Division), pct(ev.Baseline), ev.BaselineChecks, ev.BaselineFailures))
	case model.BaselineScopeCity:
		out = append(out, fmt.Sprintf("同行业其他集聚区抽查不足%d批次，以全市其他集聚区的不合格率%s（%d批次中不合格%d批次）作为比较基准。",
			c.BaselineMinChecks, pct(ev.Baseline), ev.BaselineChecks, ev.BaselineFailures))
	}
	if a.Status == model.AssessmentStatusInsufficientData {
		out = append(out, fmt.Sprintf("该集聚区抽查样本不足（需不少于%d批次且涉及不少于%d家企业），未作统计分级。", c.MinChecks, c.MinEnterprises))
	} else {
		spread := fmt.Sprintf("各集聚区之间未见超出抽样误差的差异（离散系数φ = %.2f ≤ 1，不作调整），", ev.Phi)
		if ev.Phi > 1 {
			spread = fmt.Sprintf("考虑各集聚区之间的正常差异（离散系数φ = %.2f）后，", ev.Phi)
		}
		switch ev.Limit {
		case model.LimitAlarm:
			out = append(out, fmt.Sprintf("%s该集聚区不合格率的标准化偏差z' = %.2f，超过99.8%%控制限（%g），显著偏高。", spread, ev.ZAdjusted, ev.LimitValue))
		case model.LimitAlert:
			out = append(out, fmt.Sprintf("%s该集聚区不合格率的标准化偏差z' = %.2f，超过95%%控制限（%g），偏高。", spread, ev.ZAdjusted, ev.LimitValue))
		default:
			out = append(out, fmt.Sprintf("%s该集聚区不合格率的标准化偏差z' = %.2f，未超过漏斗图控制限。", spread, ev.ZAdjusted))
		}
		if !ev.CUSUM.SignalAt.IsZero() {
			out = append(out, fmt.Sprintf("逐批累积和（CUSUM）监测显示不合格呈上升趋势：累积和于%s达到阈值h = %g，目前为%.2f。",
				chineseDate(ev.CUSUM.SignalAt.In(model.Shanghai)), ev.CUSUM.H, ev.CUSUM.Final))
		}
	}
	if n := a.Indicators.SeriousAccidents; n > 0 {
		out = append(out, fmt.Sprintf("窗口期内发生较大及以上特种设备事故%d起（记录：%s）；较大及以上事故不需最小样本即触发预警。",
			n, strings.Join(a.Indicators.AccidentEvents, "、")))
	}
	if ps := a.Indicators.FailedProducts; len(ps) > 0 {
		parts := make([]string, len(ps))
		for i, p := range ps {
			parts[i] = fmt.Sprintf("%s（%d批次中不合格%d批次）", p.Product, p.Checks, p.Failures)
		}
		out = append(out, "不合格产品主要为："+strings.Join(parts, "、")+"。")
	}
	return out
}

func (c *Config) evidenceRows(a model.ClusterAssessment) []row {
	ev := a.Evidence
	rows := []row{
		{"抽查批次 n", fmt.Sprint(ev.Checks)},
		{"不合格批次 x", fmt.Sprint(ev.Failures)},
		{"涉及企业 m", fmt.Sprint(ev.Enterprises)},
		{"不合格率 p̂（95% Wilson区间）", fmt.Sprintf("%.4f（%.4f–%.4f）", ev.Rate, ev.RateLow, ev.RateHigh)},
		{"基准不合格率 p0", fmt.Sprintf("%.4f（%s，%d/%d）", ev.Baseline, scopeText(ev.BaselineScope), ev.BaselineFailures, ev.BaselineChecks)},
	}
	if a.Status != model.AssessmentStatusAssessed {
		return append(rows, row{"统计分级", "样本不足，未分级"})
	}
	limit := "未越过"
	switch ev.Limit {
	case model.LimitAlarm:
		limit = fmt.Sprintf("99.8%%控制限（z' > %g）", ev.LimitValue)
	case model.LimitAlert:
		limit = fmt.Sprintf("95%%控制限（z' > %g）", ev.LimitValue)
	}
	signal := "未报警"
	if !ev.CUSUM.SignalAt.IsZero() {
		signal = ev.CUSUM.SignalAt.In(model.Shanghai).Format("2006-01-02 15:04") + " 达到阈值"
	}
	return append(rows,
		row{"标准化偏差 z", fmt.Sprintf("%.3f", ev.Z)},
		row{"离散系数 φ", fmt.Sprintf("%.3f", ev.Phi)},
		row{"调整后偏差 z'", fmt.Sprintf("%.3f", ev.ZAdjusted)},
		row{"越过的控制限", limit},
		row{"CUSUM 最终值 / 最大值 / 阈值 h", fmt.Sprintf("%.3f / %.3f / %g", ev.CUSUM.Final, ev.CUSUM.Max, ev.CUSUM.H)},
		row{"CUSUM 报警", signal},
	)
}

func scopeText(s model.BaselineScope) string {
	switch s {
	case model.BaselineScopeDivision:
		return "同行业其他集聚区"
	case model.BaselineScopeCity:
		return "全市其他集聚区"
	}
	return "无"
}

func indicatorRows(in model.ClusterIndicators) []row {
	cd := "无评级企业"
	if in.Graded > 0 {
		cd = fmt.Sprintf("%s（%d/%d家）", pct(in.GradeCDShare), in.GradeCD, in.Graded)
	}
	return []row{
		{"集聚区企业数", fmt.Sprint(in.Enterprises)},
		{"行政处罚（每百家企业）", fmt.Sprintf("%d起（%.1f）", in.Penalties, in.PenaltiesPer100)},
		{"属实投诉举报（每百家企业）", fmt.Sprintf("%d件（%.1f）", in.Complaints, in.ComplaintsPer100)},
		{"C/D级企业占比", cd},
		{"逾期未整改特种设备隐患", fmt.Sprintf("%d处", in.OverdueHazards)},
		{"特种设备事故（其中较大及以上）", fmt.Sprintf("%d起（%d起）", in.Accidents, in.SeriousAccidents)},
	}
}
