package serving

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/qcredit/qcredit/model"
)

// ErrNotRetained says a version (or a day) is older than the retained
// history, or was never published: a partner should pull a snapshot.
var ErrNotRetained = errors.New("version not retained")

// ListHistory is one list's published versions within retention and the
// entries they hold. Each distinct entry content is stored once (most
// entries stay the same from version to version) with the versions whose
// snapshots hold it, its strings interned in one arena: pointer-free, so a
// year of a 100,000-entry list costs the garbage collector nothing.
//
// The oldest retained version is the base: its snapshot is known, and its
// own changes only when it is version 1 (all adds).
type ListHistory struct {
	list     model.List
	versions []listVersion // ascending
	arena    entryArena
	order    []int32 // snapshot contents by (key, from)
	removals []int32 // removal contents by (key, from): what a remove carries
	changes  []change
}

type listVersion struct {
	number      int64
	publishedAt int64 // Unix µs
	asOf, rules uint32
	count       int
	sha         uint32
	measures    map[string]model.ListMeasure // a few per version, shared by its entries
	changes     span                         // into ListHistory.changes; empty for a base that is not version 1
}

// change is one step of a version: the op and the content it brings (the
// new entry, or for a remove the removal).
type change struct {
	op  model.ListOp
	rec int32
}

// List is the list this is the history of.
func (h *ListHistory) List() model.List { return h.list }

// Latest is the latest published version.
func (h *ListHistory) Latest() model.ListVersion { return h.header(&h.versions[len(h.versions)-1]) }

// Earliest is the number of the oldest retained version.
func (h *ListHistory) Earliest() int64 { return h.versions[0].number }

// Version is the header of version n, or ErrNotRetained.
func (h *ListHistory) Version(n int64) (model.ListVersion, error) {
	v, err := h.find(n)
	if err != nil {
		return model.ListVersion{}, err
	}
	return h.header(v), nil
}

// Versions are the retained versions' headers, ascending.
func (h *ListHistory) Versions() []model.ListVersion {
	out := make([]model.ListVersion, len(h.versions))
	for i := range h.versions {
		out[i] = h.header(&h.versions[i])
	}
	return out
}

func (h *ListHistory) find(n int64) (*listVersion, error) {
	i, ok := slices.BinarySearchFunc(h.versions, n, func(v listVersion, n int64) int { return cmp.Compare(v.number, n) })
	if !ok {
		return nil, fmt.Errorf("version %d of the %s list: %w (retained: %d to %d)", n, h.list, ErrNotRetained,
			h.Earliest(), h.versions[len(h.versions)-1].number)
	}
	return &h.versions[i], nil
}

func (h *ListHistory) header(v *listVersion) model.ListVersion {
	s := h.arena.strs.get
	return model.ListVersion{List: h.list, Number: v.number, PublishedAt: time.UnixMicro(v.publishedAt).In(model.Shanghai),
		AsOf: s(v.asOf), RulesVersion: s(v.rules), Manifest: model.ListManifest{Count: v.count, SHA256: s(v.sha)}, Measures: v.measures}
}

// Snapshot is version n's entries in key order, or ErrNotRetained.
func (h *ListHistory) Snapshot(n int64) (iter.Seq[model.ListEntry], error) {
	if _, err := h.find(n); err != nil {
		return nil, err
	}
	return func(yield func(model.ListEntry) bool) {
		for _, i := range h.order {
			if r := &h.arena.recs[i]; r.from <= n && n < r.to && !yield(h.arena.entry(i)) {
				return
			}
		}
	}, nil
}

// Changes are the changes from version from to version to, in key order:
// applied to from's snapshot they give to's. from = to gives none. A remove
// carries the latest removal of its key in between.
func (h *ListHistory) Changes(from, to int64) ([]model.ListChange, error) {
	if _, err := h.find(from); err != nil {
		return nil, err
	}
	if _, err := h.find(to); err != nil {
		return nil, err
	}
	if to < from {
		return nil, fmt.Errorf("changes from version %d to the earlier %d: want from ≤ to", from, to)
	}
	out := []model.ListChange{}
	if from == to {
		return out, nil
	}
	var la, lb []byte
	for lo := 0; lo < len(h.order); {
		key := h.arena.key(h.order[lo])
		hi := lo + 1
		for hi < len(h.order) && h.arena.key(h.order[hi]) == key {
			hi++
		}
		a, b := h.covering(h.order[lo:hi], from), h.covering(h.order[lo:hi], to)
		lo = hi
		switch {
		case a < 0 && b < 0, a == b:
		case a < 0:
			e := h.arena.entry(b)
			out = append(out, model.ListChange{Op: model.ListOpAdd, USCC: e.USCC, Key: key, Entry: e})
		case b < 0:
			e := h.removalOf(key, from, to, a)
			out = append(out, model.ListChange{Op: model.ListOpRemove, USCC: e.USCC, Key: key, Entry: e})
		default:
			ea, eb := h.arena.entry(a), h.arena.entry(b)
			if la, lb = ea.AppendCanonical(la[:0]), eb.AppendCanonical(lb[:0]); !bytes.Equal(la, lb) {
				out = append(out, model.ListChange{Op: model.ListOpModify, USCC: eb.USCC, Key: key, Entry: eb})
			}
		}
	}
	return out, nil
}

// covering is the content of recs (one key's) in version n's snapshot, or -1.
func (h *ListHistory) covering(recs []int32, n int64) int32 {
	for _, i := range recs {
		if r := &h.arena.recs[i]; r.from <= n && n < r.to {
			return i
		}
	}
	return -1
}

// removalOf is the latest removal of key by a version in (from, to]; when
// none was retained, the entry as last published, removed.
func (h *ListHistory) removalOf(key string, from, to int64, last int32) model.ListEntry {
	i, _ := slices.BinarySearchFunc(h.removals, key, func(r int32, k string) int { return strings.Compare(h.arena.key(r), k) })
	best := int32(-1)
	for ; i < len(h.removals) && h.arena.key(h.removals[i]) == key; i++ {
		if r := &h.arena.recs[h.removals[i]]; r.from > from && r.from <= to {
			best = h.removals[i]
		}
	}
	if best >= 0 {
		return h.arena.entry(best)
	}
	e := h.arena.entry(last)
	e.State = model.ListStateRemoved
	return e
}

// VersionChanges are version n's own changes (from n-1), in key order; the
// base's are known only when it is version 1.
func (h *ListHistory) VersionChanges(n int64) ([]model.ListChange, error) {
	v, err := h.find(n)
	if err != nil {
		return nil, err
	}
	if n != 1 && v == &h.versions[0] {
		return nil, fmt.Errorf("changes of version %d of the %s list: %w (the oldest retained)", n, h.list, ErrNotRetained)
	}
	out := make([]model.ListChange, 0, v.changes.len)
	for _, c := range h.changes[v.changes.off : v.changes.off+v.changes.len] {
		e := h.arena.entry(c.rec)
		out = append(out, model.ListChange{Op: c.op, USCC: e.USCC, Key: e.Key, Entry: e})
	}
	return out, nil
}

// ChangeCounts are how many entries a version's own changes add, remove
// and modify.
type ChangeCounts struct {
	Add, Remove, Modify int
}

// VersionChangeCounts counts version n's own changes (from n-1) by op,
// without building them; ErrNotRetained for the base unless it is
// version 1, as VersionChanges.
func (h *ListHistory) VersionChangeCounts(n int64) (ChangeCounts, error) {
	v, err := h.find(n)
	if err != nil {
		return ChangeCounts{}, err
	}
	if n != 1 && v == &h.versions[0] {
		return ChangeCounts{}, fmt.Errorf("changes of version %d of the %s list: %w (the oldest retained)", n, h.list, ErrNotRetained)
	}
	var c ChangeCounts
	for _, ch := range h.changes[v.changes.off : v.changes.off+v.changes.len] {
		switch ch.op {
		case model.ListOpAdd:
			c.Add++
		case model.ListOpRemove:
			c.Remove++
		case model.ListOpModify:
			c.Modify++
		}
	}
	return c, nil
}

// InForceOn is the version partners saw at the end of the day (+08:00): the
// latest published before the next midnight in Asia/Shanghai. ok is false
// when nothing had been published by then; ErrNotRetained when the day is
// before the retained history.
func (h *ListHistory) InForceOn(day time.Time) (v model.ListVersion, ok bool, err error) {
	y, m, d := day.In(model.Shanghai).Date()
	end := time.Date(y, m, d+1, 0, 0, 0, 0, model.Shanghai).UnixMicro()
	i, _ := slices.BinarySearchFunc(h.versions, end, func(v listVersion, t int64) int {
		if v.publishedAt < t {
			return -1
		}
		return 1
	})
	switch {
	case i > 0:
		return h.header(&h.versions[i-1]), true, nil
	case h.versions[0].number == 1:
		return model.ListVersion{}, false, nil
	}
	return model.ListVersion{}, false, fmt.Errorf("the %s list as published on %04d-%02d-%02d: %w (retained from %s)", h.list, y, m, d,
		ErrNotRetained, time.UnixMicro(h.versions[0].publishedAt).In(model.Shanghai).Format(time.DateOnly))
}

// EntriesOf are the firm's entries in version n's snapshot (every key
// starts with the USCC, so they lie together in key order).
func (h *ListHistory) EntriesOf(uscc model.USCC, n int64) []model.ListEntry {
	var out []model.ListEntry
	for _, i := range h.firmRange(h.order, uscc) {
		if r := &h.arena.recs[i]; r.from <= n && n < r.to {
			out = append(out, h.arena.entry(i))
		}
	}
	return out
}

// FirmListing is one content of a firm's entry and the versions [From, To)
// that published it (To 0 while the latest does); a removal has From the
// version that removed it.
type FirmListing struct {
	Entry    model.ListEntry
	From, To int64
}

// FirmHistory is what the retained versions published about the firm: its
// entries' contents and their removals, by key then version.
func (h *ListHistory) FirmHistory(uscc model.USCC) []FirmListing {
	var out []FirmListing
	for _, set := range [][]int32{h.order, h.removals} {
		for _, i := range h.firmRange(set, uscc) {
			r := &h.arena.recs[i]
			fl := FirmListing{Entry: h.arena.entry(i), From: r.from, To: r.to}
			if fl.To == maxVersion || fl.Entry.State == model.ListStateRemoved {
				fl.To = 0
			}
			out = append(out, fl)
		}
	}
	slices.SortStableFunc(out, func(a, b FirmListing) int {
		return cmp.Or(strings.Compare(a.Entry.Key, b.Entry.Key), cmp.Compare(a.From, b.From))
	})
	return out
}

func (h *ListHistory) firmRange(set []int32, uscc model.USCC) []int32 {
	lo, _ := slices.BinarySearchFunc(set, string(uscc), func(r int32, k string) int { return strings.Compare(h.arena.key(r), k) })
	hi := lo
	for hi < len(set) && strings.HasPrefix(h.arena.key(set[hi]), string(uscc)) {
		hi++
	}
	return set[lo:hi]
}

// Bytes is the history's memory.
func (h *ListHistory) Bytes() int64 {
	return h.arena.bytes() + int64(cap(h.order)*4+cap(h.removals)*4+cap(h.changes)*int(unsafe.Sizeof(change{}))+
		cap(h.versions)*int(unsafe.Sizeof(listVersion{})))
}

// historyBuilder builds a history version by version.
type historyBuilder struct {
	h       *ListHistory
	current map[string]int32 // key → content in the latest version's snapshot
	removed []int32
}

func newHistoryBuilder(l model.List) *historyBuilder {
	return &historyBuilder{h: &ListHistory{list: l, arena: entryArena{strs: newStrtab()}}, current: map[string]int32{}}
}

// base starts the history at version v with its snapshot; version 1's
// entries are its changes too (all adds).
func (b *historyBuilder) base(v model.ListVersion, entries []model.ListEntry) {
	lv := b.version(v)
	for i := range entries {
		rec := b.h.arena.add(&entries[i], v.Number)
		b.current[entries[i].Key] = rec
		if v.Number == 1 {
			b.h.changes = append(b.h.changes, change{op: model.ListOpAdd, rec: rec})
		}
	}
	lv.changes = span{off: 0, len: uint32(len(b.h.changes))}
	b.h.versions = append(b.h.versions, lv)
}

// apply adds version v, the next one, made of the changes from the last.
// Changes that do not fit the last snapshot mean the stored publication is
// inconsistent: the history is refused rather than served wrong.
func (b *historyBuilder) apply(v model.ListVersion, changes []model.ListChange) error {
	last := b.h.versions[len(b.h.versions)-1].number
	if v.Number != last+1 {
		return fmt.Errorf("%s list: version %d follows %d", b.h.list, v.Number, last)
	}
	lv := b.version(v)
	lv.changes.off = uint32(len(b.h.changes))
	for i := range changes {
		c := &changes[i]
		old, present := b.current[c.Key]
		if present {
			b.h.arena.recs[old].to = v.Number
		}
		switch {
		case c.Op == model.ListOpAdd && !present, c.Op == model.ListOpModify && present:
			rec := b.h.arena.add(&c.Entry, v.Number)
			b.current[c.Key] = rec
			b.h.changes = append(b.h.changes, change{op: c.Op, rec: rec})
		case c.Op == model.ListOpRemove && present:
			rec := b.h.arena.add(&c.Entry, v.Number)
			b.removed = append(b.removed, rec)
			delete(b.current, c.Key)
			b.h.changes = append(b.h.changes, change{op: c.Op, rec: rec})
		default:
			return fmt.Errorf("%s list version %d: %s of %s does not fit version %d", b.h.list, v.Number, c.Op, c.Key, last)
		}
	}
	lv.changes.len = uint32(len(b.h.changes)) - lv.changes.off
	b.h.versions = append(b.h.versions, lv)
	return nil
}

func (b *historyBuilder) version(v model.ListVersion) listVersion {
	s := &b.h.arena.strs
	return listVersion{number: v.Number, publishedAt: v.PublishedAt.UnixMicro(), asOf: s.id(v.AsOf), rules: s.id(v.RulesVersion),
		count: v.Manifest.Count, sha: s.id(v.Manifest.SHA256), measures: v.Measures}
}

// finish orders the contents and checks the latest snapshot against its
// manifest, which catches any drift between the stored versions.
func (b *historyBuilder) finish() (*ListHistory, error) {
	h := b.h
	removal := make([]bool, len(h.arena.recs))
	for _, r := range b.removed {
		removal[r] = true
	}
	for i := range h.arena.recs {
		if !removal[i] {
			h.order = append(h.order, int32(i))
		}
	}
	byKeyFrom := func(a, b int32) int {
		return cmp.Or(strings.Compare(h.arena.key(a), h.arena.key(b)), cmp.Compare(h.arena.recs[a].from, h.arena.recs[b].from))
	}
	slices.SortFunc(h.order, byKeyFrom)
	h.removals = slices.SortedFunc(slices.Values(b.removed), byKeyFrom)
	h.arena.strs.freeze()
	latest := h.Latest()
	snapshot, err := h.Snapshot(latest.Number)
	if err != nil {
		return nil, err
	}
	if m := model.NewListManifest(slices.Collect(snapshot)); m != latest.Manifest {
		return nil, fmt.Errorf("%s list version %d: the stored entries hash to %+v, its manifest says %+v", h.list, latest.Number, m, latest.Manifest)
	}
	return h, nil
}
