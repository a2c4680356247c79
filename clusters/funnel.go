package clusters

import (
	"fmt"
	"math"

	"github.com/qcredit/qcredit/model"
)

// funnelSteps is how many n the limit curves are drawn at: enough for a
// smooth curve in print, few enough to serve with every request.
const funnelSteps = 60

// Funnel gives the funnel plot data of a division from a run's result.
func (c *Config) Funnel(res *Result, division string) (model.FunnelPlot, error) {
	f := model.FunnelPlot{Division: division, Phi: res.Phi, Points: []model.FunnelPoint{}, Limits: []model.FunnelLimits{}}
	var n, x, cityN, cityX int64
	members := 0
	for _, a := range res.Clusters {
		cityN, cityX = cityN+a.Evidence.Checks, cityX+a.Evidence.Failures
		if a.Division != division {
			continue
		}
		members++
		n, x = n+a.Evidence.Checks, x+a.Evidence.Failures
		if a.Evidence.Checks > 0 {
			f.Points = append(f.Points, model.FunnelPoint{Cluster: a.Cluster, County: a.County, Checks: a.Evidence.Checks,
				Rate: a.Evidence.Rate, ZAdjusted: a.Evidence.ZAdjusted, Status: a.Status, Level: a.Level})
		}
	}
	if members == 0 {
		return model.FunnelPlot{}, fmt.Errorf("funnel plot: no cluster of division %q in the run of %s", division, res.AsOf)
	}
	f.BaselineScope = model.BaselineScopeDivision
	if n < c.BaselineMinChecks {
		n, x, f.BaselineScope = cityN, cityX, model.BaselineScopeCity
	}
	if n == 0 {
		f.BaselineScope = model.BaselineScopeNone
		return f, nil
	}
	f.Baseline = min(max(float64(x)/float64(n), c.ClampLow), c.ClampHigh)
	f.Limits = c.funnelLimits(f)
	return f, nil
}

// funnelLimits spaces n geometrically from half the smallest cluster to a
// tenth past the largest, so the curves span every point.
func (c *Config) funnelLimits(f model.FunnelPlot) []model.FunnelLimits {
	lo, hi := c.MinChecks, c.MinChecks*2
	for _, p := range f.Points {
		lo, hi = min(lo, p.Checks), max(hi, p.Checks)
	}
	from, to := math.Max(1, float64(lo)/2), float64(hi)*1.1
	inflate := math.Sqrt(max(f.Phi, 1))
	var out []model.FunnelLimits
	for i := range funnelSteps + 1 {
		n := int64(math.Round(from * math.Pow(to/from, float64(i)/funnelSteps)))
		if len(out) > 0 && out[len(out)-1].Checks == n {
			continue
		}
		se := inflate * math.Sqrt(f.Baseline*(1-f.Baseline)/float64(n))
		clip := func(v float64) float64 { return min(max(v, 0), 1) }
		out = append(out, model.FunnelLimits{Checks: n, Baseline: f.Baseline,
			Low95: clip(f.Baseline - c.AlertLimit*se), High95: clip(f.Baseline + c.AlertLimit*se),
			Low998: clip(f.Baseline - c.AlarmLimit*se), High998: clip(f.Baseline + c.AlarmLimit*se)})
	}
	return out
}
