package planning_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/planning"
)

func licensed(n int) []planning.LicensedFirm {
	out := make([]planning.LicensedFirm, n)
	for i := range out {
		c := []string{qingjiangpu, huaian, xuyi}[i%3]
		out[i] = planning.LicensedFirm{USCC: firmUSCC(c, 500+i), County: c}
	}
	return out
}

func recheckInput(n int) planning.CreateRecheckInput {
	return planning.CreateRecheckInput{ID: "recheck-2026", Name: "2026年获证企业抽查", Year: 2025,
		Licensed: licensed(n), Inspectors: inspectors("i1", qingjiangpu, "i2", huaian, "i3", xuyi, "i4", "320800"),
		Config: planning.DefaultRecheckConfig(), BeaconSource: "上证指数2026年3月2日收盘点位", Seed: seed(5)}
}

func performRecheck(t *testing.T, in planning.CreateRecheckInput) (planning.CreatedRecheck, planning.RecheckResult) {
	t.Helper()
	c, err := planning.CreateRecheck(in)
	if err != nil {
		t.Fatal(err)
	}
	r, err := planning.PerformRecheck(planning.PerformRecheckInput{Recheck: c.Recheck, PoolCSV: c.PoolCSV,
		InspectorsCSV: c.InspectorsCSV, Seed: in.Seed, Beacon: beacon})
	if err != nil {
		t.Fatal(err)
	}
	return c, r
}

func TestRecheckSampleSize(t *testing.T) {
	tests := []struct {
		n    int
		want int64
	}{{1, 1}, {9, 1}, {10, 1}, {11, 2}, {20, 2}, {21, 3}, {99, 10}, {100, 10}, {101, 11}}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.n, " firms"), func(t *testing.T) {
			// given N newly licensed firms, when the re-check is drawn, then k = ⌈0.1 × N⌉, at least 10 %
			_, res := performRecheck(t, recheckInput(tt.n))
			if res.Drawn != tt.want || int64(len(res.Recheck.Drawn)) != tt.want || res.Pool != int64(tt.n) {
				t.Errorf("N = %d drew %d (listed %d), want %d", tt.n, res.Drawn, len(res.Recheck.Drawn), tt.want)
			}
			if 10*res.Drawn < int64(tt.n) {
				t.Errorf("drew %d of %d: under 10 %%", res.Drawn, tt.n)
			}
		})
	}
}

func TestRecheckAddsConcerns(t *testing.T) {
	in := recheckInput(30)
	complained := planning.Concern{USCC: firmUSCC(huaiyin, 900), County: huaiyin, Complaints: []string{"c-2", "c-1"}}
	failed := planning.Concern{USCC: firmUSCC(huaiyin, 901), County: huaiyin, Problems: []string{"sc-9"}}
	quiet := planning.Concern{USCC: firmUSCC(huaiyin, 902), County: huaiyin}
	in.Concerns = []planning.Concern{failed, quiet, complained}
	_, res := performRecheck(t, in)

	// given firms with complaints or problems, when the re-check is created, then each is added with its reason,
	// which counts the events without naming them (the document is public: event ids are internal)
	added := res.Recheck.Added
	var got []model.USCC
	for _, a := range added {
		got = append(got, a.USCC)
	}
	if want := []model.USCC{complained.USCC, failed.USCC}; !slices.Equal(got, want) {
		t.Fatalf("added %v, want %v: the firm with complaints and the one with a failed check, by USCC, not the quiet one", got, want)
	}
	for _, a := range added {
		r := a.Reasons[0]
		switch a.USCC {
		case complained.USCC:
			if r.Rule != planning.RuleRecheckComplaints || r.Count != 2 || r.Events != nil || r.Basis == "" {
				t.Errorf("complaint reason %+v", r)
			}
		case failed.USCC:
			if r.Rule != planning.RuleRecheckProblems || r.Count != 1 {
				t.Errorf("problem reason %+v", r)
			}
		}
		if len(a.Inspectors) != 2 {
			t.Errorf("added firm %s got inspectors %v, want two", a.USCC, a.Inspectors)
		}
	}
	// and the sample is the same as without them: the concerns do not move the draw
	_, alone := performRecheck(t, recheckInput(30))
	if !slices.EqualFunc(alone.Recheck.Drawn, res.Recheck.Drawn, func(a, b planning.RecheckedFirm) bool { return a.USCC == b.USCC }) {
		t.Error("adding concerns changed which firms were drawn")
	}
	lines := res.Lines()
	if len(lines) != len(res.Recheck.Drawn)+2 {
		t.Errorf("%d lines, want the %d drawn and the 2 added", len(lines), len(res.Recheck.Drawn))
	}
	for _, l := range lines {
		if len(l.Reasons) == 0 {
			t.Errorf("line %s has no reason", l.USCC)
		}
	}
}

func TestRecheckDrawnAndAdded(t *testing.T) {
	// given a newly licensed firm that also had a complaint, when it is drawn, then its line has both reasons
	in := recheckInput(10)
	_, first := performRecheck(t, in)
	drawn := first.Recheck.Drawn[0].USCC
	in.Concerns = []planning.Concern{{USCC: drawn, County: countyOfLicensed(in.Licensed, drawn), Complaints: []string{"c-1"}}}
	_, res := performRecheck(t, in)
	for _, l := range res.Lines() {
		if l.USCC != drawn {
			continue
		}
		var rules []string
		for _, r := range l.Reasons {
			rules = append(rules, r.Rule)
		}
		if !slices.Equal(rules, []string{planning.RuleRecheckSample, planning.RuleRecheckComplaints}) {
			t.Errorf("reasons %v, want the sample and the complaints", rules)
		}
		return
	}
	t.Errorf("the drawn firm %s has no line", drawn)
}

func countyOfLicensed(fs []planning.LicensedFirm, u model.USCC) string {
	for _, f := range fs {
		if f.USCC == u {
			return f.County
		}
	}
	return ""
}

func TestVerifyRecheck(t *testing.T) {
	in := recheckInput(40)
	in.Concerns = []planning.Concern{{USCC: firmUSCC(huaiyin, 900), County: huaiyin, Complaints: []string{"c-1"}}}
	c, res := performRecheck(t, in)
	tests := []struct {
		name  string
		alter func(*planning.VerifyRecheckInput)
		want  planning.CheckName
	}{
		{"unaltered", func(*planning.VerifyRecheckInput) {}, ""},
		{"the rate", func(v *planning.VerifyRecheckInput) { v.Recheck.Rules.Rate = 200_000 }, planning.CheckRulesSHA256},
		{"a drawn firm", func(v *planning.VerifyRecheckInput) {
			v.Recheck.Drawn = slices.Clone(v.Recheck.Drawn)
			v.Recheck.Drawn[0].USCC = firmUSCC(huaiyin, 999)
		}, planning.CheckDrawn},
		{"an added firm's inspectors", func(v *planning.VerifyRecheckInput) {
			v.Recheck.Added = slices.Clone(v.Recheck.Added)
			v.Recheck.Added[0].Inspectors = []string{"i3", "i4"}
		}, planning.CheckInspectors},
		{"the seed", func(v *planning.VerifyRecheckInput) { v.Recheck.Seed = seed(6).String() }, planning.CheckCommitment},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// given a drawn re-check, when a part is altered, then verification names it
			v := planning.VerifyRecheckInput{Recheck: res.Recheck, PoolCSV: c.PoolCSV, InspectorsCSV: c.InspectorsCSV}
			tt.alter(&v)
			got := planning.VerifyRecheck(v)
			if tt.want == "" {
				if err := got.Err(); err != nil {
					t.Fatal(err)
				}
				return
			}
			if f := got.Failed(); len(f) == 0 || f[0].Name != tt.want {
				t.Errorf("failed checks %v, want %s first", f, tt.want)
			}
		})
	}
}
