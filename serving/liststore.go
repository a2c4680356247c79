package serving

import (
	"unsafe"

	"github.com/qcredit/qcredit/model"
)

// strtab interns strings into one arena: every distinct string once, named
// by a uint32. The map exists only while building.
type strtab struct {
	arena []byte
	spans []span
	ids   map[string]uint32 // nil once frozen
}

func newStrtab() strtab {
	t := strtab{ids: map[string]uint32{}}
	t.id("") // id 0 is the empty string
	return t
}

// id interns s.
func (t *strtab) id(s string) uint32 {
	if id, ok := t.ids[s]; ok {
		return id
	}
	id := uint32(len(t.spans))
	t.spans = append(t.spans, span{off: uint32(len(t.arena)), len: uint32(len(s))})
	t.arena = append(t.arena, s...)
	t.ids[string(t.arena[len(t.arena)-len(s):])] = id
	return id
}

// get is the string of id; it shares the arena's memory.
func (t *strtab) get(id uint32) string {
	s := t.spans[id]
	if s.len == 0 {
		return ""
	}
	return unsafe.String(&t.arena[s.off], int(s.len))
}

// raw stores s without interning it: for strings nearly every entry has
// its own (keys, reasons, event ids), which the map would only grow by.
func (t *strtab) raw(s string) uint32 {
	if s == "" {
		return 0
	}
	id := uint32(len(t.spans))
	t.spans = append(t.spans, span{off: uint32(len(t.arena)), len: uint32(len(s))})
	t.arena = append(t.arena, s...)
	return id
}

// freeze drops the build map: the table is read-only from here on.
func (t *strtab) freeze() { t.ids = nil }

func (t *strtab) bytes() int64 {
	return int64(cap(t.arena) + cap(t.spans)*int(unsafe.Sizeof(span{})))
}

// The string fields of a model.ListEntry, in the order entryRec keeps them.
const (
	fAuthority = iota
	fAuthorityCode
	fBasis
	fExpiresAt
	fKey
	fList
	fListedAt
	fName
	fNoticeEnds
	fReason
	fRemovedAt
	fRemovedBy
	fRemovedByCode
	fRemovedReason
	fRepairPossibleFrom
	fRule
	fState
	fTriggeredAt
	fUSCC
	nFields
)

// entryRec is one distinct entry content: its strings as ids, its lists
// as spans of ids, and the versions [from, to) whose snapshots hold it
// (to is maxVersion while the latest does; for a removal, from is the
// version that removed it).
type entryRec struct {
	f                [nFields]uint32
	events, measures span // into listIDs
	from, to         int64
	estimated        bool
}

const maxVersion = int64(1<<63 - 1)

// entryArena holds entry contents pointer-free.
type entryArena struct {
	strs    strtab
	listIDs []uint32
	recs    []entryRec
}

// add stores e's content valid from version from.
func (a *entryArena) add(e *model.ListEntry, from int64) int32 {
	r := entryRec{from: from, to: maxVersion, estimated: e.DatesEstimated}
	for i, s := range [nFields]string{e.Authority, e.AuthorityCode, e.Basis, e.ExpiresAt, e.Key, string(e.List), e.ListedAt, e.Name,
		e.NoticeEnds, e.Reason, e.RemovedAt, e.RemovedBy, e.RemovedByCode, string(e.RemovedReason), e.RepairPossibleFrom, e.Rule,
		string(e.State), e.TriggeredAt, string(e.USCC)} {
		if i == fKey || i == fReason || i == fName {
			r.f[i] = a.strs.raw(s)
		} else {
			r.f[i] = a.strs.id(s)
		}
	}
	r.events, r.measures = a.list(e.Events, a.strs.raw), a.list(e.Measures, a.strs.id)
	a.recs = append(a.recs, r)
	return int32(len(a.recs) - 1)
}

func (a *entryArena) list(xs []string, store func(string) uint32) span {
	sp := span{off: uint32(len(a.listIDs)), len: uint32(len(xs))}
	for _, x := range xs {
		a.listIDs = append(a.listIDs, store(x))
	}
	return sp
}

func (a *entryArena) strings(sp span) []string {
	out := make([]string, sp.len)
	for i := range out {
		out[i] = a.strs.get(a.listIDs[sp.off+uint32(i)])
	}
	return out
}

// key is the entry key of content i.
func (a *entryArena) key(i int32) string { return a.strs.get(a.recs[i].f[fKey]) }

// entry is content i as a model.ListEntry; its strings share the arena.
func (a *entryArena) entry(i int32) model.ListEntry {
	r := &a.recs[i]
	s := func(f int) string { return a.strs.get(r.f[f]) }
	return model.ListEntry{Authority: s(fAuthority), AuthorityCode: s(fAuthorityCode), Basis: s(fBasis),
		DatesEstimated: r.estimated, Events: a.strings(r.events), ExpiresAt: s(fExpiresAt), Key: s(fKey), List: model.List(s(fList)),
		ListedAt: s(fListedAt), Measures: a.strings(r.measures), Name: s(fName), NoticeEnds: s(fNoticeEnds), Reason: s(fReason),
		RemovedAt: s(fRemovedAt), RemovedBy: s(fRemovedBy), RemovedByCode: s(fRemovedByCode), RemovedReason: model.Removal(s(fRemovedReason)),
		RepairPossibleFrom: s(fRepairPossibleFrom), Rule: s(fRule), State: model.ListState(s(fState)), TriggeredAt: s(fTriggeredAt),
		USCC: model.USCC(s(fUSCC))}
}

func (a *entryArena) bytes() int64 {
	return a.strs.bytes() + int64(cap(a.listIDs)*4+cap(a.recs)*int(unsafe.Sizeof(entryRec{})))
}
