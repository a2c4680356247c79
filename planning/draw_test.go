package planning_test

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/planning"
)

const (
	qingjiangpu = "320812"
	huaian      = "320803"
	huaiyin     = "320804"
	xuyi        = "320830"
	beacon      = "3268.15"
)

func baseInput(t *testing.T) planning.CreateDrawInput {
	t.Helper()
	pool := append(firms(model.GradeC, 20, 0, qingjiangpu, huaian), firms(model.GradeD, 12, 100, huaiyin, xuyi)...)
	return planning.CreateDrawInput{
		ID: "test-draw", Name: "test", Period: period(t, "2026-01-01", "2026-12-31"),
		Firms:       pool,
		Inspectors:  inspectors("i1", qingjiangpu, "i2", huaian, "i3", huaiyin, "i4", xuyi, "i5", "320800"),
		AnnualRates: planning.GradeProbabilities{C: dec(t, "0.25"), D: dec(t, "0.3")}, ExcludeOwnCounty: true,
		BeaconSource: "上证指数2026年1月5日收盘点位", Seed: seed(1),
	}
}

func TestProRate(t *testing.T) {
	tests := []struct {
		name, from, to, annual, want string
	}{
		{"a full year is the annual rate", "2026-01-01", "2026-12-31", "0.3", "0.3"},
		{"a quarter: 0.3 × 90 / 365 = 0.0739726… rounds up", "2026-01-01", "2026-03-31", "0.3", "0.073973"},
		{"a quarter: 0.01 × 90 / 365 = 0.0024657… rounds up", "2026-01-01", "2026-03-31", "0.01", "0.002466"},
		{"a quarter: 0.02 × 90 / 365 = 0.0049315… rounds down", "2026-01-01", "2026-03-31", "0.02", "0.004932"},
		{"one day: 0.01 / 365 = 0.0000273… rounds down", "2026-05-01", "2026-05-01", "0.01", "0.000027"},
		{"both ends count: 2 days", "2026-05-01", "2026-05-02", "0.3", "0.001644"},
		{"a leap year has 366 days", "2028-01-01", "2028-12-31", "0.3", "0.300822"},
		{"capped at 1", "2026-01-01", "2027-12-31", "0.6", "1"},
		{"zero stays zero", "2026-01-01", "2026-03-31", "0", "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// given an annual rate for grade D, when pro-rated to the period, then six decimals half up
			got := planning.GradeProbabilities{D: dec(t, tt.annual)}.ProRate(period(t, tt.from, tt.to)).D
			if got.String() != tt.want {
				t.Errorf("%s × days(%s…%s) / 365 = %s, want %s", tt.annual, tt.from, tt.to, got, tt.want)
			}
		})
	}
}

func TestDrawCount(t *testing.T) {
	tests := []struct {
		name string
		p    string
		n    int64
		want int64
	}{
		// float64 gets these wrong: 0.145 × 100 = 14.499999999999998.
		{"14.5 + 0.5 is exactly 15", "0.145", 100, 15},
		{"14.5 + 0.5 (0.29 × 50)", "0.29", 50, 15},
		{"31.5 + 0.5 (0.35 × 90)", "0.35", 90, 32},
		{"an exact half rounds up: 0.5 + 0.5", "0.25", 2, 1},
		{"1.5 rounds up to 2", "0.1", 15, 2},
		{"0.4 rounds down", "0.1", 4, 0},
		{"just under a half: 0.499999 + 0.5", "0.499999", 1, 0},
		{"probability 1 draws everyone", "1", 7, 7},
		{"probability 0 draws no one", "0", 1000, 0},
		{"an empty grade draws no one", "0.3", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// given p and N, when k = floor(p × N + 1/2), then exact decimal arithmetic
			if got := dec(t, tt.p).RoundHalfUp(tt.n); got != tt.want {
				t.Errorf("floor(%s × %d + 1/2) = %d, want %d", tt.p, tt.n, got, tt.want)
			}
		})
	}
}

func TestDrawCountInADraw(t *testing.T) {
	// given a pool whose p × N sits on a half for grade C (0.25 × 6 = 1.5), when drawn, then 2 firms of C
	in := baseInput(t)
	in.Firms = append(firms(model.GradeC, 6, 0, qingjiangpu), firms(model.GradeD, 3, 50, huaian)...)
	_, res := testDraw(t, in, beacon)
	got := map[model.Grade]int64{}
	for _, f := range res.Draw.Drawn {
		got[f.Grade]++
	}
	if got[model.GradeC] != 2 || got[model.GradeD] != 1 {
		t.Errorf("drew %v, want C: 2 (1.5 rounds up), D: 1 (0.9 rounds up)", got)
	}
}

// TestSamplerUniformity draws the same pool under many seeds and checks that
// every firm of a grade is drawn with frequency k_g / N_g.
//
// Statistic: Pearson's X² = Σ (O_i − E)² / E over the N firms of a grade, E =
// S × k / N for S draws. Each draw takes exactly k distinct firms, so the
// counts are negatively correlated and X² tends to (1 − k/N) × N / (N − 1) ×
// χ²(N − 1); the test divides by that factor and compares with χ²(N − 1) at
// significance 0.001: grade C, N = 20, k = 5, df = 19, critical 43.820;
// grade D, N = 12, k = 4, df = 11, critical 31.264. The seeds come from a
// fixed ChaCha8 stream, so the outcome is the same on every run.
func TestSamplerUniformity(t *testing.T) {
	const draws = 3000
	var streamSeed [32]byte
	copy(streamSeed[:], "qcredit sampler uniformity test")
	t.Logf("seeds from ChaCha8(%q)", streamSeed[:])
	stream := rand.NewChaCha8(streamSeed)
	in := baseInput(t)
	counts := map[model.USCC]int{}
	for range draws {
		s, err := planning.ReadSeed(stream)
		if err != nil {
			t.Fatal(err)
		}
		in.Seed = s
		_, res := testDraw(t, in, beacon)
		for _, f := range res.Draw.Drawn {
			counts[f.USCC]++
		}
	}
	for _, g := range []struct {
		grade    model.Grade
		n, k     int
		critical float64
	}{{model.GradeC, 20, 5, 43.820}, {model.GradeD, 12, 4, 31.264}} {
		pi := float64(g.k) / float64(g.n)
		expected := draws * pi
		var x2 float64
		for _, f := range in.Firms {
			if f.Grade == g.grade {
				d := float64(counts[f.USCC]) - expected
				x2 += d * d / expected
			}
		}
		x2 *= float64(g.n-1) / (float64(g.n) * (1 - pi))
		t.Logf("grade %s: X² = %.2f, df = %d, critical %.3f at 0.001", g.grade, x2, g.n-1, g.critical)
		if x2 > g.critical {
			t.Errorf("grade %s: firms are not drawn uniformly: X² = %.2f > %.3f (df %d)", g.grade, x2, g.critical, g.n-1)
		}
	}
}

func TestOwnCountyExclusion(t *testing.T) {
	in := baseInput(t)
	in.AnnualRates = planning.GradeProbabilities{C: planning.DecimalOne, D: planning.DecimalOne} // everyone
	in.Inspectors = inspectors("qjp-1", qingjiangpu, "qjp-2", qingjiangpu, "qjp-3", qingjiangpu, "ha-1", huaian, "ha-2", huaian)
	countyOf := map[string]string{}
	for _, i := range in.Inspectors {
		countyOf[i.ID] = i.County
	}
	t.Run("excluded", func(t *testing.T) {
		// given the rule on, when everyone is drawn, then no inspector sees a firm of their own county
		_, res := testDraw(t, in, beacon)
		for _, f := range res.Draw.Drawn {
			county := firmCounty(in.Firms, f.USCC)
			for _, id := range f.Inspectors {
				if countyOf[id] == county {
					t.Errorf("%s (county %s) got inspector %s of the same county", f.USCC, county, id)
				}
			}
			if len(f.Inspectors) != 2 {
				t.Errorf("%s got %d inspectors, want 2 (two counties have inspectors)", f.USCC, len(f.Inspectors))
			}
		}
		if len(res.Short) != 0 {
			t.Errorf("flagged short: %v, want none", res.Short)
		}
	})
	t.Run("fewer than two eligible are flagged", func(t *testing.T) {
		// given only one inspector outside 清江浦, when its firms are drawn, then they get one and are flagged
		in := in
		in.Inspectors = inspectors("qjp-1", qingjiangpu, "qjp-2", qingjiangpu, "ha-1", huaian)
		_, res := testDraw(t, in, beacon)
		var want []model.USCC
		for _, f := range res.Draw.Drawn {
			if firmCounty(in.Firms, f.USCC) == qingjiangpu {
				want = append(want, f.USCC)
				if !slices.Equal(f.Inspectors, []string{"ha-1"}) {
					t.Errorf("%s got %v, want [ha-1]", f.USCC, f.Inspectors)
				}
			}
		}
		if len(want) == 0 || !slices.Equal(res.Short, want) {
			t.Errorf("short = %v, want the 清江浦 firms %v", res.Short, want)
		}
	})
	t.Run("allowed", func(t *testing.T) {
		// given the rule off, when everyone is drawn, then own-county inspectors do appear
		in := in
		in.ExcludeOwnCounty = false
		_, res := testDraw(t, in, beacon)
		own := 0
		for _, f := range res.Draw.Drawn {
			for _, id := range f.Inspectors {
				if countyOf[id] == firmCounty(in.Firms, f.USCC) {
					own++
				}
			}
		}
		if own == 0 {
			t.Error("no firm got an inspector of its own county although the rule allows it")
		}
	})
}

func firmCounty(pool []planning.PoolFirm, u model.USCC) string {
	for _, f := range pool {
		if f.USCC == u {
			return f.County
		}
	}
	return ""
}

func TestDrawOrder(t *testing.T) {
	// given a draw, when it is published, then drawn lists grades best first, each by u
	in := baseInput(t)
	in.Firms = append(in.Firms, firms(model.GradeA, 10, 300, huaian)...)
	in.AnnualRates.A = dec(t, "0.3")
	_, res := testDraw(t, in, beacon)
	var grades []model.Grade
	for _, f := range res.Draw.Drawn {
		grades = append(grades, f.Grade)
	}
	if !slices.IsSortedFunc(grades, func(a, b model.Grade) int { return strings.Compare(string(a), string(b)) }) || grades[0] != model.GradeA {
		t.Errorf("drawn grades %v, want A first, then C, then D", grades)
	}
}

func TestBeaconNormalisation(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"surrounding spaces and line ends trimmed", " \t12 07 33\r\n", "12 07 33"},
		{"ideographic space trimmed", "\u3000上证3268.15\u3000", "上证3268.15"},
		{"decomposed é composed (NFC)", "caf\u0065\u0301", "caf\u00e9"},
		{"inner spaces kept", "12  07", "12  07"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// given a beacon as typed, when normalised, then NFC and trimmed
			got, err := planning.NormaliseBeacon(tt.in)
			if err != nil || got != tt.want {
				t.Errorf("NormaliseBeacon(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
	t.Run("two spellings, one draw", func(t *testing.T) {
		// given the same beacon typed composed and decomposed, when drawn, then the same firms
		in := baseInput(t)
		_, a := testDraw(t, in, "caf\u00e9 3268.15")
		_, b := testDraw(t, in, " cafe\u0301 3268.15 ")
		if !slices.EqualFunc(a.Draw.Drawn, b.Draw.Drawn, func(x, y planning.DrawnFirm) bool { return x.USCC == y.USCC }) {
			t.Error("the decomposed spelling drew other firms")
		}
	})
	if _, err := planning.NormaliseBeacon(" \n "); err == nil {
		t.Error("an empty beacon was accepted")
	}
}

func TestPerformDrawRefuses(t *testing.T) {
	in := baseInput(t)
	created, err := planning.CreateDraw(in)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		change func(*planning.PerformDrawInput)
		want   string
	}{
		{"a seed other than the committed one", func(p *planning.PerformDrawInput) { p.Seed = seed(2) }, "commitment"},
		{"a pool altered since creation", func(p *planning.PerformDrawInput) {
			p.PoolCSV = bytes.Replace(p.PoolCSV, []byte(",C,"), []byte(",D,"), 1)
		}, "pool.csv hashes to"},
		{"rules altered since creation", func(p *planning.PerformDrawInput) { p.Draw.Rules.Probabilities.D = planning.DecimalOne }, "rules hashes to"},
		{"an empty beacon", func(p *planning.PerformDrawInput) { p.Beacon = "  " }, "beacon is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// given a committed draw, when drawn with an altered input, then refused naming it
			p := planning.PerformDrawInput{Draw: created.Draw, PoolCSV: bytes.Clone(created.PoolCSV),
				InspectorsCSV: created.InspectorsCSV, Seed: in.Seed, Beacon: beacon}
			tt.change(&p)
			_, err := planning.PerformDraw(p)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("PerformDraw = %v, want an error with %q", err, tt.want)
			}
		})
	}
}

func TestCreateDrawValidation(t *testing.T) {
	tests := []struct {
		name   string
		change func(*planning.CreateDrawInput)
		want   []string
	}{
		{"every problem at once", func(in *planning.CreateDrawInput) {
			in.ID, in.Seed, in.BeaconSource, in.Inspectors = "Draw 1", planning.Seed{}, "", nil
		}, []string{"draw id", "seed is all zeros", "beacon source", "inspector pool is empty"}},
		{"a firm twice", func(in *planning.CreateDrawInput) { in.Firms = append(in.Firms, in.Firms[0]) }, []string{"in the pool twice"}},
		{"no firm graded", func(in *planning.CreateDrawInput) {
			for i := range in.Firms {
				in.Firms[i].Grade = ""
			}
		}, []string{"none of the 32 firms has a grade"}},
		{"a rate above 1", func(in *planning.CreateDrawInput) { in.AnnualRates.D = 2 * planning.DecimalOne }, []string{"annual rate of grade D is 2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// given a bad input, when created, then every problem is named
			in := baseInput(t)
			tt.change(&in)
			_, err := planning.CreateDraw(in)
			for _, w := range tt.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("CreateDraw = %v, want it to say %q", err, w)
				}
			}
		})
	}
}

func TestPublishedShape(t *testing.T) {
	// given a committed draw, when published, then no seed, beacon or result; once drawn, all three
	in := baseInput(t)
	created, res := testDraw(t, in, beacon)
	committed := string(publishedJSON(t, created.Draw))
	for _, key := range []string{`"seed"`, `"beacon"`, `"drawn"`} {
		if strings.Contains(committed, key) {
			t.Errorf("committed draw publishes %s:\n%s", key, committed)
		}
	}
	drawn := string(publishedJSON(t, res.Draw))
	for _, key := range []string{`"seed": "`, `"beacon": "3268.15"`, `"drawn": [`, `"status": "drawn"`} {
		if !strings.Contains(drawn, key) {
			t.Errorf("drawn draw lacks %s:\n%s", key, drawn)
		}
	}
	t.Run("the keys of issue 15, in its order", func(t *testing.T) {
		// given a drawn draw, when published, then exactly the keys GET /api/v1/public/draws/{id} promises
		want := "id name status period pool_sha256 inspectors_sha256 rules rules_sha256 beacon_source commitment seed beacon drawn"
		if got := topLevelKeys(t, publishedJSON(t, res.Draw)); got != want {
			t.Errorf("keys %q, want %q", got, want)
		}
	})
	t.Run("nothing drawn is an empty list", func(t *testing.T) {
		// given probabilities that draw no firm, when published, then "drawn" is [] (not absent: it was drawn)
		in := in
		in.AnnualRates = planning.GradeProbabilities{A: 1}
		_, res := testDraw(t, in, beacon)
		if s := string(publishedJSON(t, res.Draw)); !strings.Contains(s, `"drawn": []`) {
			t.Errorf("a draw of no firm does not publish an empty list:\n%s", s)
		}
	})
	t.Run("round trip", func(t *testing.T) {
		// given a published document, when parsed and published again, then the same bytes
		back, err := planning.ParseDraw(publishedJSON(t, res.Draw))
		if err != nil {
			t.Fatal(err)
		}
		if string(publishedJSON(t, back)) != drawn {
			t.Error("parsing and publishing again changed the document")
		}
	})
}

// topLevelKeys lists a JSON object's keys in document order.
func topLevelKeys(t *testing.T, b []byte) string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil { // the opening brace
		t.Fatal(err)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			t.Fatal(err)
		}
	}
	return strings.Join(keys, " ")
}
