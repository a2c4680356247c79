package clusters

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/qcredit/qcredit/model"
)

// assess turns one cluster's counts into its assessment: signals, level,
// evidence, indicators and reasons.
func (r *run) assess(cl *cluster, phi float64) model.ClusterAssessment {
	a := model.ClusterAssessment{Cluster: cl.key, Division: cl.division, County: cl.county,
		Status: model.AssessmentStatusInsufficientData, Signals: []model.Signal{}, Reasons: []model.Reason{}}
	ev := &a.Evidence
	ev.Checks, ev.Failures, ev.Enterprises = cl.n, cl.x, cl.m
	if cl.n > 0 {
		ev.Rate = float64(cl.x) / float64(cl.n)
	}
	ev.RateLow, ev.RateHigh = wilson(cl.x, cl.n)
	ev.Baseline, ev.BaselineScope, ev.BaselineChecks, ev.BaselineFailures = cl.p0, cl.scope, cl.p0n, cl.p0x
	ev.Top = r.top(cl)
	a.Indicators = r.indicators(cl)

	accident := a.Indicators.SeriousAccidents > 0
	if accident {
		a.Signals = append(a.Signals, model.SignalAccident)
		a.Reasons = append(a.Reasons, model.Reason{Rule: RuleAccident, Count: a.Indicators.SeriousAccidents,
			Events: a.Indicators.AccidentEvents, Basis: r.cfg.Basis[RuleAccident],
			Detail: fmt.Sprintf("%d accident(s) of grade %s in the window", a.Indicators.SeriousAccidents, grades(r.cfg.AccidentGrades))})
	}
	if cl.sufficient {
		a.Status = model.AssessmentStatusAssessed
		r.statistics(cl, phi, &a)
	} else {
		a.Reasons = append(a.Reasons, model.Reason{Rule: RuleInsufficientData, Basis: r.cfg.Basis[RuleInsufficientData],
			Detail: r.insufficiency(cl)})
	}
	if l, ok := r.cfg.level(func(s model.Signal) bool { return slices.Contains(a.Signals, s) }); ok {
		a.Level = l.Level
	}
	return a
}

// statistics sets the funnel and CUSUM evidence and signals of a cluster
// meeting the minimum sample.
func (r *run) statistics(cl *cluster, phi float64, a *model.ClusterAssessment) {
	ev := &a.Evidence
	ev.Z, ev.Phi, ev.ZAdjusted = cl.z, phi, adjusted(cl.z, phi)
	switch {
	case ev.ZAdjusted > r.cfg.AlarmLimit:
		ev.Limit, ev.LimitValue = model.LimitAlarm, r.cfg.AlarmLimit
		a.Signals = append(a.Signals, model.SignalAlert, model.SignalAlarm)
		a.Reasons = append(a.Reasons, r.funnelReason(RuleFunnelAlarm, cl, ev))
	case ev.ZAdjusted > r.cfg.AlertLimit:
		ev.Limit, ev.LimitValue = model.LimitAlert, r.cfg.AlertLimit
		a.Signals = append(a.Signals, model.SignalAlert)
		a.Reasons = append(a.Reasons, r.funnelReason(RuleFunnelAlert, cl, ev))
	}

	failed := make([]bool, len(cl.checks))
	for i, ch := range cl.checks {
		failed[i] = ch.failed
	}
	recent := sort.Search(len(cl.checks), func(i int) bool { return !cl.checks[i].at.Before(r.w.Recent) })
	cs := cusum(failed, cl.p0, r.cfg.OddsRatio, r.cfg.H, recent)
	ev.CUSUM = model.CUSUMEvidence{P1: cs.P1, H: r.cfg.H, Final: cs.Final, Max: cs.Max}
	if cs.Signal < 0 {
		return
	}
	// Times in outputs are in one zone, whatever the warehouse returned, so
	// two backends encode them alike.
	ev.CUSUM.SignalAt = cl.checks[cs.Signal].at.In(model.Shanghai)
	a.Signals = append(a.Signals, model.SignalRising)
	var ids []string
	for _, ch := range cl.checks[cs.RunStart : cs.Signal+1] {
		if ch.failed {
			ids = append(ids, ch.id)
		}
	}
	a.Reasons = append(a.Reasons, model.Reason{Rule: RuleCUSUMRising, Count: int64(len(ids)), Events: ids,
		Basis: r.cfg.Basis[RuleCUSUMRising],
		Detail: fmt.Sprintf("S = %.3f ≥ h = %g on %s after %d checks since S was last 0 (p0 = %.4f, p1 = %.4f); final S = %.3f",
			cs.SignalS, r.cfg.H, ev.CUSUM.SignalAt.Format(time.DateOnly),
			cs.Signal-cs.RunStart+1, cl.p0, cs.P1, cs.Final)})
}

func (r *run) funnelReason(rule string, cl *cluster, ev *model.ClusterEvidence) model.Reason {
	ids := make([]string, 0, cl.x)
	for _, ch := range cl.checks {
		if ch.failed {
			ids = append(ids, ch.id)
		}
	}
	return model.Reason{Rule: rule, Count: cl.x, Events: ids, Basis: r.cfg.Basis[rule],
		Detail: fmt.Sprintf("z' = %.3f > %g (n = %d, x = %d, p̂ = %.4f, p0 = %.4f, z = %.3f, φ = %.3f)",
			ev.ZAdjusted, ev.LimitValue, cl.n, cl.x, ev.Rate, cl.p0, ev.Z, ev.Phi)}
}

func (r *run) insufficiency(cl *cluster) string {
	var why []string
	if cl.n < r.cfg.MinChecks {
		why = append(why, fmt.Sprintf("n = %d < %d checks", cl.n, r.cfg.MinChecks))
	}
	if cl.m < r.cfg.MinEnterprises {
		why = append(why, fmt.Sprintf("m = %d < %d enterprises checked", cl.m, r.cfg.MinEnterprises))
	}
	if cl.scope == model.BaselineScopeNone {
		why = append(why, "no other cluster had a check for a baseline")
	}
	return "insufficient data: " + strings.Join(why, "; ")
}

// top names the enterprises with the most failures (ties by USCC) and the
// ids of their failed checks in time order.
func (r *run) top(cl *cluster) []model.FirmEvidence {
	var ranked []int32
	for _, m := range cl.members {
		if r.firms[m].failures > 0 {
			ranked = append(ranked, m)
		}
	}
	// Members are in USCC order, so a stable sort by failures breaks ties by USCC.
	slices.SortStableFunc(ranked, func(a, b int32) int { return cmp.Compare(r.firms[b].failures, r.firms[a].failures) })
	ranked = ranked[:min(len(ranked), r.cfg.TopEnterprises)]
	top := make([]model.FirmEvidence, len(ranked))
	at := make(map[int32]int, len(ranked))
	for i, m := range ranked {
		f := &r.firms[m]
		top[i] = model.FirmEvidence{USCC: f.e.USCC, Name: f.e.Name, Checks: f.checks, Failures: f.failures, Events: []string{}}
		at[m] = i
	}
	for _, ch := range cl.checks {
		if i, ok := at[ch.firm]; ok && ch.failed {
			top[i].Events = append(top[i].Events, ch.id)
		}
	}
	return top
}

func (r *run) indicators(cl *cluster) model.ClusterIndicators {
	in := model.ClusterIndicators{Enterprises: int64(len(cl.members)), Penalties: cl.penalties, Complaints: cl.complaints,
		OverdueHazards: cl.hazards, Accidents: int64(len(cl.accidents))}
	for _, m := range cl.members {
		switch r.firms[m].e.Grade {
		case model.GradeC, model.GradeD:
			in.GradeCD++
			in.Graded++
		case model.GradeA, model.GradeB:
			in.Graded++
		}
	}
	if in.Graded > 0 {
		in.GradeCDShare = float64(in.GradeCD) / float64(in.Graded)
	}
	in.PenaltiesPer100 = per100(in.Penalties, in.Enterprises)
	in.ComplaintsPer100 = per100(in.Complaints, in.Enterprises)
	for _, a := range cl.accidents {
		if r.cfg.seriousAccident(a.Grade) {
			in.SeriousAccidents++
			in.AccidentEvents = append(in.AccidentEvents, a.EventID)
		}
	}
	in.FailedProducts = r.failedProducts(cl)
	return in
}

func per100(k, n int64) float64 {
	if n == 0 {
		return 0
	}
	return 100 * float64(k) / float64(n)
}

// failedProducts are the products with the most failures, as many as the
// top enterprises.
func (r *run) failedProducts(cl *cluster) []model.ProductFailures {
	counts := map[string]*model.ProductFailures{}
	for _, ch := range cl.checks {
		p := counts[ch.product]
		if p == nil {
			p = &model.ProductFailures{Product: ch.product}
			counts[ch.product] = p
		}
		p.Checks++
		if ch.failed {
			p.Failures++
		}
	}
	var out []model.ProductFailures
	for _, p := range counts {
		if p.Failures > 0 {
			out = append(out, *p)
		}
	}
	slices.SortFunc(out, func(a, b model.ProductFailures) int {
		return cmp.Or(cmp.Compare(b.Failures, a.Failures), strings.Compare(a.Product, b.Product))
	})
	return out[:min(len(out), r.cfg.TopEnterprises)]
}

func grades(gs []model.AccidentGrade) string {
	s := make([]string, len(gs))
	for i, g := range gs {
		s[i] = string(g)
	}
	return strings.Join(s, "/")
}
