package scoring

import (
	"slices"
	"strings"
	"testing"

	"github.com/qcredit/qcredit/model"
)

func mustDefault(t *testing.T) *Scorecard {
	t.Helper()
	sc, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func row(kind, sub, cat, flag string, counts []int64, ids ...string) Row {
	return Row{Kind: kind, Sub: sub, Category: cat, Flag: flag, Counts: counts, IDs: ids}
}

var pass = row("spot_check", "pass", "", "", []int64{1, 0, 0}, "p1")

func TestScore(t *testing.T) {
	sc := mustDefault(t)
	tests := []struct {
		name      string
		rows      []Row
		wantScore model.Points
		wantGrade model.Grade
		wantRules []string
	}{
		{"clean with a passed check is A", []Row{pass}, 1000, model.GradeA, []string{"grade.a_evidence"}},
		{"clean without evidence is capped at B", nil, 1000, model.GradeB, []string{"grade.a_evidence"}},
		{"major failure decays with age", []Row{pass, row("spot_check", "major", "", "", []int64{1, 1, 1}, "f1", "f2", "f3")},
			1000 - 80 - 48 - 24, model.GradeB, []string{"spot_check.fail.major"}},
		{"failed re-check takes the surcharge", []Row{pass, row("spot_check", "critical", "", "retest", []int64{1, 0, 0}, "r1")},
			1000 - 150 - 60, model.GradeB, []string{"spot_check.fail.critical", "spot_check.recheck_fail"}},
		{"repaired penalty keeps a small deduction", []Row{pass, row("penalty", "heavy", "substandard", "repaired", []int64{1, 0, 0}, "x1")},
			1000 - 20, model.GradeA, []string{"penalty.repaired", "grade.a_evidence"}},
		// Not yet listed (the notice period, or an upheld objection): the points alone decide.
		{"heavy penalty without a listing is graded by its points", []Row{pass, row("penalty", "heavy", "counterfeit", "", []int64{0, 0, 1}, "x2")},
			1000 - 60, model.GradeA, []string{"penalty.heavy", "grade.a_evidence"}},
		{"credits are capped per rule and in total", []Row{pass, row("certification", "", "", "", []int64{5, 0, 0}, "c1", "c2", "c3", "c4", "c5"),
			row("award", "", "", "", []int64{3, 0, 0}, "w1", "w2", "w3")}, 1000, model.GradeA,
			[]string{"credit.certification", "credit.award", "credits.cap", "score.clamp", "grade.a_evidence"}},
		{"score is clamped at 0", []Row{row("accident", "major", "", "", []int64{4, 0, 0}, "a1", "a2", "a3", "a4")},
			0, model.GradeD, []string{"accident.larger", "score.clamp"}},
		{"overdue serious hazard takes both deductions", []Row{pass, row("hazard", "serious", "", "overdue", []int64{1, 0, 0}, "h1")},
			1000 - 60 - 80, model.GradeB, []string{"hazard.serious", "hazard.overdue"}},
		{"unverified complaints are not features; verified are capped", []Row{pass, row("complaint", "", "", "", []int64{10, 0, 0}, "k")},
			1000 - 150, model.GradeB, []string{"complaint.verified"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := sc.Score(Features{USCC: "X", Rows: tt.rows})
			if res.Score != tt.wantScore || res.Grade != tt.wantGrade {
				t.Errorf("got %s %s, want %s %s; reasons %+v", res.Score, res.Grade, tt.wantScore, tt.wantGrade, res.Reasons)
			}
			var rules []string
			total := res.Base
			for _, r := range res.Reasons {
				rules = append(rules, r.Rule)
				total += r.Points
				if r.Basis == "" {
					t.Errorf("reason %s has no basis", r.Rule)
				}
			}
			if total != res.Score {
				t.Errorf("base + Σ reasons = %s, score %s", total, res.Score)
			}
			if strings.Join(rules, ",") != strings.Join(tt.wantRules, ",") {
				t.Errorf("rules %v, want %v", rules, tt.wantRules)
			}
		})
	}
}

func TestAListedFirmGradesD(t *testing.T) {
	// given a firm whose points make it A, when it is on the serious dishonest list, then it grades D, its
	// score is unchanged (the listing reasons carry 0 points) and the listing reasons come last, without
	// grade A's evidence
	sc := mustDefault(t)
	listing := []model.Reason{
		{Rule: "serious.heavy_penalty", Count: 1, Events: []string{"x2"}, Basis: "总局令第44号第七条", Detail: "严重违法失信名单 k1"},
		{Rule: "serious.accident", Count: 1, Events: []string{"a9"}, Basis: "特种设备安全法", Detail: "严重违法失信名单 k2"},
	}
	res := sc.Score(Features{USCC: "X", Rows: []Row{pass}, Listing: listing})
	if res.Grade != model.GradeD || res.Score != 1000 {
		t.Fatalf("got %s %s, want 100.0 D", res.Score, res.Grade)
	}
	var rules []string
	for _, r := range res.Reasons {
		rules = append(rules, r.Rule)
	}
	if want := []string{"serious.heavy_penalty", "serious.accident"}; !slices.Equal(rules, want) {
		t.Errorf("reasons %v, want %v", rules, want)
	}
}

func TestVersionFollowsContent(t *testing.T) {
	a := mustDefault(t)
	b, err := Parse(append(DefaultYAML(), []byte("\n# edited\n")...))
	if err != nil {
		t.Fatal(err)
	}
	if a.Version == b.Version || !strings.HasPrefix(a.Version, "sc-") || len(a.Version) != 15 {
		t.Errorf("versions %s and %s", a.Version, b.Version)
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"unknown field", "base: 100\nbogus: 1\n", "bogus"},
		{"grades out of order", strings.Replace(string(defaultYAML), "a: 90", "a: 50", 1), "a > b > c"},
		{"rule without basis", strings.Replace(string(defaultYAML), "basis: 产品质量法第15条、第17条：监督抽查不合格（轻微）", "basis: ''", 1), "basis"},
		// Rules that name what no feature row carries would silently never match.
		{"unknown kind", strings.Replace(string(defaultYAML), "{kind: spot_check, subs: [minor]}", "{kind: spotcheck, subs: [minor]}", 1),
			`rule spot_check.fail.minor can never match: unknown kind "spotcheck"`},
		{"unknown sub", strings.Replace(string(defaultYAML), "{kind: spot_check, subs: [minor]}", "{kind: spot_check, subs: [minr]}", 1),
			`rule spot_check.fail.minor can never match: kind spot_check has no sub "minr"`},
		{"unknown category", strings.Replace(string(defaultYAML), "categories: [violation, fraud]", "categories: [violation, fraude]", 1),
			`has no category "fraude"`},
		// The serious-list triggers are the lists' rules now: a file still carrying them is refused, not half read.
		{"serious section", string(defaultYAML) + "serious:\n  - id: serious.x\n", "serious"},
		{"unknown flag", strings.Replace(string(defaultYAML), "flags: [overdue]", "flags: [late]", 1), `has no flag "late"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error about %q", err, tt.want)
			}
		})
	}
}

func TestReasonCountsPerWindow(t *testing.T) {
	// Given failures in the first and last window, then the reason says how
	// many fell in each, so its points can be recomputed from the scorecard.
	res := mustDefault(t).Score(Features{Rows: []Row{row("spot_check", "minor", "", "", []int64{2, 0, 1}, "a", "b", "c")}})
	if r := res.Reasons[0]; !slices.Equal(r.Windows, []int64{2, 0, 1}) || r.Points != -80-12 || r.Count != 3 {
		t.Errorf("reason %+v", r)
	}
}
