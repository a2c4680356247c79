package simulate

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// Plan is a generated run held in memory, ready to be streamed: the firms,
// their events sorted by time, and the planted truth.
type Plan struct {
	cfg    Config
	cal    calendar
	firms  []firm
	events []event
	order  []uint64 // occurred_at << 32 | index into events: output order
	rising []RisingCluster
}

// pilotFirms is how many firms are generated to learn the events per firm
// when a run is sized by Config.Events.
const pilotFirms = 2000

// NewPlan generates everything cfg asks for. It does the work; streaming the
// plan only encodes.
func NewPlan(cfg Config) (*Plan, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("simulate: %w", err)
	}
	if cfg.Events > 0 {
		cfg = sized(cfg)
	}
	p := &Plan{cfg: cfg, cal: newCalendar(cfg.End, cfg.Years)}
	p.rising = p.pickRising()
	p.drawFirms()
	p.plantBadFirms()
	p.planEvents()
	return p, nil
}

// sized sets Enterprises so the run has a bit more than cfg.Events lines
// (learned from a pilot of the same seed) and stops it at exactly that many.
func sized(cfg Config) Config {
	pilot := cfg
	pilot.Events, pilot.Limit = 0, 0
	pilot.Enterprises = pilotFirms
	p, err := NewPlan(pilot)
	perFirm := 20.0
	if err == nil && len(p.events) > 0 {
		perFirm = float64(len(p.events)) / pilotFirms * (1 + cfg.BadRate)
	}
	cfg.Enterprises = max(1, int(float64(cfg.Events)*1.05/perFirm)+1)
	cfg.Limit = cfg.Events
	return cfg
}

// rng is the stream for one part of the run; each firm has its own (stream
// ≥ 16), so firms are independent of each other.
func (p *Plan) rng(stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(p.cfg.Seed), stream))
}

// pickRising chooses one or two single-county clusters whose failure rate
// rises sharply in the last year.
func (p *Plan) pickRising() []RisingCluster {
	r := p.rng(1)
	var candidates []RisingCluster
	for _, c := range clusterHome {
		if c.id != "hazhou-salt-chemical" { // spans two counties
			candidates = append(candidates, RisingCluster{Cluster: c.id, Division: c.division, Region: c.region})
		}
	}
	r.Shuffle(len(candidates), func(i, j int) { candidates[i], candidates[j] = candidates[j], candidates[i] })
	out := candidates[:1+r.IntN(2)]
	slices.SortFunc(out, func(a, b RisingCluster) int { return cmpString(a.Cluster, b.Cluster) })
	return out
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// drawFirms draws every firm's profile from one stream, in order.
func (p *Plan) drawFirms() {
	r := p.rng(2)
	issued := make(map[string]bool, p.cfg.Enterprises)
	endYear := p.cal.year(p.cal.days - 1)
	p.firms = make([]firm, p.cfg.Enterprises)
	for i := range p.firms {
		f := newFirm(r, p.cal.days, endYear, issued)
		if f.regDay == 0 && r.Float64() < 0.02 {
			f.dereg = true
			f.endDay = 60 + r.IntN(p.cal.days-60)
		}
		for _, rc := range p.rising {
			f.rising = f.rising || f.cluster == rc.Cluster
		}
		p.firms[i] = f
	}
}

// plantBadFirms marks about one firm in a thousand (at least three) as
// consistently bad: established manufacturers outside the rising clusters,
// active the whole period.
func (p *Plan) plantBadFirms() {
	want := max(3, len(p.firms)/1000)
	r := p.rng(3)
	for tries := 0; want > 0 && tries < 100*len(p.firms); tries++ {
		f := &p.firms[r.IntN(len(p.firms))]
		if f.bad || f.rising || f.regDay != 0 || f.dereg || !industries[f.industry].manufacturing || f.uscc[1] != '1' {
			continue
		}
		f.bad = true
		want--
	}
}

// planEvents draws each firm's history and sorts all events by time; ties
// keep firm order, then the firm's own order.
func (p *Plan) planEvents() {
	a := &arena{}
	p.events = make([]event, 0, len(p.firms)*22)
	lastYear := p.cal.days - 365
	for i := range p.firms {
		g := firmGen{r: p.rng(16 + uint64(i)), cal: &p.cal, f: &p.firms[i], idx: int32(i), arena: a,
			out: p.events, lastYear: lastYear}
		p.events = g.plan()
	}
	p.order = make([]uint64, len(p.events))
	for i, e := range p.events {
		p.order[i] = uint64(e.at)<<32 | uint64(i)
	}
	slices.Sort(p.order)
}

// Events is how many valid events the plan holds.
func (p *Plan) Events() int { return len(p.events) }

// Lines is about how many lines streaming the plan writes.
func (p *Plan) Lines() int {
	n := int(float64(len(p.events)) * (1 + p.cfg.BadRate))
	if p.cfg.Limit > 0 {
		n = min(n, p.cfg.Limit)
	}
	return n
}
