package scoring

import (
	"fmt"
	"slices"
	"strconv"
)

// Points are tenths of a score point, so that base + Σ reasons = score holds
// exactly (no float drift). They marshal as a decimal number: 85.5.
type Points int64

// MaxScore is the top of the scale.
const MaxScore Points = 1000

func (p Points) String() string {
	sign := ""
	a := int64(p)
	if a < 0 {
		sign, a = "-", -a
	}
	return sign + strconv.FormatInt(a/10, 10) + "." + strconv.FormatInt(a%10, 10)
}

// MarshalJSON writes the exact decimal.
func (p Points) MarshalJSON() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalJSON reads a decimal with at most one fractional digit.
func (p *Points) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("points: %w", err)
	}
	*p = tenths(f)
	return nil
}

// Grade is a quality-credit grade (质量信用等级).
type Grade string

const (
	GradeA Grade = "A" // 守信
	GradeB Grade = "B" // 基本守信
	GradeC Grade = "C" // 失信, 重点监管
	GradeD Grade = "D" // 严重失信
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
}

// Reason is one rule's contribution to a score.
type Reason struct {
	Rule   string   `json:"rule"`
	Points Points   `json:"points"`
	Count  int64    `json:"count,omitempty"`
	Events []string `json:"events,omitempty"`
	Basis  string   `json:"basis"`
	// Windows counts the events per look-back window (newest first); with
	// the rule's points and the windows' weights it gives Points. Stored
	// instead of a prose detail: a score run writes millions of reasons.
	Windows []int64 `json:"windows,omitempty"`
	Detail  string  `json:"detail,omitempty"`
}

// Result is an enterprise's score: Score = Base + Σ Reasons[i].Points.
type Result struct {
	USCC    string   `json:"uscc"`
	Base    Points   `json:"base"`
	Score   Points   `json:"score"`
	Grade   Grade    `json:"grade"`
	Reasons []Reason `json:"reasons"`
}

// Rule ids of the adjustments the scorecard makes itself.
const (
	RuleCreditCap = "credits.cap"
	RuleClamp     = "score.clamp"
)

func (m *Match) matches(r *Row) bool {
	return r.Kind == m.Kind && in(m.Subs, r.Sub) && in(m.Categories, r.Category) && in(m.Flags, r.Flag)
}

func (m *Match) matchesAny(rows []Row) bool {
	for i := range rows {
		if m.matches(&rows[i]) {
			return true
		}
	}
	return false
}

func in(list []string, v string) bool { return len(list) == 0 || slices.Contains(list, v) }

// Score grades one enterprise. It is pure: the same features and scorecard
// always give the same result, reasons in scorecard order.
func (sc *Scorecard) Score(f Features) Result {
	res := Result{USCC: f.USCC, Base: sc.Base, Reasons: []Reason{}}
	total := sc.Base
	var credits Points
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
		res.Reasons = append(res.Reasons, Reason{Rule: RuleCreditCap, Points: adj,
			Basis: "评分卡：加分合计上限 " + sc.CreditCap.String(), Detail: "credits " + credits.String() + " capped"})
		total += adj
	}
	if total < 0 || total > MaxScore {
		adj := min(max(total, 0), MaxScore) - total
		res.Reasons = append(res.Reasons, Reason{Rule: RuleClamp, Points: adj,
			Basis: "评分卡：分值范围 0–100", Detail: "raw score " + total.String() + " clamped"})
		total += adj
	}
	res.Score = total
	res.Grade = sc.grade(total)
	if r, ok := sc.serious(f.Rows); ok {
		res.Grade = GradeD
		res.Reasons = append(res.Reasons, r)
	} else if res.Grade == GradeA {
		// The evidence is a reason of its own (0 points) so the credit file
		// shows what grade A rests on, or why A was withheld.
		ev := Reason{Rule: sc.GradeAEvidence.ID, Basis: sc.GradeAEvidence.Basis}
		ev.Events = sc.evidence(f.Rows)
		ev.Count = int64(len(ev.Events))
		if len(ev.Events) == 0 {
			res.Grade = GradeB
			ev.Detail = "no passed spot check or inspection in the look-back: grade capped at B"
		}
		res.Reasons = append(res.Reasons, ev)
	}
	return res
}

func (sc *Scorecard) grade(p Points) Grade {
	switch {
	case p >= sc.Grades.A:
		return GradeA
	case p >= sc.Grades.B:
		return GradeB
	case p >= sc.Grades.C:
		return GradeC
	}
	return GradeD
}

// apply sums one rule over the matching rows: Σ count × points × weight,
// rounded once to tenths, then capped.
func (sc *Scorecard) apply(rule *Rule, rows []Row) (Reason, bool) {
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
		return Reason{}, false
	}
	p := Points(roundDiv(num, 1000))
	detail := ""
	if rule.Cap != 0 && abs(p) > abs(rule.Cap) {
		p = rule.Cap
		detail = "capped at " + rule.Cap.String()
	}
	slices.Sort(ids)
	return Reason{Rule: rule.ID, Points: p, Count: count, Events: ids, Basis: rule.Basis, Windows: perWindow, Detail: detail}, true
}

// serious returns the first serious-list condition the rows meet.
func (sc *Scorecard) serious(rows []Row) (Reason, bool) {
	for r := range sc.Serious {
		rule := &sc.Serious[r]
		if !rule.Match.matchesAny(rows) {
			continue // the common case: nothing to count, nothing to allocate
		}
		byCat := map[string][]string{}
		counts := map[string]int64{}
		for j := range rows {
			row := &rows[j]
			if !rule.Match.matches(row) {
				continue
			}
			key := ""
			if rule.PerCategory {
				key = row.Category
			}
			counts[key] += sum(row.Counts[:min(len(row.Counts), len(sc.Windows))])
			byCat[key] = append(byCat[key], row.IDs...)
		}
		keys := make([]string, 0, len(counts))
		for k := range counts {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if counts[k] >= rule.Min {
				ids := byCat[k]
				slices.Sort(ids)
				d := "serious dishonest list condition met: grade D"
				if k != "" {
					d = k + ": " + d
				}
				return Reason{Rule: rule.ID, Count: counts[k], Events: ids, Basis: rule.Basis, Detail: d}, true
			}
		}
	}
	return Reason{}, false
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

func abs(p Points) Points {
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
