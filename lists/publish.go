package lists

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/qcredit/qcredit/model"
)

// Manifest lets a partner prove its copy of a version: the entry count and
// the SHA-256 (lowercase hex) of the canonical snapshot, whatever format
// the entries were served in.
type Manifest struct {
	Count  int    `json:"count"`
	SHA256 string `json:"sha256"`
}

// Canonical is the canonical snapshot: the entries' canonical lines (see
// AppendCanonical) sorted by key, each ending with LF; no entries, no bytes.
func Canonical(entries []Entry) ([]byte, error) {
	var b []byte
	err := eachCanonical(entries, func(line []byte) { b = append(b, line...) })
	return b, err
}

// NewManifest is the manifest of a snapshot, hashed line by line.
func NewManifest(entries []Entry) (Manifest, error) {
	h := sha256.New()
	if err := eachCanonical(entries, func(line []byte) { h.Write(line) }); err != nil {
		return Manifest{}, err
	}
	return Manifest{Count: len(entries), SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// eachCanonical gives the entries' canonical lines in key order.
func eachCanonical(entries []Entry, fn func(line []byte)) error {
	if !slices.IsSortedFunc(entries, compareKeys) {
		entries = slices.Clone(entries)
		slices.SortFunc(entries, compareKeys)
	}
	var w canonicalWriter
	for i := range entries {
		line, err := w.line(&entries[i])
		if err != nil {
			return fmt.Errorf("canonical snapshot: %w", err)
		}
		fn(line)
	}
	return nil
}

// Op is what one change does to a snapshot.
type Op string

const (
	OpAdd    Op = "add"
	OpRemove Op = "remove" // the entry carries its removal (移出原因, 移出日期, 移出机关)
	OpModify Op = "modify" // the entry is the new one, under the same key
)

// Change is one step from one version's snapshot towards another's.
type Change struct {
	Op    Op         `json:"op"`
	USCC  model.USCC `json:"uscc"`
	Key   string     `json:"key"`
	Entry Entry      `json:"entry"`
}

// Version is one published version of a list.
type Version struct {
	List List `json:"list"`
	// Number is the list's own version, 1, 2, …: a run that changes
	// nothing publishes none.
	Number       int64     `json:"version"`
	PublishedAt  time.Time `json:"published_at"`
	AsOf         string    `json:"as_of"` // of the run that published it
	RulesVersion string    `json:"rules_version"`
	Manifest     Manifest  `json:"manifest"`
	Entries      []Entry   `json:"entries"` // the snapshot: listed entries by key
	// Changes turn the previous version's snapshot into this one (all adds
	// for version 1). Kept because a remove carries what no snapshot holds:
	// why, when and by whom the entry was removed.
	Changes []Change `json:"-"`
}

// PublishInput is one run's publication of one list.
type PublishInput struct {
	List List
	// Current is the list's latest published version, nil before the first.
	Current *Version
	// Entries are this run's entries of the list, in every state: the
	// listed ones make the snapshot, the removed ones tell why a published
	// entry left.
	Entries     []Entry
	AsOf        time.Time
	PublishedAt time.Time
}

// Validate says what is wrong with the input.
func (in *PublishInput) Validate() error {
	var errs []error
	if in.List != ListDishonest && in.List != ListFocus {
		errs = append(errs, fmt.Errorf("list %q is not dishonest or focus", in.List))
	}
	if in.AsOf.IsZero() || in.PublishedAt.IsZero() {
		errs = append(errs, errors.New("as_of and published_at are required"))
	}
	if in.Current != nil {
		if in.Current.List != in.List {
			errs = append(errs, fmt.Errorf("current version is of the %s list, not %s", in.Current.List, in.List))
		}
		if in.PublishedAt.Before(in.Current.PublishedAt) {
			errs = append(errs, fmt.Errorf("published_at %s is before the current version's %s",
				in.PublishedAt.Format(time.RFC3339), in.Current.PublishedAt.Format(time.RFC3339)))
		}
	}
	listed := map[string]bool{}
	for i := range in.Entries {
		e := &in.Entries[i]
		if e.List != in.List {
			errs = append(errs, fmt.Errorf("entry %s is on the %s list, not %s", e.Key, e.List, in.List))
		}
		if e.State == StateListed {
			if listed[e.Key] {
				errs = append(errs, fmt.Errorf("entry %s is listed twice", e.Key))
			}
			listed[e.Key] = true
		}
	}
	return errors.Join(errs...)
}

// Publish decides whether the run changes the list. When it does, it
// returns the new version (number, snapshot, manifest, changes) and true;
// when it does not, the current version and false: nothing new is published.
// The first run always publishes version 1, even empty, so the list exists.
//
// A published entry missing from the run (the rules changed under it) is
// removed as withdrawn by the publisher on the run's as_of day.
func (r *Rules) Publish(in PublishInput) (Version, bool, error) {
	if err := in.Validate(); err != nil {
		return Version{}, false, fmt.Errorf("publish: %w", err)
	}
	asOf := dayOf(in.AsOf).Format(dateLayout)
	var snapshot []Entry
	removals := map[string]Entry{}
	for _, e := range in.Entries {
		switch e.State {
		case StateListed:
			snapshot = append(snapshot, e)
		case StateRemoved, StateNotListed:
			removals[e.Key] = e
		}
	}
	slices.SortFunc(snapshot, compareKeys)
	var prev []Entry
	number := int64(1)
	if in.Current != nil {
		prev, number = in.Current.Entries, in.Current.Number+1
	}
	changes, err := diff(prev, snapshot, func(e Entry) Entry { return r.removalOf(e, removals, asOf) })
	if err != nil {
		return Version{}, false, fmt.Errorf("publish %s: %w", in.List, err)
	}
	if in.Current != nil && len(changes) == 0 {
		return *in.Current, false, nil
	}
	m, err := NewManifest(snapshot)
	if err != nil {
		return Version{}, false, fmt.Errorf("publish %s: %w", in.List, err)
	}
	return Version{List: in.List, Number: number, PublishedAt: in.PublishedAt, AsOf: asOf, RulesVersion: r.Version,
		Manifest: m, Entries: snapshot, Changes: changes}, true, nil
}

// removalOf is the removal of a published entry: the run's, or, when the
// run has none (the rules changed under it), a withdrawal by the publisher
// on the as_of day.
func (r *Rules) removalOf(prev Entry, removals map[string]Entry, asOf string) Entry {
	if e, ok := removals[prev.Key]; ok {
		return e
	}
	prev.State, prev.RemovedAt, prev.RemovedReason = StateRemoved, asOf, RemovalWithdrawn
	prev.RemovedByCode, prev.RemovedBy = r.Publisher, r.authority(r.Publisher)
	return prev
}

// diff is the changes from snapshot a to snapshot b (both by key), in key
// order. An entry counts as changed when its canonical line differs;
// removal gives the entry a remove carries.
func diff(a, b []Entry, removal func(Entry) Entry) ([]Change, error) {
	var out []Change
	var wa, wb canonicalWriter
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && a[i].Key < b[j].Key):
			out = append(out, Change{Op: OpRemove, USCC: a[i].USCC, Key: a[i].Key, Entry: removal(a[i])})
			i++
		case i == len(a) || b[j].Key < a[i].Key:
			out = append(out, Change{Op: OpAdd, USCC: b[j].USCC, Key: b[j].Key, Entry: b[j]})
			j++
		default:
			la, err := wa.line(&a[i])
			if err != nil {
				return nil, err
			}
			lb, err := wb.line(&b[j])
			if err != nil {
				return nil, err
			}
			if !bytes.Equal(la, lb) {
				out = append(out, Change{Op: OpModify, USCC: b[j].USCC, Key: b[j].Key, Entry: b[j]})
			}
			i++
			j++
		}
	}
	return out, nil
}

// Apply turns a snapshot into another with the changes between them. It
// refuses changes that do not fit (an add of a present key, a modify or
// remove of a missing one): the partner's copy has drifted and should be
// replaced by a snapshot.
func Apply(snapshot []Entry, changes []Change) ([]Entry, error) {
	byKey := make(map[string]Entry, len(snapshot)+len(changes))
	for _, e := range snapshot {
		byKey[e.Key] = e
	}
	for _, c := range changes {
		_, present := byKey[c.Key]
		switch {
		case c.Op == OpAdd && !present, c.Op == OpModify && present:
			byKey[c.Key] = c.Entry
		case c.Op == OpRemove && present:
			delete(byKey, c.Key)
		default:
			return nil, fmt.Errorf("apply: %s of %s does not fit the snapshot (present: %v): pull a snapshot", c.Op, c.Key, present)
		}
	}
	out := make([]Entry, 0, len(byKey))
	for _, e := range byKey {
		out = append(out, e)
	}
	slices.SortFunc(out, compareKeys)
	return out, nil
}

// History is the retained versions of one list, ascending.
type History []Version

// ErrNotRetained says a version is older than the retained history (or was
// never published): the partner should pull a snapshot.
var ErrNotRetained = errors.New("version not retained")

// Validate checks that the versions are of one list, their numbers
// ascending and their publication times not decreasing.
func (h History) Validate() error {
	var errs []error
	for i := 1; i < len(h); i++ {
		if h[i].List != h[0].List {
			errs = append(errs, fmt.Errorf("version %d is of the %s list, not %s", h[i].Number, h[i].List, h[0].List))
		}
		if h[i].Number <= h[i-1].Number || h[i].PublishedAt.Before(h[i-1].PublishedAt) {
			errs = append(errs, fmt.Errorf("version %d does not follow version %d", h[i].Number, h[i-1].Number))
		}
	}
	return errors.Join(errs...)
}

// Find is the version with the number.
func (h History) Find(number int64) (*Version, bool) {
	i, ok := slices.BinarySearchFunc(h, number, func(v Version, n int64) int { return cmp.Compare(v.Number, n) })
	if !ok {
		return nil, false
	}
	return &h[i], true
}

// Changes are the changes from version from to version to, in key order:
// Apply(from's snapshot, changes) is to's snapshot. from = to gives none.
// A remove carries the latest removal of its key in between, or, when the
// versions in between were not retained with their changes, the entry as
// last published with state removed.
func (h History) Changes(from, to int64) ([]Change, error) {
	a, ok := h.Find(from)
	if !ok {
		return nil, fmt.Errorf("changes since version %d: %w", from, ErrNotRetained)
	}
	b, ok := h.Find(to)
	if !ok {
		return nil, fmt.Errorf("changes to version %d: %w", to, ErrNotRetained)
	}
	switch {
	case to < from:
		return nil, fmt.Errorf("changes from version %d to the earlier %d: want from ≤ to", from, to)
	case to == from:
		return []Change{}, nil
	}
	return diff(a.Entries, b.Entries, func(prev Entry) Entry { return h.removalOf(prev, from, to) })
}

// removalOf is the latest remove of the entry's key in the versions after
// from up to to.
func (h History) removalOf(prev Entry, from, to int64) Entry {
	for i := len(h) - 1; i >= 0 && h[i].Number > from; i-- {
		if h[i].Number > to {
			continue
		}
		for _, c := range h[i].Changes {
			if c.Op == OpRemove && c.Key == prev.Key {
				return c.Entry
			}
		}
	}
	prev.State = StateRemoved
	return prev
}

// InForceOn is the version partners saw at the end of the day (+08:00):
// the latest published before the next midnight in Asia/Shanghai.
func (h History) InForceOn(day time.Time) (*Version, bool) {
	end := dayOf(day).AddDate(0, 0, 1)
	i, _ := slices.BinarySearchFunc(h, end, func(v Version, t time.Time) int {
		if v.PublishedAt.Before(t) {
			return -1
		}
		return 1
	})
	if i == 0 {
		return nil, false
	}
	return &h[i-1], true
}

// EntriesOf is the firm's entries in the version's snapshot. Every key
// starts with the USCC, so they lie together in key order.
func (v *Version) EntriesOf(uscc model.USCC) []Entry {
	i, _ := slices.BinarySearchFunc(v.Entries, string(uscc), byKey)
	j := i
	for j < len(v.Entries) && strings.HasPrefix(v.Entries[j].Key, string(uscc)) {
		j++
	}
	return v.Entries[i:j]
}

// ListStatus is a firm's standing on one list as published by the end of a day.
type ListStatus struct {
	List List `json:"list"`
	// Version is the version in force that day; 0 when none was published yet.
	Version     int64      `json:"version"`
	PublishedAt *time.Time `json:"published_at,omitempty"`
	Listed      bool       `json:"listed"`
	// Entries are the firm's entries of that version listed on the day by
	// their own dates: since when, until when, why, by whom, the measures.
	Entries []Entry `json:"entries"`
}

// Check is a firm's standing on every list as published by the end of a
// day: what a bidding dispute asks ("was it listed on the day of the bid,
// as published then"), answered from the versions, never recomputed.
type Check struct {
	USCC   model.USCC   `json:"uscc"`
	Day    string       `json:"as_of"`
	Listed bool         `json:"listed"`
	Lists  []ListStatus `json:"lists"`
}

// CheckOn answers for one firm from each list's history.
func CheckOn(uscc model.USCC, day time.Time, histories ...History) Check {
	d := dayOf(day).Format(dateLayout)
	c := Check{USCC: uscc, Day: d, Lists: []ListStatus{}}
	for _, h := range histories {
		if len(h) == 0 {
			continue
		}
		ls := ListStatus{List: h[0].List, Entries: []Entry{}}
		if v, ok := h.InForceOn(day); ok {
			ls.Version, ls.PublishedAt = v.Number, &v.PublishedAt
			for _, e := range v.EntriesOf(uscc) {
				if e.ListedOn(d) {
					ls.Entries = append(ls.Entries, e)
				}
			}
		}
		ls.Listed = len(ls.Entries) > 0
		c.Listed = c.Listed || ls.Listed
		c.Lists = append(c.Lists, ls)
	}
	return c
}
