package simulate

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
)

// StreamFirms writes the city cfg describes firm by firm, for cities too big
// to plan in memory (a Plan holds every event: 30M events would take about
// 6 GB). It writes the same firms with the same events as Generate, but the
// firms in USCC order, each firm's events in time order, and valid lines
// only, so BadRate, Events and Limit must be 0. It holds the firms' profiles
// (1M firms: about 250 MB) and one firm's events at a time.
//
// Event ids count per reporting bureau in output order, as Generate's do,
// so they differ from Generate's; the rest of each line is the same.
func StreamFirms(cfg Config, emit func(Line) error) (Truth, error) {
	if err := cfg.Validate(); err != nil {
		return Truth{}, fmt.Errorf("simulate: %w", err)
	}
	if cfg.BadRate != 0 || cfg.Events != 0 || cfg.Limit != 0 {
		return Truth{}, errors.New("simulate: a city streamed firm by firm is sized by enterprises and has no bad lines (bad rate, events and limit must be 0)")
	}
	p := &Plan{cfg: cfg, cal: newCalendar(cfg.End, cfg.months())}
	p.rising = p.pickRising()
	// The firms are drawn from one stream in Generate's order, each firm's
	// events from its own (see planEvents), so drawing every firm first and
	// planning them in another order changes nothing they contain.
	d := p.newDrawer()
	p.firms = make([]firm, cfg.Enterprises)
	for i := range p.firms {
		p.firms[i] = d.next()
	}
	order := make([]int32, len(p.firms))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return cmp.Compare(p.firms[a].uscc, p.firms[b].uscc) })

	s := newStreamer(p, emit)
	a := &arena{}
	lastYear := p.cal.days - 365
	for _, i := range order {
		a.buf = a.buf[:0] // the previous firm's lines are written: its data can go
		g := firmGen{r: p.rng(16 + uint64(i)), cal: &p.cal, f: &p.firms[i], idx: i, arena: a,
			out: p.events[:0], lastYear: lastYear}
		p.events = g.plan()
		// Stable: ties keep the firm's own order, as Generate's sort does.
		slices.SortStableFunc(p.events, func(x, y event) int { return cmp.Compare(x.at, y.at) })
		for k := range p.events {
			if err := s.valid(int32(k)); err != nil {
				return s.truth, err
			}
		}
	}
	s.countFirms()
	return s.truth, nil
}
