package clusters

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"
)

// wilsonZ is the normal quantile of a two-sided 95 % interval.
var wilsonZ = distuv.UnitNormal.Quantile(0.975)

// wilson is the Wilson score interval of x successes in n trials at 95 %,
// shown beside p̂ for readers (it decides nothing).
func wilson(x, n int64) (lo, hi float64) {
	if n <= 0 {
		return 0, 1
	}
	p, nf, z2 := float64(x)/float64(n), float64(n), wilsonZ*wilsonZ
	centre := (p + z2/(2*nf)) / (1 + z2/nf)
	half := wilsonZ / (1 + z2/nf) * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	return max(0, centre-half), min(1, centre+half)
}

// funnelZ is the funnel plot's z of x failures in n checks against p0
// (Spiegelhalter 2005): the distance from p0 in binomial standard errors.
func funnelZ(x, n int64, p0 float64) float64 {
	nf := float64(n)
	return (float64(x)/nf - p0) / math.Sqrt(p0*(1-p0)/nf)
}

// overdispersion is φ: the mean of the squared z after winsorising them at
// the lo-th and hi-th percentiles by nearest rank. With no z it is 1 (no
// adjustment).
func overdispersion(z []float64, lo, hi int) float64 {
	if len(z) == 0 {
		return 1
	}
	sorted := slices.Clone(z)
	slices.Sort(sorted)
	floor, ceil := sorted[nearestRank(lo, len(sorted))-1], sorted[nearestRank(hi, len(sorted))-1]
	var sum float64
	for _, v := range sorted {
		w := min(max(v, floor), ceil)
		sum += w * w
	}
	return sum / float64(len(sorted))
}

// nearestRank is the 1-based rank of the p-th percentile of n values:
// ceil(p·n/100), at least 1. It is integer arithmetic on purpose: gonum's
// stat.Quantile(Empirical) computes p·n in floating point, and with a
// configured 7th percentile of 100 clusters 0.07 × 100 = 7.000000000000001
// would take rank 8 instead of 7.
func nearestRank(p, n int) int {
	return max(1, (p*n+99)/100)
}

// cusumResult is a Bernoulli CUSUM over one cluster's checks in time order.
type cusumResult struct {
	P1    float64
	Final float64
	Max   float64
	// Signal is the index of the first check at or after the recent start
	// where S ≥ h, or -1; SignalS is S there.
	Signal  int
	SignalS float64
	// RunStart is the index of the first check of the excursion that
	// reached the signal (the check after S was last 0), or -1.
	RunStart int
}

// cusum runs a Bernoulli CUSUM (Reynolds & Stoumbos 1999) over failed (in
// time order), tuned to the odds ratio or: p1 = or·p0 / (1 − p0 + or·p0),
// which for or = 2 is 2p0/(1 + p0). A failure adds ln(p1/p0), a pass
// ln((1 − p1)/(1 − p0)); S_t = max(0, S_{t−1} + w_t), S_0 = 0. It signals at
// the first check with index ≥ recent where S_t ≥ h.
func cusum(failed []bool, p0, or, h float64, recent int) cusumResult {
	p1 := or * p0 / (1 - p0 + or*p0)
	up, down := math.Log(p1/p0), math.Log((1-p1)/(1-p0))
	res := cusumResult{P1: p1, Signal: -1, RunStart: -1}
	s, start := 0.0, 0
	for i, f := range failed {
		if f {
			s += up
		} else {
			s += down
		}
		if s <= 0 {
			s, start = 0, i+1
		}
		res.Max = max(res.Max, s)
		if res.Signal < 0 && i >= recent && s >= h {
			res.Signal, res.SignalS, res.RunStart = i, s, start
		}
	}
	res.Final = s
	return res
}
