package clusters_test

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qcredit/qcredit/clusters"
	"github.com/qcredit/qcredit/model"
)

const asOf = "2026-06-30"

// cutoff is the end of asOf in Asia/Shanghai.
var cutoff = time.Date(2026, 7, 1, 0, 0, 0, 0, model.Shanghai)

// city builds small inputs by hand.
type city struct {
	in  clusters.Input
	seq int
}

func newCity() *city { return &city{in: clusters.Input{AsOf: asOf}} }

// firms registers k enterprises in a cluster.
func (c *city) firms(cluster, county, division string, k int) []model.USCC {
	out := make([]model.USCC, k)
	for i := range out {
		c.seq++
		u := model.CompleteUSCC(fmt.Sprintf("91%s%08d", county, c.seq))
		out[i] = u
		c.in.Enterprises = append(c.in.Enterprises, clusters.Enterprise{USCC: u, Name: fmt.Sprintf("企业%d", c.seq),
			Cluster: cluster, County: county, Division: division})
	}
	return out
}

// check adds one spot check daysBefore the cutoff.
func (c *city) check(u model.USCC, daysBefore float64, failed bool) string {
	c.seq++
	id := fmt.Sprintf("CJ-%06d", c.seq)
	c.in.Checks = append(c.in.Checks, clusters.Check{EventID: id, USCC: u, Failed: failed, Product: "产品",
		OccurredAt: cutoff.Add(-time.Duration(daysBefore * 24 * float64(time.Hour)))})
	return id
}

// spread gives each firm checks spread over the window, the first `failed`
// of them (counting across firms) failing, most recent first when recent.
func (c *city) spread(firms []model.USCC, perFirm, failed int, recentFailures bool) {
	k := 0
	for i := range perFirm {
		for j, u := range firms {
			day := 5 + float64(i*len(firms)+j)*350/float64(perFirm*len(firms))
			if !recentFailures {
				day = 360 - day
			}
			c.check(u, day, k < failed)
			k++
		}
	}
}

func compute(t *testing.T, in *clusters.Input) *clusters.Result {
	t.Helper()
	cfg, err := clusters.Default()
	if err != nil {
		t.Fatal(err)
	}
	res, err := cfg.Compute(in)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func cluster(t *testing.T, res *clusters.Result, key string) model.ClusterAssessment {
	t.Helper()
	a, ok := res.Cluster(key)
	if !ok {
		t.Fatalf("no assessment of %s", key)
	}
	return a
}

func rules(a model.ClusterAssessment) []string {
	var out []string
	for _, r := range a.Reasons {
		out = append(out, r.Rule)
	}
	return out
}

// baseCity is three C30 clusters, one C40 cluster and ten C13 clusters at
// their division's rate, with known counts: target 320830-C30 n=40 x=10
// (failures recent), 320831-C30 n=100 x=5, 320812-C30 n=60 x=3, 320804-C40
// n=30 x=3, food-0 … food-9 n=40 x=2 each.
func baseCity() *city {
	c := newCity()
	c.spread(c.firms("320830-C30", "320830", "C30", 5), 8, 10, true)
	c.spread(c.firms("320831-C30", "320831", "C30", 10), 10, 5, false)
	c.spread(c.firms("320812-C30", "320812", "C30", 6), 10, 3, false)
	c.spread(c.firms("320804-C40", "320804", "C40", 5), 6, 3, false)
	for i := range 10 {
		c.spread(c.firms(fmt.Sprintf("food-%d", i), "320826", "C13", 5), 8, 2, false)
	}
	return c
}

func TestBaselines(t *testing.T) {
	res := compute(t, &baseCity().in)
	tests := []struct {
		name      string
		cluster   string
		scope     model.BaselineScope
		p0n, p0x  int64
		p0        float64
		wantLevel model.Level
	}{
		{"given a division with ≥ 50 other checks, when assessed, then p0 is the other clusters' rate (8/160)",
			"320830-C30", model.BaselineScopeDivision, 160, 8, 0.05, model.LevelRed},
		{"given the target's failures, when another C30 cluster is assessed, then they raise its p0 (13/100)",
			"320831-C30", model.BaselineScopeDivision, 100, 13, 0.13, model.LevelNone},
		{"given a division alone in the city, when assessed, then p0 is the city rate without it (38/600)",
			"320804-C40", model.BaselineScopeCity, 600, 38, 38.0 / 600, model.LevelNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := cluster(t, res, tt.cluster)
			ev := a.Evidence
			if ev.BaselineScope != tt.scope || ev.BaselineChecks != tt.p0n || ev.BaselineFailures != tt.p0x {
				t.Fatalf("baseline %s %d/%d, want %s %d/%d", ev.BaselineScope, ev.BaselineFailures, ev.BaselineChecks, tt.scope, tt.p0x, tt.p0n)
			}
			if math.Abs(ev.Baseline-tt.p0) > 1e-12 || a.Level != tt.wantLevel {
				t.Fatalf("p0 %g level %q, want %g %q", ev.Baseline, a.Level, tt.p0, tt.wantLevel)
			}
		})
	}
	// By hand (python3): z = (10/40 − 0.05)/sqrt(0.05·0.95/40) = 5.803810000880094;
	// the 14 z winsorised at ranks 2 and 13 give φ = 0.3897003719262569 < 1, so z' = z.
	target := cluster(t, res, "320830-C30")
	if ev := target.Evidence; math.Abs(ev.Z-5.803810000880094) > 1e-9 || ev.ZAdjusted != ev.Z || ev.Limit != model.LimitAlarm {
		t.Fatalf("target z %g z' %g limit %q, want 5.8038 over the alarm limit", ev.Z, ev.ZAdjusted, ev.Limit)
	}
	if math.Abs(res.Phi-0.3897003719262569) > 1e-12 || res.PhiClusters != 14 {
		t.Fatalf("φ = %.16g over %d clusters", res.Phi, res.PhiClusters)
	}
	if !slices.Equal(rules(target), []string{clusters.RuleFunnelAlarm, clusters.RuleCUSUMRising}) {
		t.Fatalf("target reasons %v", rules(target))
	}
}

func TestMinimumSampleAndAccidents(t *testing.T) {
	c := baseCity()
	// 4 firms, 40 checks, half failing: too few enterprises for a statistic.
	c.spread(c.firms("320826-C30", "320826", "C30", 4), 10, 20, true)
	// 5 firms × 4 checks = the minimum exactly.
	c.spread(c.firms("320813-C30", "320813", "C30", 5), 4, 0, false)
	// No checks at all, but accidents.
	larger := c.firms("320871-H61", "320871", "H61", 1)[0]
	general := c.firms("320803-H61", "320803", "H61", 1)[0]
	c.in.Accidents = append(c.in.Accidents,
		clusters.Accident{EventID: "SG-1", USCC: larger, OccurredAt: cutoff.AddDate(0, -2, 0), Grade: model.AccidentGradeLarger},
		clusters.Accident{EventID: "SG-2", USCC: general, OccurredAt: cutoff.AddDate(0, -2, 0), Grade: model.AccidentGradeGeneral},
		// Outside the window: no signal.
		clusters.Accident{EventID: "SG-0", USCC: general, OccurredAt: cutoff.AddDate(0, -13, 0), Grade: model.AccidentGradeMajor})
	res := compute(t, &c.in)
	tests := []struct {
		name    string
		cluster string
		status  model.AssessmentStatus
		level   model.Level
		rules   []string
	}{
		{"given m = 4 < 5 and a 50 % failure rate, then insufficient data and no level",
			"320826-C30", model.AssessmentStatusInsufficientData, model.LevelNone, []string{clusters.RuleInsufficientData}},
		{"given n = 20 and m = 5 exactly, then assessed", "320813-C30", model.AssessmentStatusAssessed, model.LevelNone, nil},
		{"given a larger accident and no checks, then red without a sample",
			"320871-H61", model.AssessmentStatusInsufficientData, model.LevelRed, []string{clusters.RuleAccident, clusters.RuleInsufficientData}},
		{"given a general accident in the window and a major one before it, then no level",
			"320803-H61", model.AssessmentStatusInsufficientData, model.LevelNone, []string{clusters.RuleInsufficientData}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := cluster(t, res, tt.cluster)
			if a.Status != tt.status || a.Level != tt.level || !slices.Equal(rules(a), tt.rules) {
				t.Fatalf("status %s level %q reasons %v, want %s %q %v", a.Status, a.Level, rules(a), tt.status, tt.level, tt.rules)
			}
			if a.Status == model.AssessmentStatusInsufficientData && (a.Evidence.Z != 0 || a.Evidence.Limit != "" || slices.Contains(a.Signals, model.SignalRising)) {
				t.Fatalf("insufficient data yet statistics: %+v", a.Evidence)
			}
		})
	}
	if a := cluster(t, res, "320871-H61"); !slices.Equal(a.Reasons[0].Events, []string{"SG-1"}) || a.Indicators.Accidents != 1 {
		t.Fatalf("accident evidence %v, indicators %+v", a.Reasons[0].Events, a.Indicators)
	}
}

func TestWindowBoundsAndTopEnterprises(t *testing.T) {
	// given checks at the window's first instant and at the cutoff, when
	// assessed, then the first counts and the second does not; the top
	// enterprises are ordered by failures, ties by USCC, with their failed checks
	c := newCity()
	f := c.firms("320830-C30", "320830", "C30", 7)
	start := cutoff.AddDate(0, -12, 0)
	at := func(u model.USCC, t time.Time, failed bool) string {
		c.seq++
		id := fmt.Sprintf("CJ-%06d", c.seq)
		c.in.Checks = append(c.in.Checks, clusters.Check{EventID: id, USCC: u, OccurredAt: t, Failed: failed, Product: "凹土干燥剂"})
		return id
	}
	first := at(f[6], start, true)
	at(f[6], cutoff, true)
	at(f[6], start.Add(-time.Nanosecond), true)
	second := at(f[6], start.Add(time.Hour), true)
	for i := range 6 {
		at(f[i], start.Add(48*time.Hour), i < 2)
	}
	res := compute(t, &c.in)
	a := cluster(t, res, "320830-C30")
	if a.Evidence.Checks != 8 || a.Evidence.Failures != 4 || a.Evidence.Enterprises != 7 {
		t.Fatalf("n, x, m = %d, %d, %d; want 8, 4, 7", a.Evidence.Checks, a.Evidence.Failures, a.Evidence.Enterprises)
	}
	top := a.Evidence.Top
	if len(top) != 3 || top[0].USCC != f[6] || !slices.Equal(top[0].Events, []string{first, second}) ||
		top[1].USCC > top[2].USCC || top[1].Failures != 1 {
		t.Fatalf("top %+v", top)
	}
	if p := a.Indicators.FailedProducts; len(p) != 1 || p[0].Failures != 4 || p[0].Checks != 8 {
		t.Fatalf("failed products %+v", p)
	}
}

func TestComputeIgnoresInputOrder(t *testing.T) {
	// given the same rows in another order, when computed, then the results are identical
	c := baseCity()
	want := compute(t, &c.in)
	r := rand.New(rand.NewPCG(1, 2))
	shuffled := c.in
	shuffled.Enterprises = slices.Clone(c.in.Enterprises)
	shuffled.Checks = slices.Clone(c.in.Checks)
	r.Shuffle(len(shuffled.Enterprises), func(i, j int) {
		shuffled.Enterprises[i], shuffled.Enterprises[j] = shuffled.Enterprises[j], shuffled.Enterprises[i]
	})
	r.Shuffle(len(shuffled.Checks), func(i, j int) { shuffled.Checks[i], shuffled.Checks[j] = shuffled.Checks[j], shuffled.Checks[i] })
	got := compute(t, &shuffled)
	if !reflect.DeepEqual(got, want) {
		t.Fatal("shuffled input gave a different result")
	}
}

func TestMajorityDivisionAndCounty(t *testing.T) {
	// given a declared cluster with as many C26 as C13 firms across two
	// counties, when assessed, then its division is the smaller code and its
	// county the one with more firms
	c := newCity()
	c.firms("salt", "320803", "C26", 2)
	c.firms("salt", "320813", "C13", 2)
	c.firms("salt", "320813", "C26", 1)
	c.firms("salt", "320803", "C13", 1)
	c.firms("salt", "320813", "C13", 1)
	a := cluster(t, compute(t, &c.in), "salt")
	if a.Division != "C13" || a.County != "320813" {
		t.Fatalf("division %s county %s, want C13 320813", a.Division, a.County)
	}
}

func TestInputValidate(t *testing.T) {
	// given rows with missing fields, when validated, then every problem is named
	in := clusters.Input{AsOf: "30/06/2026",
		Enterprises: []clusters.Enterprise{{USCC: "A", Cluster: "x", County: "320830", Division: "C30"},
			{USCC: "A", Cluster: "x", County: "320830", Division: "C30"}, {USCC: "B"}},
		Checks:    []clusters.Check{{USCC: "A", OccurredAt: cutoff}},
		Accidents: []clusters.Accident{{EventID: "SG", USCC: "A", OccurredAt: cutoff, Grade: "huge"}},
	}
	err := in.Validate()
	for _, want := range []string{"as_of", "listed twice", "enterprise B: cluster", "spot check 0: event id", `grade "huge"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %q", err, want)
		}
	}
}

func TestCanonicalIsStableAcrossBackends(t *testing.T) {
	// given the same rows as two warehouses might return them (another order,
	// times in UTC), when the outputs are made canonical, then the bytes are
	// identical, one line per run, cluster and warning, with fixed decimals
	cfg, err := clusters.Default()
	if err != nil {
		t.Fatal(err)
	}
	canonical := func(in *clusters.Input) []byte {
		t.Helper()
		res, err := cfg.Compute(in)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := cfg.Track(clusters.TrackInput{Result: res})
		if err != nil {
			t.Fatal(err)
		}
		b, err := clusters.AppendCanonical(nil, res, tr.Warnings)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	c := baseCity()
	a := canonical(&c.in)
	other := c.in
	other.Checks = slices.Clone(c.in.Checks)
	slices.Reverse(other.Checks)
	for i := range other.Checks {
		other.Checks[i].OccurredAt = other.Checks[i].OccurredAt.UTC()
	}
	b := canonical(&other)
	if !bytes.Equal(a, b) {
		t.Fatalf("canonical bytes differ:\n%s\n---\n%s", a, b)
	}
	lines := bytes.Split(bytes.TrimSuffix(a, []byte("\n")), []byte("\n"))
	if len(lines) != 1+14+1 {
		t.Fatalf("%d lines, want the run, 14 clusters and 1 warning", len(lines))
	}
	for _, want := range []string{`"phi":0.389700372`, `"phi_clusters":14`, `"as_of":"2026-06-30"`} {
		if !bytes.Contains(lines[0], []byte(want)) {
			t.Errorf("run line %s lacks %s", lines[0], want)
		}
	}
	if !bytes.Contains(lines[1], []byte(`"cluster":"320804-C40"`)) || !bytes.Contains(lines[15], []byte(`"id":"cw-320830-C30-20260630"`)) {
		t.Errorf("lines out of order: %s … %s", lines[1][:60], lines[15][:60])
	}
}

func TestFunnel(t *testing.T) {
	cfg, err := clusters.Default()
	if err != nil {
		t.Fatal(err)
	}
	res := compute(t, &baseCity().in)
	tests := []struct {
		name string
		phi  float64
	}{
		{"given φ < 1, when the C30 funnel is drawn, then the limits are binomial around the division's rate 18/200", res.Phi},
		{"given φ = 2, when drawn, then the limits widen by √2", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := *res
			r.Phi = tt.phi
			f, err := cfg.Funnel(&r, "C30")
			if err != nil {
				t.Fatal(err)
			}
			if f.Baseline != 0.09 || f.BaselineScope != model.BaselineScopeDivision || len(f.Points) != 3 || len(f.Limits) < 30 {
				t.Fatalf("p0 %g %s, %d points, %d limits", f.Baseline, f.BaselineScope, len(f.Points), len(f.Limits))
			}
			inflate := math.Sqrt(max(tt.phi, 1))
			for _, l := range f.Limits {
				se := inflate * math.Sqrt(0.09*0.91/float64(l.Checks))
				if math.Abs(l.High998-min(1, 0.09+3.090232*se)) > 1e-12 || math.Abs(l.Low95-max(0, 0.09-1.959964*se)) > 1e-12 {
					t.Fatalf("limits at n = %d: %+v", l.Checks, l)
				}
			}
			if first, last := f.Limits[0].Checks, f.Limits[len(f.Limits)-1].Checks; first > 20 || last < 100 {
				t.Fatalf("limits span n = %d…%d, not the points' 40…100", first, last)
			}
		})
	}
	if _, err := cfg.Funnel(res, "C99"); err == nil {
		t.Fatal("a division without clusters gave a plot")
	}
}
