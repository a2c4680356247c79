package scoring

import (
	"slices"

	"github.com/qcredit/qcredit/model"
)

// Row is one group of an enterprise's records in the look-back: events of
// one kind, sub, category and flag, counted per window (Counts[i] for
// window i), with their event ids in ascending order.
type Row struct {
	Kind     string
	Sub      string
	Category string
	Flag     string
	Counts   []int64
	IDs      []string
}

// Features are everything the scorecard reads about one enterprise.
type Features struct {
	USCC string
	Rows []Row
	// Listing are the reasons the enterprise is on the serious dishonest
	// list (lists.Status.ScoreReasons), one per listed entry: any makes the
	// grade D. The list's rules decide it, so the score and the lists agree
	// on notice, objections, expiry, repair and withdrawal.
	Listing []model.Reason
}

// Rule ids of the adjustments the scorecard makes itself.
const (
	RuleCreditCap = "credits.cap"
	RuleClamp     = "score.clamp"
)

func (m *Match) matches(r *Row) bool {
	return r.Kind == m.Kind && in(m.Subs, r.Sub) && in(m.Categories, r.Category) && in(m.Flags, r.Flag)
}

func in(list []string, v string) bool { return len(list) == 0 || slices.Contains(list, v) }

// Score grades one enterprise. It is pure: the same features and scorecard
// always give the same result, reasons in scorecard order.
func (sc *Scorecard) Score(f Features) model.Score {
	res := model.Score{USCC: model.USCC(f.USCC), Base: sc.Base, Reasons: []model.Reason{}}
	total := sc.Base
	var credits model.Points
	for i := range sc.Rules {
		r, ok := sc.apply(&sc.Rules[i], f.Rows)
		if !ok {
			continue
		}
		if r.Points > 0 {
			credits += r.Points
		}
		total += r.Points
		res.Reasons = append(res.Reasons, r)
	}
	if credits > sc.CreditCap {
		adj := sc.CreditCap - credits
		res.Reasons = append(res.Reasons, model.Reason{Rule: RuleCreditCap, Points: adj,
			Basis: "评分卡：加分合计上限 " + sc.CreditCap.String(), Detail: "credits " + credits.String() + " capped"})
		total += adj
	}
	if total < 0 || total > model.MaxScore {
		adj := min(max(total, 0), model.MaxScore) - total
		res.Reasons = append(res.Reasons, model.Reason{Rule: RuleClamp, Points: adj,
			Basis: "评分卡：分值范围 0–100", Detail: "raw score " + total.String() + " clamped"})
		total += adj
	}
	res.Score = total
	res.Grade = sc.grade(total)
	if len(f.Listing) > 0 {
		res.Grade = model.GradeD
		res.Reasons = append(res.Reasons, f.Listing...)
	} else if res.Grade == model.GradeA {
		// The evidence is a reason of its own (0 points) so the credit file
		// shows what grade A rests on, or why A was withheld.
		ev := model.Reason{Rule: sc.GradeAEvidence.ID, Basis: sc.GradeAEvidence.Basis}
		ev.Events = sc.evidence(f.Rows)
		ev.Count = int64(len(ev.Events))
		if len(ev.Events) == 0 {
			res.Grade = model.GradeB
			ev.Detail = "no passed spot check or inspection in the look-back: grade capped at B"
		}
		res.Reasons = append(res.Reasons, ev)
	}
	return res
}

func (sc *Scorecard) grade(p model.Points) model.Grade {
	switch {
	case p >= sc.Grades.A:
		return model.GradeA
	case p >= sc.Grades.B:
		return model.GradeB
	case p >= sc.Grades.C:
		return model.GradeC
	}
	return model.GradeD
}

// apply sums one rule over the matching rows: Σ count × points × weight,
// rounded once to tenths, then capped.
func (sc *Scorecard) apply(rule *Rule, rows []Row) (model.Reason, bool) {
	var num, count int64
	var perWindow []int64 // allocated on the first match: most rules match nothing
	var ids []string
	for j := range rows {
		row := &rows[j]
		if !rule.Match.matches(row) {
			continue
		}
		if perWindow == nil {
			perWindow = make([]int64, len(sc.Windows))
		}
		for i, n := range row.Counts {
			if i < len(sc.Windows) {
				perWindow[i] += n
				count += n
				num += n * int64(rule.Points) * sc.Windows[i].Permille
			}
		}
		ids = append(ids, row.IDs...)
	}
	if count == 0 {
		return model.Reason{}, false
	}
	p := model.Points(roundDiv(num, 1000))
	detail := ""
	if rule.Cap != 0 && abs(p) > abs(rule.Cap) {
		p = rule.Cap
		detail = "capped at " + rule.Cap.String()
	}
	slices.Sort(ids)
	return model.Reason{Rule: rule.ID, Points: p, Count: count, Events: ids, Basis: rule.Basis, Windows: perWindow, Detail: detail}, true
}

func (sc *Scorecard) evidence(rows []Row) []string {
	var ids []string
	for j := range rows {
		row := &rows[j]
		for k := range sc.GradeAEvidence.Matches {
			if sc.GradeAEvidence.Matches[k].matches(row) && sum(row.Counts) > 0 {
				ids = append(ids, row.IDs...)
				break
			}
		}
	}
	slices.Sort(ids)
	return ids
}

func sum(xs []int64) int64 {
	var s int64
	for _, x := range xs {
		s += x
	}
	return s
}

func abs(p model.Points) model.Points {
	if p < 0 {
		return -p
	}
	return p
}

// roundDiv divides rounding half away from zero.
func roundDiv(n, d int64) int64 {
	if n < 0 {
		return -((-n + d/2) / d)
	}
	return (n + d/2) / d
}
