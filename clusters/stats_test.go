package clusters

import (
	"math"
	"testing"
)

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.12g, want %.12g (±%g)", what, got, want, tol)
	}
}

func TestWilson(t *testing.T) {
	// Expected values: statsmodels 0.15.0 proportion_confint(x, n, alpha=0.05, method="wilson").
	tests := []struct {
		x, n   int64
		lo, hi float64
	}{
		{7, 40, 0.0874541374603592, 0.3194999033178772},
		{0, 20, 0, 0.1611251580528194},
		{20, 20, 0.8388748419471804, 1},
		{29, 96, 0.21931158499064565, 0.4000850018696842},
	}
	for _, tt := range tests {
		lo, hi := wilson(tt.x, tt.n)
		near(t, "wilson lo", lo, tt.lo, 1e-9)
		near(t, "wilson hi", hi, tt.hi, 1e-9)
	}
}

func TestFunnelZ(t *testing.T) {
	// Expected values by hand (python3 math): z = (12/80 − 0.06) / sqrt(0.06·0.94/80)
	// = 3.3895960971961925; with φ = 1.8, z' = z/√1.8 = 2.526455763199557.
	tests := []struct {
		name string
		phi  float64
		want float64
	}{
		{"given no overdispersion (φ = 1), when adjusted, then z' = z", 1, 3.3895960971961925},
		{"given underdispersion (φ < 1), when adjusted, then z is not inflated", 0.6, 3.3895960971961925},
		{"given φ = 1.8, when adjusted, then z' = z/√φ", 1.8, 2.526455763199557},
	}
	z := funnelZ(12, 80, 0.06)
	near(t, "z", z, 3.3895960971961925, 1e-12)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { near(t, "z'", adjusted(z, tt.phi), tt.want, 1e-12) })
	}
	near(t, "z at p0", funnelZ(3, 50, 0.06), 0, 1e-12)
}

func TestOverdispersion(t *testing.T) {
	// Expected values by hand: nearest ranks ceil(10·n/100) and ceil(90·n/100),
	// each z clamped to the values at those ranks, φ = mean of the squares.
	tests := []struct {
		name string
		z    []float64
		want float64
	}{
		// n = 10: ranks 1 and 9 → clamp to [−2.5, 4]; 9 → 4;
		// Σ = 6.25+1+0.25+0+0.09+0.64+1.44+4+16+16 = 45.67, φ = 4.567.
		{"ten z with one outlier", []float64{9, -1, 0.3, -2.5, 0, 2, 0.8, 4, -0.5, 1.2}, 4.567},
		// n = 30, z_i = (i−12)/4: ranks 3 and 27 → clamp to [−2.5, 3.5]; φ = 4.558333…
		{"thirty evenly spaced z", func() []float64 {
			z := make([]float64, 30)
			for i := range z {
				z[i] = float64(i-12) / 4
			}
			return z
		}(), 4.558333333333334},
		{"no cluster meets the minimum: no adjustment", nil, 1},
		{"one cluster: its own z², unclamped", []float64{-3}, 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { near(t, "φ", overdispersion(tt.z, 10, 90), tt.want, 1e-12) })
	}
}

func TestNearestRank(t *testing.T) {
	// given percentiles whose float product is inexact (0.07·100 = 7.000000000000001),
	// when ranked, then the rank is the exact ceil(p·n/100)
	for _, tt := range []struct{ p, n, want int }{{7, 100, 7}, {10, 10, 1}, {90, 10, 9}, {10, 3, 1}, {0, 5, 1}, {100, 5, 5}, {55, 100, 55}} {
		if got := nearestRank(tt.p, tt.n); got != tt.want {
			t.Errorf("nearestRank(%d, %d) = %d, want %d", tt.p, tt.n, got, tt.want)
		}
	}
}

func TestCUSUMSignalTime(t *testing.T) {
	// p0 = 0.1, odds ratio 2: p1 = 0.2/1.1, a failure adds ln(p1/p0) = 0.5978370007556204,
	// a pass ln((1−p1)/(1−p0)) = −0.09531017980432502. Over 10 passes then F F P F P P P,
	// S (python3, by the recursion) is 0×10, 0.597837, 1.195674, 1.100364, 1.698201,
	// 1.602891, 1.507580, 1.412270.
	seq := []bool{false, false, false, false, false, false, false, false, false, false,
		true, true, false, true, false, false, false}
	tests := []struct {
		name       string
		h          float64
		recent     int
		wantSignal int
		wantStart  int
	}{
		{"given h = 1.5, when S first reaches it, then the signal is at check 13", 1.5, 0, 13, 10},
		{"given the recent months start after the first crossing, when S is still ≥ h, then the signal is the first recent check", 1.5, 15, 15, 10},
		{"given the recent months start after S fell below h, then no signal", 1.5, 16, -1, -1},
		{"given h above the greatest S, then no signal", 1.7, 0, -1, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := cusum(seq, 0.1, 2, tt.h, tt.recent)
			if res.Signal != tt.wantSignal || res.RunStart != tt.wantStart {
				t.Fatalf("signal %d from %d, want %d from %d", res.Signal, res.RunStart, tt.wantSignal, tt.wantStart)
			}
			near(t, "p1", res.P1, 0.18181818181818182, 1e-15)
			near(t, "final S", res.Final, 1.41227, 1e-6)
			near(t, "greatest S", res.Max, 1.698201, 1e-6)
		})
	}
}
