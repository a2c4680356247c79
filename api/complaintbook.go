package api

import (
	"bytes"
	"cmp"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"slices"
	"sync"
	"time"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/serving"
	"github.com/qcredit/qcredit/warehouse"
)

// complaint is what the events say of one complaint, as the book hands it
// out: a copy, its own to keep.
type complaint struct {
	ID, Kind, Category, Channel, Text, Contact string
	USCC                                       model.USCC
	Source                                     string
	Trackable                                  bool // the sender holds a tracking code
	ReceivedAt, AcceptedAt, RejectedAt         time.Time
	ClosedAt                                   time.Time
	RejectReason, Outcome, Answer              string
	Verified                                   *bool
	received                                   bool // its complaint.received has been read
}

func (c *complaint) status() ComplaintStatus {
	return statusOf(!c.AcceptedAt.IsZero(), !c.RejectedAt.IsZero(), !c.ClosedAt.IsZero())
}

func statusOf(accepted, rejected, closed bool) ComplaintStatus {
	switch {
	case closed:
		return ComplaintStatusClosed
	case rejected:
		return ComplaintStatusRejected
	case accepted:
		return ComplaintStatusAccepted
	}
	return ComplaintStatusReceived
}

// complaintBook holds every complaint, read from the warehouse's complaint
// events and refreshed every few seconds. Events may come in any order; each
// fills its part, and applying one again changes nothing, so the refresh's
// overlap needs no record of the events applied.
//
// A city of a million firms has about a million complaints, held beside
// the read model in the process that answers the public lookup. They are
// kept without pointers, so that the garbage collector has nothing in
// them to mark: a complaint is a fixed-size record in chunks of records,
// its strings spans of a byte arena, its labels (kind, category, channel,
// source) numbers into a small table, and the indexes by id and by
// tracking code maps of plain numbers. The received complaints are also
// kept in the analysts' order, newest first, so that a list is one pass.
type complaintBook struct {
	src ComplaintSource
	mu  sync.RWMutex
	// recs are the complaints in the order first heard of; a record's
	// index never changes.
	recs  chunked[complaintRec]
	text  arena
	label labels
	// byID maps an id's hash to its first record (index+1); records
	// whose ids share a hash are chained through next.
	byID       map[uint64]uint32
	hashID     func(string) uint64
	byTracking map[[32]byte]uint32 // SHA-256 of the tracking code → index+1
	// order is the received complaints newest first, then by id;
	// unordered those received (or received again at another time)
	// since it was last settled.
	order, unordered []uint32
	cursor           time.Time // greatest ingested_at read
	readAt           time.Time // when the last refresh started
	now              func() time.Time
}

// complaintRec is one complaint: no pointers. Times are Unix nanoseconds,
// 0 when not (yet) reported; verified is 0 when not reported, 1 false, 2 true.
type complaintRec struct {
	id, uscc, text, contact, reason, outcome, answer span
	received, accepted, rejected, closed             int64
	kind, category, channel, source                  uint32
	next                                             uint32
	verified                                         uint8
	seen, trackable                                  bool
	placed, pending                                  bool // in order; in unordered
}

func newComplaintBook(src ComplaintSource, now func() time.Time) *complaintBook {
	seed := maphash.MakeSeed()
	return &complaintBook{src: src, byID: map[uint64]uint32{}, byTracking: map[[32]byte]uint32{}, now: now,
		label: newLabels(), hashID: func(id string) uint64 { return maphash.String(seed, id) }}
}

// complaintOverlap is how late a write may become visible after the time
// it was stamped with: on ClickHouse another replica's write may commit
// with a stamp below one already read.
const complaintOverlap = time.Minute

// complaintChunk is how many events a refresh applies at a time, so that
// a large first read neither holds them all nor blocks lookups for long.
const complaintChunk = 10_000

// refresh reads the complaint events ingested since the last refresh: after
// the cursor, and again those stamped within complaintOverlap before the
// last refresh started (they may have become visible since). Stamps older
// than that were visible then and are not read again, however many: a
// bulk import's last minute is not re-read at every refresh.
func (b *complaintBook) refresh(ctx context.Context) error {
	start := b.now()
	b.mu.RLock()
	after := b.cursor
	if settled := b.readAt.Add(-complaintOverlap); !b.readAt.IsZero() && settled.Before(after) {
		after = settled
	}
	b.mu.RUnlock()
	events := make([]warehouse.IngestedEvent, 0, 256)
	apply := func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, e := range events {
			b.applyLocked(e.Event)
			if e.IngestedAt.After(b.cursor) {
				b.cursor = e.IngestedAt
			}
		}
		b.settleLocked()
		events = events[:0]
	}
	err := b.src.EventsOfTypes(ctx, complaintTypes, after, func(e warehouse.IngestedEvent) error {
		if events = append(events, e); len(events) == complaintChunk {
			apply()
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("complaints: %w", err)
	}
	apply()
	b.mu.Lock()
	b.readAt = start
	b.mu.Unlock()
	return nil
}

// apply adds one event (a complaint just submitted on this replica).
func (b *complaintBook) apply(e model.Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.applyLocked(e)
	b.settleLocked()
}

// complaintData is the data of every complaint event type.
type complaintData struct {
	ComplaintID  string `json:"complaint_id"`
	Channel      string `json:"channel"`
	Kind         string `json:"kind"`
	Category     string `json:"category"`
	Text         string `json:"text"`
	Contact      string `json:"contact"`
	TrackingHash string `json:"tracking_hash"`
	Reason       string `json:"reason"`
	Verified     *bool  `json:"verified"`
	Outcome      string `json:"outcome"`
	Answer       string `json:"answer"`
}

func (b *complaintBook) applyLocked(e model.Event) {
	var d complaintData
	if json.Unmarshal(e.Data, &d) != nil || d.ComplaintID == "" {
		return
	}
	i, r := b.findLocked(d.ComplaintID)
	if r == nil {
		i, r = b.recs.add()
		r.id = b.text.add(d.ComplaintID)
		h := b.hashID(d.ComplaintID)
		r.next = b.byID[h]
		b.byID[h] = i + 1
	}
	at := e.OccurredAt.UnixNano()
	switch e.Type {
	case model.EventComplaintReceived:
		if !r.seen || r.received != at {
			b.unorderLocked(i, r)
		}
		r.seen, r.received = true, at
		r.uscc = b.text.set(r.uscc, string(e.USCC))
		r.source, r.kind, r.category, r.channel = b.label.of(e.Source), b.label.of(d.Kind), b.label.of(d.Category), b.label.of(d.Channel)
		r.text, r.contact = b.text.set(r.text, d.Text), b.text.set(r.contact, d.Contact)
		if d.TrackingHash != "" {
			r.trackable = true
			// Only a SHA-256 in hex can match a code's hash; anything
			// else marks the complaint trackable and is never found.
			var h [32]byte
			if len(d.TrackingHash) == hex.EncodedLen(len(h)) {
				if _, err := hex.Decode(h[:], []byte(d.TrackingHash)); err == nil {
					b.byTracking[h] = i + 1
				}
			}
		}
	case model.EventComplaintAccepted:
		r.accepted = at
	case model.EventComplaintRejected:
		r.rejected, r.reason = at, b.text.set(r.reason, d.Reason)
	case model.EventComplaintClosed:
		r.closed, r.outcome, r.answer = at, b.text.set(r.outcome, d.Outcome), b.text.set(r.answer, d.Answer)
		r.verified = 0
		if d.Verified != nil {
			r.verified = 1
			if *d.Verified {
				r.verified = 2
			}
		}
	}
	if r.uscc.n == 0 {
		r.uscc, r.source = b.text.set(r.uscc, string(e.USCC)), b.label.of(e.Source)
	}
}

// findLocked is the record of a complaint id, or nil. Callers hold mu.
func (b *complaintBook) findLocked(id string) (uint32, *complaintRec) {
	for i := b.byID[b.hashID(id)]; i != 0; {
		r := b.recs.at(i - 1)
		if string(b.text.bytes(r.id)) == id {
			return i - 1, r
		}
		i = r.next
	}
	return 0, nil
}

// byTrackingCode is the complaint with that tracking code.
func (b *complaintBook) byTrackingCode(code string) (complaint, bool) {
	h, err := hex.DecodeString(trackingHash(code))
	if err != nil {
		return complaint{}, false
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	i, ok := b.byTracking[[32]byte(h)]
	if !ok {
		return complaint{}, false
	}
	return b.complaintLocked(b.recs.at(i - 1)), true
}

// find is the received complaints that match, newest first (then by id),
// as indexes for get: they stay valid, a record is never moved or removed.
func (b *complaintBook) find(f complaintFilter) []uint32 {
	b.mu.RLock()
	defer b.mu.RUnlock()
	var since int64
	if !f.since.IsZero() {
		since = f.since.UnixNano()
	}
	var out []uint32
	for _, i := range b.order {
		r := b.recs.at(i)
		if r.received < since {
			break // older ones follow
		}
		if (f.status == "" || statusOf(r.accepted != 0, r.rejected != 0, r.closed != 0) == f.status) &&
			(f.kind == "" || b.label.name(r.kind) == f.kind) &&
			(f.region == "" || serving.InRegion(b.label.name(r.source), f.region)) &&
			(f.uscc == "" || string(b.text.bytes(r.uscc)) == string(f.uscc)) {
			out = append(out, i)
		}
	}
	return out
}

// unorderLocked notes that record i's place in order is to be (re)found.
func (b *complaintBook) unorderLocked(i uint32, r *complaintRec) {
	if !r.pending {
		r.pending = true
		b.unordered = append(b.unordered, i)
	}
}

// settleLocked places the unordered records in order: sorted among
// themselves, then each inserted where a binary search puts it, merging
// from the back so that the order moves once.
func (b *complaintBook) settleLocked() {
	fresh := b.unordered
	if len(fresh) == 0 {
		return
	}
	if slices.ContainsFunc(fresh, func(i uint32) bool { return b.recs.at(i).placed }) { // received again, at another time
		b.order = slices.DeleteFunc(b.order, func(i uint32) bool { return b.recs.at(i).pending })
	}
	slices.SortFunc(fresh, b.compareLocked)
	old := len(b.order)
	b.order = slices.Grow(b.order, len(fresh))[:old+len(fresh)]
	hi, w := old, len(b.order) // b.order[:hi] is what is left of the old order; b.order[w:] is merged
	for k := len(fresh) - 1; k >= 0; k-- {
		at, _ := slices.BinarySearchFunc(b.order[:hi], fresh[k], b.compareLocked)
		w -= hi - at
		copy(b.order[w:], b.order[at:hi])
		hi = at
		w--
		b.order[w] = fresh[k]
	}
	for _, i := range fresh {
		r := b.recs.at(i)
		r.placed, r.pending = true, false
	}
	b.unordered = fresh[:0]
}

// compareLocked orders records newest first, then by id.
func (b *complaintBook) compareLocked(x, y uint32) int {
	rx, ry := b.recs.at(x), b.recs.at(y)
	if c := cmp.Compare(ry.received, rx.received); c != 0 {
		return c
	}
	return bytes.Compare(b.text.bytes(rx.id), b.text.bytes(ry.id))
}

// get is the complaints at those indexes (from find), in their order.
func (b *complaintBook) get(idx []uint32) []complaint {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make([]complaint, len(idx))
	for k, i := range idx {
		out[k] = b.complaintLocked(b.recs.at(i))
	}
	return out
}

// complaintLocked copies a record out. Callers hold mu.
func (b *complaintBook) complaintLocked(r *complaintRec) complaint {
	c := complaint{ID: b.text.str(r.id), USCC: model.USCC(b.text.str(r.uscc)), Source: b.label.name(r.source),
		Kind: b.label.name(r.kind), Category: b.label.name(r.category), Channel: b.label.name(r.channel),
		Text: b.text.str(r.text), Contact: b.text.str(r.contact), Trackable: r.trackable,
		ReceivedAt: unixTime(r.received), AcceptedAt: unixTime(r.accepted), RejectedAt: unixTime(r.rejected),
		ClosedAt: unixTime(r.closed), RejectReason: b.text.str(r.reason), Outcome: b.text.str(r.outcome),
		Answer: b.text.str(r.answer), received: r.seen}
	if r.verified != 0 {
		v := r.verified == 2
		c.Verified = &v
	}
	return c
}

// register reports the book's size on /metrics.
func (b *complaintBook) register(reg prometheus.Registerer) error {
	count := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "qcredit_complaints",
		Help: "Complaints held for the tracking lookup and the analysts' list."}, func() float64 {
		b.mu.RLock()
		defer b.mu.RUnlock()
		return float64(b.recs.len())
	})
	size := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "qcredit_complaints_bytes",
		Help: "Memory the complaints take: records, their text and the indexes (estimated)."}, func() float64 {
		b.mu.RLock()
		defer b.mu.RUnlock()
		return float64(b.sizeLocked())
	})
	for _, c := range []prometheus.Collector{count, size} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// sizeLocked estimates the bytes the book takes; a map entry is counted
// as its key and value twice over (a map's groups are never full).
func (b *complaintBook) sizeLocked() int {
	rec := int(unsafe.Sizeof(complaintRec{}))
	return len(b.recs.chunks)*chunkLen*rec + b.text.size() + 2*len(b.byID)*(8+4) + 2*len(b.byTracking)*(32+4) +
		4*(cap(b.order)+cap(b.unordered))
}

func unixTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// span is a string in an arena: chunk, offset and length.
type span struct{ chunk, off, n uint32 }

// arena holds strings in chunks of bytes without pointers. A string set
// again to the value it has keeps its place, so applying an event again
// takes no room; one set to another value takes new room (a complaint's
// fields change once or twice in its life).
type arena struct{ chunks [][]byte }

const arenaChunk = 1 << 20

func (a *arena) add(s string) span {
	if s == "" {
		return span{}
	}
	last := len(a.chunks) - 1
	if last < 0 || cap(a.chunks[last])-len(a.chunks[last]) < len(s) {
		a.chunks = append(a.chunks, make([]byte, 0, max(arenaChunk, len(s))))
		last++
	}
	off := len(a.chunks[last])
	a.chunks[last] = append(a.chunks[last], s...)
	return span{chunk: uint32(last), off: uint32(off), n: uint32(len(s))}
}

// set is s in the arena, at old's place if old holds it already.
func (a *arena) set(old span, s string) span {
	if string(a.bytes(old)) == s {
		return old
	}
	return a.add(s)
}

func (a *arena) bytes(s span) []byte {
	if s.n == 0 {
		return nil
	}
	return a.chunks[s.chunk][s.off : s.off+s.n]
}

func (a *arena) str(s span) string { return string(a.bytes(s)) }

// size is the bytes the arena has taken.
func (a *arena) size() int {
	n := 0
	for _, c := range a.chunks {
		n += cap(c)
	}
	return n
}

// labels numbers a few distinct strings; 0 is "".
type labels struct {
	names []string
	ids   map[string]uint32
}

func newLabels() labels { return labels{names: []string{""}, ids: map[string]uint32{"": 0}} }

func (l *labels) of(s string) uint32 {
	if id, ok := l.ids[s]; ok {
		return id
	}
	id := uint32(len(l.names))
	l.names = append(l.names, s)
	l.ids[s] = id
	return id
}

func (l *labels) name(id uint32) string { return l.names[id] }

// chunked is a growing list of T in fixed chunks: growing never copies
// what it holds, and an element's address stays.
type chunked[T any] struct {
	chunks [][]T
	n      int
}

const chunkLen = 1 << 14

func (c *chunked[T]) add() (uint32, *T) {
	if c.n == len(c.chunks)*chunkLen {
		c.chunks = append(c.chunks, make([]T, chunkLen))
	}
	i := c.n
	c.n++
	return uint32(i), &c.chunks[i/chunkLen][i%chunkLen]
}

func (c *chunked[T]) at(i uint32) *T { return &c.chunks[i/chunkLen][i%chunkLen] }

func (c *chunked[T]) len() int { return c.n }
