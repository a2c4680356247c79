package simulate

import (
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/qcredit/qcredit/model"
)

// event is one planned event, held compactly until output: times are seconds
// since the period's first midnight, data is already encoded, the id is given
// when the event is written (per-source counters in output order).
type event struct {
	at   int64
	rep  int32 // reported this many seconds after occurring; 0 = no reported_at
	firm int32
	typ  model.EventType
	src  uint8 // reporting bureau: the firm's county, or len(counties) for the city bureau
	neg  bool  // a negative record: the firm is no longer clean once it is written
	data []byte
}

// arena holds event data in large chunks, so a million events are not a
// million allocations.
type arena struct{ buf []byte }

func (a *arena) copy(b []byte) []byte {
	if cap(a.buf)-len(a.buf) < len(b) {
		a.buf = make([]byte, 0, max(1<<20, len(b)))
	}
	start := len(a.buf)
	a.buf = append(a.buf, b...)
	return a.buf[start:len(a.buf):len(a.buf)]
}

// firmGen plans the events of one firm. Each firm has its own PCG stream, so
// a firm's history does not depend on how many events the firms before it had.
type firmGen struct {
	r        *rand.Rand
	cal      *calendar
	f        *firm
	idx      int32
	arena    *arena
	out      []event
	refs     int    // per-firm counter that makes record ids unique
	scratch  []byte // reused while encoding data
	lastYear int    // first day of the last simulated year
}

// lo and hi bound the days on which the firm's ordinary events happen: after
// its registration day, before its deregistration.
func (g *firmGen) lo() int { return g.f.regDay + 1 }
func (g *firmGen) hi() int { return g.f.endDay - 1 }

// years is the length of the firm's active window in years.
func (g *firmGen) years() float64 { return float64(g.hi()-g.lo()+1) / 365.25 }

// day draws a day in [from, g.hi()]; ok is false when the window is empty.
func (g *firmGen) day(from int) (int, bool) {
	if from > g.hi() {
		return 0, false
	}
	return from + g.r.IntN(g.hi()-from+1), true
}

// obj starts encoding a data object in the scratch buffer.
func (g *firmGen) obj() object { return newObject(g.scratch[:0]) }

// add plans an event on day at a working-hours time.
func (g *firmGen) add(typ model.EventType, day int, o object, neg bool) {
	sec := 8*3600 + g.r.IntN(9*3600+1800)
	g.addAt(typ, int64(day)*daySeconds+int64(sec), o, neg)
}

func (g *firmGen) addAt(typ model.EventType, at int64, o object, neg bool) {
	data := o.end()
	g.scratch = data
	e := event{at: at, firm: g.idx, typ: typ, neg: neg, data: g.arena.copy(data)}
	if g.r.Float64() < 0.3 {
		e.rep = int32(600 + g.r.IntN(5*daySeconds))
	}
	e.src = uint8(g.f.county)
	if g.r.Float64() < 0.1 {
		e.src = uint8(len(counties))
	}
	g.out = append(g.out, e)
}

// ref makes a record id unique across the run: a prefix, the year, the
// firm's number and a per-firm counter.
func (g *firmGen) ref(prefix string, day int) string {
	g.refs++
	b := make([]byte, 0, 32)
	b = append(b, prefix...)
	b = strconv.AppendInt(b, int64(g.cal.year(day)), 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(g.idx)+100000, 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(g.refs), 10)
	return string(b)
}

// count draws how many times something with the yearly rate happens in the
// firm's window (Poisson).
func (g *firmGen) count(perYear float64) int {
	lambda := perYear * g.years()
	if lambda <= 0 {
		return 0
	}
	if lambda > 30 {
		return int(lambda + math.Sqrt(lambda)*g.r.NormFloat64() + 0.5)
	}
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= g.r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// pick returns one of choices, drawn by the cumulative weights in cum.
func pick(r *rand.Rand, choices []string, cum []float64) string {
	x := r.Float64()
	for i, c := range cum {
		if x < c {
			return choices[i]
		}
	}
	return choices[len(choices)-1]
}

// plan draws the firm's whole history.
func (g *firmGen) plan() []event {
	g.registration()
	if g.lo() <= g.hi() {
		g.updates()
		g.licences()
		g.spotChecks()
		g.otherPenalties()
		g.equipment()
		g.complaints()
		g.credentials()
	}
	if g.f.dereg {
		o := g.obj()
		o.str("reason", pick(g.r, []string{"注销", "吊销营业执照", "合并"}, []float64{0.7, 0.9}))
		g.add(model.EventEnterpriseDeregistered, g.f.endDay, o, false)
	}
	return g.out
}

// registration comes first: early in the morning of the registration day,
// before any other event of the firm (they start the day after).
func (g *firmGen) registration() {
	f := g.f
	o := g.obj()
	o.str("name", f.name)
	o.str("region", counties[f.county].code)
	o.str("industry", industries[f.industry].class)
	if f.cluster != "" {
		o.str("cluster", f.cluster)
	}
	o.str("scale", f.scale)
	g.addAt(model.EventEnterpriseRegistered, int64(f.regDay)*daySeconds+8*3600+int64(g.r.IntN(1800)), o, false)
}
