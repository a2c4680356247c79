package model

import (
	"fmt"
	"math"
	"strconv"
)

// Grade is a quality-credit grade (质量信用等级), from A (best) to D.
type Grade string

const (
	GradeA Grade = "A" // 守信
	GradeB Grade = "B" // 基本守信
	GradeC Grade = "C" // 失信 (focus supervision, 重点监管)
	GradeD Grade = "D" // 严重失信
)

// Grades are every grade, best first.
var Grades = []Grade{GradeA, GradeB, GradeC, GradeD}

var gradeLabels = map[Grade][2]string{
	GradeA: {"守信", "trustworthy"},
	GradeB: {"基本守信", "basically trustworthy"},
	GradeC: {"失信", "untrustworthy"},
	GradeD: {"严重失信", "seriously untrustworthy"},
}

// Label is the grade's Chinese name (守信, 基本守信, 失信, 严重失信).
func (g Grade) Label() string { return gradeLabels[g][0] }

// LabelEN is the grade's English name.
func (g Grade) LabelEN() string { return gradeLabels[g][1] }

// Valid reports whether g is one of Grades.
func (g Grade) Valid() bool {
	_, ok := gradeLabels[g]
	return ok
}

// ParseGrade reads A, B, C or D.
func ParseGrade(s string) (Grade, error) {
	g := Grade(s)
	if !g.Valid() {
		return "", fmt.Errorf("grade %q is not A, B, C or D", s)
	}
	return g, nil
}

// Points are tenths of a score point (855 = 85.5), so that base + Σ
// reasons = score holds exactly. They print and marshal as a decimal
// number with one fractional digit.
type Points int64

// MaxScore is the top of the 0–100 scale.
const MaxScore Points = 1000

// PointsOf rounds a decimal number of points to tenths.
func PointsOf(f float64) Points { return Points(math.Round(f * 10)) }

func (p Points) String() string { return string(p.AppendText(nil)) }

// AppendText appends the decimal form (e.g. -8.0, 85.5).
func (p Points) AppendText(b []byte) []byte {
	a := int64(p)
	if a < 0 {
		b, a = append(b, '-'), -a
	}
	b = strconv.AppendInt(b, a/10, 10)
	b = append(b, '.')
	return strconv.AppendInt(b, a%10, 10)
}

// MarshalJSON writes the exact decimal.
func (p Points) MarshalJSON() ([]byte, error) { return p.AppendText(nil), nil }

// UnmarshalJSON reads a decimal with at most one fractional digit.
func (p *Points) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("points: %w", err)
	}
	*p = PointsOf(f)
	return nil
}

// Reason is one rule's contribution to an outcome (a score, a listing, a
// warning): the rule, its points (0 for rules that decide without points),
// the records it rests on and its legal or policy basis.
type Reason struct {
	Rule   string   `json:"rule"`
	Points Points   `json:"points"`
	Count  int64    `json:"count,omitempty"`
	Events []string `json:"events,omitempty"`
	Basis  string   `json:"basis"`
	// Windows counts the events per look-back window (newest first); with
	// the rule's points and the windows' weights it gives Points.
	Windows []int64 `json:"windows,omitempty"`
	Detail  string  `json:"detail,omitempty"`
}

// Score is an enterprise's quality-credit score: Score = Base + Σ Reasons[i].Points.
type Score struct {
	USCC    USCC     `json:"uscc"`
	Base    Points   `json:"base"`
	Score   Points   `json:"score"`
	Grade   Grade    `json:"grade"`
	Reasons []Reason `json:"reasons"`
}
