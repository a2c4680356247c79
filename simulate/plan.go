package simulate

import (
	"fmt"
	"math"
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

// NewPlan generates everything cfg asks for. It does the work; streaming the
// plan only encodes. A plan is prefix-stable: the first k firms of a bigger
// run are the firms of a run of k, which is how Config.Events sizes a run.
func NewPlan(cfg Config) (*Plan, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("simulate: %w", err)
	}
	if cfg.Events > 0 {
		cfg.Limit = cfg.Events
	}
	p := &Plan{cfg: cfg, cal: newCalendar(cfg.End, cfg.months())}
	p.rising = p.pickRising()
	p.planEvents()
	return p, nil
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

// planEvents draws firms and their histories until the run has
// cfg.Enterprises firms or, sized by cfg.Events, just enough events, then
// sorts all events by time; ties keep firm order, then the firm's own order.
func (p *Plan) planEvents() {
	d := p.newDrawer()
	a := &arena{}
	p.events = make([]event, 0, p.capacity())
	lastYear := p.cal.days - 365
	for i := 0; !p.enough(i); i++ {
		p.firms = append(p.firms, d.next())
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

// enough says whether firms ≥ n complete the run. Sized runs stop once the
// expected lines (events plus bad lines) exceed the target by three standard
// deviations of the bad-line count, so the cut at the target drops only the
// last minutes of the period.
func (p *Plan) enough(n int) bool {
	if p.cfg.Events <= 0 {
		return n >= p.cfg.Enterprises
	}
	target := float64(p.cfg.Events)
	margin := 3*math.Sqrt(target*p.cfg.BadRate) + 50
	return float64(len(p.events))*(1+p.cfg.BadRate) >= target+margin
}

func (p *Plan) capacity() int {
	if p.cfg.Events > 0 {
		return p.cfg.Events + p.cfg.Events/20
	}
	return p.cfg.Enterprises * 22
}

// drawer draws firm profiles one after another from one stream.
type drawer struct {
	p       *Plan
	r       *rand.Rand
	issued  map[string]bool // USCCs given out; membership only, never iterated
	planted int
}

func (p *Plan) newDrawer() *drawer {
	return &drawer{p: p, r: p.rng(2), issued: map[string]bool{}}
}

// badShare is the chance an eligible firm is planted as consistently bad;
// about half the firms are eligible, so about 0.1 % of all firms are bad.
const badShare = 0.002

func (d *drawer) next() firm {
	p := d.p
	f := newFirm(d.r, &p.cal, d.issued)
	if f.regDay == 0 && d.r.Float64() < 0.02 {
		f.dereg = true
		f.endDay = 60 + d.r.IntN(p.cal.days-60)
	}
	for _, rc := range p.rising {
		f.rising = f.rising || f.cluster == rc.Cluster
	}
	badDraw := d.r.Float64()
	if canBeBad(f) && (d.planted < 3 || badDraw < badShare) {
		f.bad = true
		d.planted++
	}
	return f
}

// canBeBad says whether a firm may be planted as consistently bad:
// established manufacturers outside the rising clusters, active the whole
// period, so their record is long and unambiguous.
func canBeBad(f firm) bool {
	return !f.rising && f.regDay == 0 && !f.dereg && industries[f.industry].manufacturing && f.uscc[1] == '1'
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
