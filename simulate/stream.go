package simulate

import (
	"encoding/json"
	"strconv"

	"github.com/qcredit/qcredit/model"
)

// ringSize is how many recent valid lines resends and conflicts copy from.
const ringSize = 4096

// written is a valid line already out: enough to write it again.
type written struct {
	event int32
	id    eventID
}

// eventID is "<source>-<n>", n counting per reporting bureau.
type eventID struct {
	src uint8
	n   int32
}

// streamer writes a plan: gives ids, encodes, mixes in bad lines, counts.
type streamer struct {
	p       *Plan
	emit    func(Line) error
	keys    [][]byte // USCC per firm
	counter []int    // ids given per reporting bureau
	ring    []written
	buf     []byte
	truth   Truth
	reg     []bool // firm's registration was written
	neg     []bool // firm has a negative record written
}

// Stream writes the plan's lines to emit, in occurred_at order, and returns
// the truth with exact counts of what was written.
func (p *Plan) Stream(emit func(Line) error) (Truth, error) {
	s := newStreamer(p, emit)
	err := s.run()
	s.countFirms()
	return s.truth, err
}

func newStreamer(p *Plan, emit func(Line) error) *streamer {
	n := len(p.firms)
	s := &streamer{p: p, emit: emit, keys: make([][]byte, n), counter: make([]int, len(counties)+1),
		reg: make([]bool, n), neg: make([]bool, n), buf: make([]byte, 0, 1024)}
	for i, f := range p.firms {
		s.keys[i] = []byte(f.uscc)
	}
	s.truth = Truth{Seed: p.cfg.Seed, End: p.cal.date(p.cal.days - 1), RisingClusters: p.rising,
		BadReasons: map[model.DeadLetterReason]int{}, BadEnterprises: []model.USCC{}, Accidents: []Accident{}}
	return s
}

// countFirms counts the firms whose registration was written (a limit may
// cut late registrations): all, the planted bad ones, the clean ones.
func (s *streamer) countFirms() {
	for i, f := range s.p.firms {
		if !s.reg[i] {
			continue
		}
		s.truth.Enterprises++
		if f.bad {
			s.truth.BadEnterprises = append(s.truth.BadEnterprises, model.USCC(f.uscc))
		}
		if !s.neg[i] {
			s.truth.CleanEnterprisesCount++
		}
	}
}

func (s *streamer) run() error {
	r := s.p.rng(4)
	limit := s.p.cfg.Limit
	for _, key := range s.p.order {
		idx := int32(key & 0xffffffff)
		if s.p.cfg.BadRate > 0 && r.Float64() < s.p.cfg.BadRate {
			if s.full(limit) {
				return nil
			}
			if err := s.junk(r, idx); err != nil {
				return err
			}
		}
		if s.full(limit) {
			return nil
		}
		if err := s.valid(idx); err != nil {
			return err
		}
	}
	return nil
}

func (s *streamer) full(limit int) bool { return limit > 0 && s.truth.Lines >= limit }

// valid writes an event under a fresh id.
func (s *streamer) valid(idx int32) error {
	e := &s.p.events[idx]
	w := written{event: idx, id: s.nextID(e)}
	s.buf = s.p.appendEvent(s.buf[:0], e, envelope{id: w.id})
	if len(s.ring) < ringSize {
		s.ring = append(s.ring, w)
	} else {
		s.ring[s.truth.ValidUniqueEvents%ringSize] = w
	}
	s.truth.ValidUniqueEvents++
	if e.typ == model.EventEnterpriseRegistered {
		s.reg[e.firm] = true
	}
	s.neg[e.firm] = s.neg[e.firm] || e.neg
	if e.typ == model.EventEquipmentAccident {
		s.accident(e, w.id)
	}
	return s.write(Line{Key: s.keys[e.firm], Value: s.buf, Kind: LineValid})
}

// accident records an accident in the truth (a few per thousand firms, so
// decoding its data costs nothing).
func (s *streamer) accident(e *event, id eventID) {
	var d struct{ Grade string }
	json.Unmarshal(e.data, &d) // the simulator's own encoding
	s.truth.Accidents = append(s.truth.Accidents, Accident{EventID: string(id.append(nil)), USCC: model.USCC(s.p.firms[e.firm].uscc),
		OccurredAt: string(s.p.cal.appendTime(nil, e.at)), Grade: d.Grade})
}

func (s *streamer) write(l Line) error {
	s.truth.Lines++
	return s.emit(l)
}

func (s *streamer) nextID(e *event) eventID {
	s.counter[e.src]++
	return eventID{src: e.src, n: int32(s.counter[e.src])}
}

// sourceCode is the GB/T 2260 code of a reporting bureau.
func sourceCode(src uint8) string {
	if int(src) == len(counties) {
		return model.CityHuaian
	}
	return counties[src].code
}

func (id eventID) append(b []byte) []byte {
	b = append(b, sourceCode(id.src)...)
	b = append(b, '-')
	return strconv.AppendInt(b, int64(id.n), 10)
}
