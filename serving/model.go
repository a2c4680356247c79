package serving

import (
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// Model is one immutable snapshot of the read model. A reader takes it
// once per request (Store.Current) and sees one consistent version.
type Model struct {
	base    *directory // every enterprise as of the last full load
	changed *directory // enterprises registered or changed since, by USCC
	names   *nameIndex // name search over base (changed is scanned)
	// penalties are those in publication when read, as of any later day
	// filtered by Penalties.
	penalties *penaltyIndex
	score     warehouse.Run
	scored    bool
	// runs are the current run of each job the model serves (by job), and
	// parts what each job's part loader built from it.
	runs  map[string]warehouse.Run
	parts map[string]Part
	// Loaded is when the snapshot was made; Watermark the greatest
	// ingested_at its enterprise data reflects.
	Loaded    time.Time
	Watermark time.Time

	clustersOnce sync.Once
	clusters     map[string]bool

	breakdownOnce sync.Once
	breakdown     *Breakdown
}

// HasCluster reports whether any enterprise belongs to the cluster key.
func (m *Model) HasCluster(key string) bool {
	m.clustersOnce.Do(func() {
		m.clusters = map[string]bool{}
		m.each(func(f Firm) { m.clusters[f.ClusterKey()] = true })
	})
	return m.clusters[key]
}

// derive is a copy of m for a new snapshot (derived caches not copied).
func (m *Model) derive() *Model {
	return &Model{base: m.base, changed: m.changed, names: m.names, penalties: m.penalties, score: m.score, scored: m.scored, Loaded: m.Loaded, Watermark: m.Watermark,
		runs: maps.Clone(m.runs), parts: maps.Clone(m.parts)}
}

// Run is the current run of job whose outputs the model holds.
func (m *Model) Run(job string) (warehouse.Run, bool) {
	r, ok := m.runs[job]
	return r, ok
}

// Part is what job's part loader built, or nil.
func (m *Model) Part(job string) Part { return m.parts[job] }

// Firm is one enterprise by USCC.
func (m *Model) Firm(uscc model.USCC) (Firm, bool) {
	if m.changed != nil {
		if i := m.changed.find(string(uscc)); i >= 0 {
			return m.changed.firm(i), true
		}
	}
	if i := m.base.find(string(uscc)); i >= 0 {
		return m.base.firm(i), true
	}
	return Firm{}, false
}

// Penalties are uscc's administrative penalties published on day
// (YYYY-MM-DD, +08:00), in decision order: the public facts only.
func (m *Model) Penalties(uscc model.USCC, day string) []Penalty {
	all := m.penalties.of(uscc)
	return slices.DeleteFunc(all, func(p Penalty) bool { return !p.PublishedOn(day) })
}

// ScoreRun is the score run whose grades the model holds.
func (m *Model) ScoreRun() (warehouse.Run, bool) { return m.score, m.scored }

// Enterprises is the number of enterprises the model knows.
func (m *Model) Enterprises() int {
	n := m.base.len()
	if m.changed != nil {
		for i := range m.changed.len() {
			if m.base.find(string(m.changed.key(i))) < 0 {
				n++
			}
		}
	}
	return n
}

// Bytes is the model's memory, for /metrics.
func (m *Model) Bytes() int64 {
	n := m.base.bytes()
	if m.names != nil {
		n += m.names.bytes()
	}
	if m.changed != nil {
		n += m.changed.bytes()
	}
	n += m.penalties.bytes()
	for _, p := range m.parts {
		if p != nil {
			n += p.Bytes()
		}
	}
	return n
}

// FirmFilter selects enterprises of a listing; zero values select all.
type FirmFilter struct {
	Grade model.Grade
	// Region is a GB/T 2260 code: the city (320800) selects all of its
	// counties, a county itself.
	Region   string
	Industry string // a GB/T 4754 code: its class and every class below it (C33 selects C3311)
	Cluster  string // a cluster key (Firm.ClusterKey)
	Scored   bool   // only enterprises with a grade
}

// FirmPage is a page of a listing with the total that matched.
type FirmPage struct {
	Total int
	Items []Firm
}

// Firms pages through the enterprises that match f, in USCC order.
func (m *Model) Firms(f FirmFilter, offset, limit int) FirmPage {
	page := FirmPage{Items: []Firm{}}
	m.each(func(x Firm) {
		if !f.match(x) {
			return
		}
		if page.Total >= offset && len(page.Items) < limit {
			page.Items = append(page.Items, x)
		}
		page.Total++
	})
	return page
}

// EachFirm calls fn for every enterprise that matches f, in USCC order,
// until fn returns false: an export streams a listing without building it.
func (m *Model) EachFirm(f FirmFilter, fn func(Firm) bool) {
	stop := false
	m.each(func(x Firm) {
		if !stop && f.match(x) {
			stop = !fn(x)
		}
	})
}

// each calls fn for every enterprise in USCC order, changed ones replacing
// their base records.
func (m *Model) each(fn func(Firm)) {
	var changed int
	for i := range m.base.len() {
		key := string(m.base.key(i))
		for m.changed != nil && changed < m.changed.len() && string(m.changed.key(changed)) <= key {
			fn(m.changed.firm(changed))
			if string(m.changed.key(changed)) == key {
				key = "" // replaced
			}
			changed++
		}
		if key != "" {
			fn(m.base.firm(i))
		}
	}
	for m.changed != nil && changed < m.changed.len() {
		fn(m.changed.firm(changed))
		changed++
	}
}

func (f FirmFilter) match(x Firm) bool {
	switch {
	case f.Grade != "" && x.Grade != f.Grade:
		return false
	case f.Scored && x.Grade == "":
		return false
	case f.Region != "" && !InRegion(x.Region, f.Region):
		return false
	case f.Industry != "" && !InIndustry(x.Industry, f.Industry):
		return false
	case f.Cluster != "" && x.ClusterKey() != f.Cluster:
		return false
	}
	return true
}

// InRegion reports whether a county-level code lies in region: the region
// itself, or its city or province (codes ending in 00 or 0000).
func InRegion(code, region string) bool {
	switch {
	case code == region:
		return true
	case len(region) == 6 && region[2:] == "0000":
		return len(code) == 6 && code[:2] == region[:2]
	case len(region) == 6 && region[4:] == "00":
		return len(code) == 6 && code[:4] == region[:4]
	}
	return false
}

// InIndustry reports whether a GB/T 4754 class lies in industry (a
// section, division, group or the class itself: C, C33, C331, C3311).
func InIndustry(code, industry string) bool {
	return len(code) >= len(industry) && code[:len(industry)] == industry
}

// GradeCounts counts the scored enterprises per grade, for dashboards.
func (m *Model) GradeCounts(f FirmFilter) map[model.Grade]int {
	out := map[model.Grade]int{}
	for _, g := range model.Grades {
		out[g] = 0
	}
	m.each(func(x Firm) {
		if x.Grade != "" && f.match(x) {
			out[x.Grade]++
		}
	})
	return out
}
