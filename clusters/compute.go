package clusters

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/qcredit/qcredit/model"
)

// Compute assesses every cluster of the input by the method of DOMAIN.md
// ("Cluster risk warnings: the statistics"). It is pure and ignores the
// order of the input's rows: everything is counted, or sorted before use,
// so two warehouses that return the same rows give the same result.
func (c *Config) Compute(in *Input) (*Result, error) {
	if err := in.Validate(); err != nil {
		return nil, fmt.Errorf("cluster input: %w", err)
	}
	w, err := c.WindowOf(in.AsOf)
	if err != nil {
		return nil, err
	}
	r := newRun(c, w, in.Enterprises)
	r.addRecords(in)
	for _, cl := range r.clusters {
		r.count(cl)
	}
	r.baselines()
	res := &Result{AsOf: in.AsOf, Version: c.Version, Window: w, Unmatched: r.unmatched}
	res.Phi, res.PhiClusters = r.overdispersion()
	res.Clusters = make([]model.ClusterAssessment, len(r.clusters))
	for i, cl := range r.clusters {
		res.Clusters[i] = r.assess(cl, res.Phi)
	}
	return res, nil
}

// run holds one computation: the enterprises in USCC order, the clusters
// in key order, and what each accumulated.
type run struct {
	cfg       *Config
	w         Window
	firms     []firm
	byUSCC    map[model.USCC]int32
	clusters  []*cluster
	unmatched int64
	// checks and failures per division over all clusters, and city-wide.
	divChecks, divFailures   map[string]int64
	cityChecks, cityFailures int64
}

type firm struct {
	e                *Enterprise
	cluster          *cluster
	checks, failures int64
}

type cluster struct {
	key     string
	members []int32
	checks  []check
	// penalties, complaints and hazards in the window.
	penalties, complaints, hazards int64
	accidents                      []Accident

	division, county string
	n, x, m          int64
	p0               float64
	scope            model.BaselineScope
	p0n, p0x         int64
	sufficient       bool
	z                float64
}

type check struct {
	at time.Time
	// nanos is at as Unix nanoseconds: sorting millions of checks compares
	// integers, not times.
	nanos   int64
	id      string
	firm    int32
	failed  bool
	product string
}

func byTimeThenID(a, b check) int {
	if c := cmp.Compare(a.nanos, b.nanos); c != 0 {
		return c // cmp.Or would compare the ids too, every time
	}
	return strings.Compare(a.id, b.id)
}

func newRun(c *Config, w Window, es []Enterprise) *run {
	r := &run{cfg: c, w: w, firms: make([]firm, len(es)), byUSCC: make(map[model.USCC]int32, len(es)),
		divChecks: map[string]int64{}, divFailures: map[string]int64{}}
	order := make([]int, len(es))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(string(es[a].USCC), string(es[b].USCC)) })
	byKey := map[string]*cluster{}
	for i, j := range order {
		e := &es[j]
		cl := byKey[e.Cluster]
		if cl == nil {
			cl = &cluster{key: e.Cluster}
			byKey[e.Cluster] = cl
			r.clusters = append(r.clusters, cl)
		}
		cl.members = append(cl.members, int32(i))
		r.firms[i] = firm{e: e, cluster: cl}
		r.byUSCC[e.USCC] = int32(i)
	}
	slices.SortFunc(r.clusters, func(a, b *cluster) int { return strings.Compare(a.key, b.key) })
	return r
}

// member finds the enterprise of a window record; ok is false outside the
// window, and for records of enterprises not in the input (counted).
func (r *run) member(uscc model.USCC, at time.Time) (int32, bool) {
	if !r.w.contains(at) {
		return 0, false
	}
	i, ok := r.byUSCC[uscc]
	if !ok {
		r.unmatched++
	}
	return i, ok
}

func (r *run) addRecords(in *Input) {
	// Each check's firm first, so that each cluster's checks are allocated
	// once: appending millions of checks cost more than the rest of Compute.
	firms := make([]int32, len(in.Checks))
	sizes := make(map[*cluster]int, len(r.clusters))
	for k := range in.Checks {
		c := &in.Checks[k]
		i, ok := r.member(c.USCC, c.OccurredAt)
		if !ok {
			firms[k] = -1
			continue
		}
		firms[k] = i
		sizes[r.firms[i].cluster]++
	}
	for cl, n := range sizes {
		cl.checks = make([]check, 0, n)
	}
	for k := range in.Checks {
		if i := firms[k]; i >= 0 {
			c := &in.Checks[k]
			cl := r.firms[i].cluster
			cl.checks = append(cl.checks, check{at: c.OccurredAt, nanos: c.OccurredAt.UnixNano(), id: c.EventID, firm: i,
				failed: c.Failed, product: c.Product})
		}
	}
	count := func(rs []Record, field func(*cluster) *int64) {
		for _, rec := range rs {
			if i, ok := r.member(rec.USCC, rec.OccurredAt); ok {
				*field(r.firms[i].cluster)++
			}
		}
	}
	count(in.Penalties, func(cl *cluster) *int64 { return &cl.penalties })
	count(in.Complaints, func(cl *cluster) *int64 { return &cl.complaints })
	count(in.OverdueHazards, func(cl *cluster) *int64 { return &cl.hazards })
	for _, a := range in.Accidents {
		if i, ok := r.member(a.USCC, a.OccurredAt); ok {
			cl := r.firms[i].cluster
			cl.accidents = append(cl.accidents, a)
		}
	}
}

// count orders a cluster's checks and counts n, x and m, its division and
// county, and adds its checks to the division's and the city's.
func (r *run) count(cl *cluster) {
	slices.SortFunc(cl.checks, byTimeThenID)
	slices.SortFunc(cl.accidents, func(a, b Accident) int {
		return cmp.Or(a.OccurredAt.Compare(b.OccurredAt), strings.Compare(a.EventID, b.EventID))
	})
	for _, ch := range cl.checks {
		f := &r.firms[ch.firm]
		if f.checks == 0 {
			cl.m++
		}
		f.checks++
		cl.n++
		if ch.failed {
			f.failures++
			cl.x++
		}
	}
	divisions, counties := make([]string, len(cl.members)), make([]string, len(cl.members))
	for i, m := range cl.members {
		divisions[i], counties[i] = r.firms[m].e.Division, r.firms[m].e.County
	}
	cl.division, cl.county = majority(divisions), majority(counties)
	r.divChecks[cl.division] += cl.n
	r.divFailures[cl.division] += cl.x
	r.cityChecks += cl.n
	r.cityFailures += cl.x
}

// majority is the most frequent value, ties to the smallest.
func majority(values []string) string {
	slices.Sort(values)
	best, bestN := "", 0
	for i := 0; i < len(values); {
		j := i
		for j < len(values) && values[j] == values[i] {
			j++
		}
		if j-i > bestN {
			best, bestN = values[i], j-i
		}
		i = j
	}
	return best
}

// baselines sets each cluster's p0 and whether it meets the minimum sample.
func (r *run) baselines() {
	for _, cl := range r.clusters {
		cl.p0n, cl.p0x, cl.scope = r.divChecks[cl.division]-cl.n, r.divFailures[cl.division]-cl.x, model.BaselineScopeDivision
		if cl.p0n < r.cfg.BaselineMinChecks {
			cl.p0n, cl.p0x, cl.scope = r.cityChecks-cl.n, r.cityFailures-cl.x, model.BaselineScopeCity
		}
		if cl.p0n == 0 {
			cl.scope = model.BaselineScopeNone
		} else {
			cl.p0 = min(max(float64(cl.p0x)/float64(cl.p0n), r.cfg.ClampLow), r.cfg.ClampHigh)
		}
		cl.sufficient = cl.n >= r.cfg.MinChecks && cl.m >= r.cfg.MinEnterprises && cl.scope != model.BaselineScopeNone
		if cl.sufficient {
			cl.z = funnelZ(cl.x, cl.n, cl.p0)
		}
	}
}

// overdispersion is φ over the clusters meeting the minimum sample.
func (r *run) overdispersion() (float64, int) {
	var z []float64
	for _, cl := range r.clusters {
		if cl.sufficient {
			z = append(z, cl.z)
		}
	}
	return overdispersion(z, r.cfg.WinsoriseLow, r.cfg.WinsoriseHigh), len(z)
}

// adjusted is z' = z/√φ, adjusting only for overdispersion (φ > 1).
func adjusted(z, phi float64) float64 {
	if phi > 1 {
		return z / math.Sqrt(phi)
	}
	return z
}
