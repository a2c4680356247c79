package planning_test

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/qcredit/qcredit/planning"
)

func defaultRules(t *testing.T) *planning.PlanRules {
	t.Helper()
	r, err := planning.DefaultPlanRules()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func planOne(t *testing.T, r *planning.PlanRules, p planning.ProductStats, warnings []planning.ClusterWarning, sugg ...planning.Suggestion) planning.PlanLine {
	t.Helper()
	plan, err := r.MakePlan(planning.PlanInput{Year: 2027, Products: []planning.ProductStats{p}, Warnings: warnings, Suggestions: sugg})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Lines) != 1 {
		t.Fatalf("%d lines, want 1", len(plan.Lines))
	}
	return plan.Lines[0]
}

func rulesOf(l planning.PlanLine) []string {
	var out []string
	for _, r := range l.Reasons {
		out = append(out, r.Rule)
	}
	return out
}

func TestPassRateRules(t *testing.T) {
	half, err := planning.ParsePlanRules(bytes.Replace(planning.DefaultPlanRulesYAML(), []byte("factor: 0 "), []byte("factor: 0.5 "), 1))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name             string
		rules            *planning.PlanRules
		checks, failures int64
		want             int64
		rule             string // the pass-rate rule that applied, "" for none
	}{
		{"97.9 % (47 of 48) is above 95 %: no batches", nil, 48, 1, 0, "plan.pass_rate.high"},
		{"96 % of 100: no batches", nil, 100, 4, 0, "plan.pass_rate.high"},
		{"exactly 95 % is not above it", nil, 20, 1, 20, ""},
		{"95.0001 % (950,001 of 1,000,000) is above it", nil, 1_000_000, 49_999, 0, "plan.pass_rate.high"},
		// 19,000,001 of 20,000,001 is 0.95000000249…: six decimals show 0.95, the rule compares exactly.
		{"a hair above 95 % is above it", nil, 20_000_001, 1_000_000, 0, "plan.pass_rate.high"},
		{"100 % of 19 checks is too few samples", nil, 19, 0, 19, ""},
		{"100 % of 20 checks is enough", nil, 20, 0, 0, "plan.pass_rate.high"},
		{"configured to halve: 48 × 0.5", half, 48, 1, 24, "plan.pass_rate.high"},
		{"configured to halve: 21 × 0.5 = 10.5 rounds up", half, 21, 0, 11, "plan.pass_rate.high"},
		{"80 % is below 90 %: 10 × 1.5", nil, 10, 2, 15, "plan.pass_rate.low"},
		{"exactly 90 % is not below it", nil, 30, 3, 30, ""},
		{"a low rate of 4 checks is too few samples", nil, 4, 2, 4, ""},
		{"between the two: unchanged", nil, 40, 3, 40, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// given this year's checks, when next year is planned, then the pass-rate rule sets the batches
			r := tt.rules
			if r == nil {
				r = defaultRules(t)
			}
			l := planOne(t, r, planning.ProductStats{Product: "大米", Industry: "C1311", Checks: tt.checks, Failures: tt.failures}, nil)
			if l.Batches != tt.want {
				t.Errorf("%d checks, %d failed: %d batches, want %d (%v)", tt.checks, tt.failures, l.Batches, tt.want, l.Reasons)
			}
			got := rulesOf(l)
			if tt.rule != "" && !slices.Contains(got, tt.rule) || tt.rule == "" && len(got) != 1 {
				t.Errorf("rules %v, want %q after plan.base", got, tt.rule)
			}
		})
	}
}

func TestPlanAddsForRisk(t *testing.T) {
	p := planning.ProductStats{Product: "冻小龙虾", Industry: "C1361", Checks: 10, Failures: 1}
	tests := []struct {
		name     string
		change   func(*planning.ProductStats)
		warnings []planning.ClusterWarning
		sugg     []planning.Suggestion
		want     int64
		rule     string
		detail   string
	}{
		{name: "three recent failures add three", want: 13, rule: "plan.recent_failures", detail: "3 failed checks in the last 6 months",
			change: func(p *planning.ProductStats) { p.RecentFailures = []string{"sc-3", "sc-1", "sc-2"} }},
		{name: "seven complaints add at most five", want: 15, rule: "plan.complaints", detail: "+ 5 batches",
			change: func(p *planning.ProductStats) { p.Complaints = strings.Fields("c1 c2 c3 c4 c5 c6 c7") }},
		{name: "a red warning on the division adds six", want: 16, rule: "plan.cluster_warning", detail: "red warning on industry C13",
			warnings: []planning.ClusterWarning{{Cluster: "xuyi-crayfish", Level: planning.WarningLevelRed, Division: "C13"},
				{Cluster: "lianshui-food", Level: planning.WarningLevelOrange, Division: "C13"}}},
		{name: "an orange warning adds three", want: 13, rule: "plan.cluster_warning",
			warnings: []planning.ClusterWarning{{Cluster: "lianshui-food", Level: planning.WarningLevelOrange, Division: "C13"}}},
		{name: "a yellow warning adds nothing", want: 10,
			warnings: []planning.ClusterWarning{{Cluster: "lianshui-food", Level: planning.WarningLevelYellow, Division: "C13"}}},
		{name: "a red warning on another division adds nothing", want: 10,
			warnings: []planning.ClusterWarning{{Cluster: "qjp-special-steel", Level: planning.WarningLevelRed, Division: "C31"}}},
		{name: "suggestions add what the counties ask, at most ten", want: 20, rule: "plan.county_suggestion", detail: "320830 asks 8",
			sugg: []planning.Suggestion{{EventID: "s1", County: "320830", Product: "冻小龙虾", Batches: 8},
				{EventID: "s2", County: "320826", Product: "冻小龙虾", Batches: 4}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// given a product with a risk signal, when planned, then batches are added and explained
			p := p
			if tt.change != nil {
				tt.change(&p)
			}
			l := planOne(t, defaultRules(t), p, tt.warnings, tt.sugg...)
			if l.Batches != tt.want {
				t.Errorf("%d batches, want %d (%v)", l.Batches, tt.want, l.Reasons)
			}
			if tt.rule == "" {
				return
			}
			i := slices.Index(rulesOf(l), tt.rule)
			if i < 0 || !strings.Contains(l.Reasons[i].Detail, tt.detail) || l.Reasons[i].Basis == "" {
				t.Errorf("reasons %+v, want %s saying %q", l.Reasons, tt.rule, tt.detail)
			}
		})
	}
}

func TestPlanHighPassRateWithComplaints(t *testing.T) {
	// given a product above 95 % that drew complaints, when planned, then it is not dropped: the complaints add batches back
	l := planOne(t, defaultRules(t), planning.ProductStats{Product: "白酒", Industry: "C1512", Checks: 40, Complaints: []string{"c1", "c2"}}, nil)
	if l.Batches != 2 || !slices.Equal(rulesOf(l), []string{"plan.base", "plan.pass_rate.high", "plan.complaints"}) {
		t.Errorf("%d batches for %v, want 2 from plan.base, plan.pass_rate.high, plan.complaints", l.Batches, rulesOf(l))
	}
}

func TestPlanCapAndQuarters(t *testing.T) {
	r := defaultRules(t)
	tests := []struct {
		checks   int64
		quarters [4]int64
	}{{7, [4]int64{2, 2, 2, 1}}, {1, [4]int64{1, 0, 0, 0}}, {12, [4]int64{3, 3, 3, 3}}, {500, [4]int64{15, 15, 15, 15}}}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.checks, " checks"), func(t *testing.T) {
			// given batches, when spread by quarter, then as evenly as they go, earliest first, within the cap
			l := planOne(t, r, planning.ProductStats{Product: "抽油机", Industry: "C3512", Checks: tt.checks, Failures: tt.checks / 10}, nil)
			if l.Quarters != tt.quarters {
				t.Errorf("quarters %v, want %v", l.Quarters, tt.quarters)
			}
			if l.Batches > r.MaxBatches {
				t.Errorf("%d batches above the cap %d", l.Batches, r.MaxBatches)
			}
		})
	}
}

func TestPlanWhole(t *testing.T) {
	// given several products and a suggestion for one not checked this year, when planned, then
	// one line per product by name, totals add up, and the batches number once each
	plan, err := defaultRules(t).MakePlan(planning.PlanInput{Year: 2027,
		Products: []planning.ProductStats{
			{Product: "轴承钢", Industry: "C3120", Checks: 30, Failures: 0},
			{Product: "锂离子电池", Industry: "C3841", Checks: 12, Failures: 3},
		},
		Suggestions: []planning.Suggestion{{EventID: "s1", County: "320830", Product: "凹土干燥剂", Batches: 3}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	var total int64
	for _, l := range plan.Lines {
		names = append(names, l.Product)
		total += l.Batches
		if len(l.Reasons) == 0 {
			t.Errorf("%s has no reasons", l.Product)
		}
	}
	if !slices.IsSorted(names) || len(names) != 3 {
		t.Errorf("lines %v, want three in name order", names)
	}
	if plan.Batches != total || plan.Quarters[0]+plan.Quarters[1]+plan.Quarters[2]+plan.Quarters[3] != total {
		t.Errorf("plan totals %d %v, lines sum to %d", plan.Batches, plan.Quarters, total)
	}
	batches := plan.NumberBatches()
	ids := map[string]bool{}
	for _, b := range batches {
		ids[b.ID] = true
	}
	if int64(len(batches)) != total || len(ids) != len(batches) {
		t.Errorf("%d batches numbered (%d distinct ids), want %d", len(batches), len(ids), total)
	}
	if !strings.HasPrefix(plan.RulesVersion, "plan-") {
		t.Errorf("rules version %q", plan.RulesVersion)
	}
}

func TestPlanRulesParsing(t *testing.T) {
	def := planning.DefaultPlanRulesYAML()
	tests := []struct {
		name string
		yaml []byte
		want string
	}{
		{"an unknown field", append(bytes.Clone(def), "surprise: 1\n"...), "surprise"},
		{"a float that is not exact", bytes.Replace(def, []byte("above: 0.95 "), []byte("above: 0.9500001 "), 1), "more than 6 decimals"},
		{"a high factor that adds", bytes.Replace(def, []byte("factor: 0 "), []byte("factor: 2 "), 1), "high_pass_rate: factor"},
		{"a rule without a basis", bytes.Replace(def, []byte("  basis: 产品质量法第17条：抽查不合格的，责令限期改正，逾期不改正的复查\n"), nil, 1),
			"recent_failures: basis (the rule it rests on) is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// given edited rules, when parsed, then refused naming the problem
			_, err := planning.ParsePlanRules(tt.yaml)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParsePlanRules = %v, want an error with %q", err, tt.want)
			}
		})
	}
	t.Run("any edit is a new version", func(t *testing.T) {
		a, err := planning.ParsePlanRules(def)
		if err != nil {
			t.Fatal(err)
		}
		b, err := planning.ParsePlanRules(append(bytes.Clone(def), "# a comment\n"...))
		if err != nil {
			t.Fatal(err)
		}
		if a.Version == b.Version {
			t.Error("a comment did not change the version")
		}
	})
}
