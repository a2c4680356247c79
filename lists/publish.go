package lists

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/qcredit/qcredit/model"
)

// Version is one published version of a list: its header, its snapshot
// (the listed entries, by key) and the changes that turn the previous
// version's snapshot into it (all adds for version 1), kept because a
// remove carries what no snapshot holds: why, when and by whom the entry
// was removed.
type Version struct {
	model.ListVersion
	Entries []model.ListEntry
	Changes []model.ListChange
}

// PublishInput is one run's publication of one list.
type PublishInput struct {
	List model.List
	// Current is the list's latest published version, nil before the first.
	Current *Version
	// Entries are this run's entries of the list, in every state: the
	// listed ones make the snapshot, the removed ones tell why a published
	// entry left.
	Entries []model.ListEntry
	AsOf    time.Time
	// PublishedAt is when the version becomes visible; zero when the caller
	// learns it only later (the lists job: when its run succeeds).
	PublishedAt time.Time
}

// Validate says what is wrong with the input.
func (in *PublishInput) Validate() error {
	var errs []error
	if !in.List.Valid() {
		errs = append(errs, fmt.Errorf("list %q is not dishonest or focus", in.List))
	}
	if in.AsOf.IsZero() {
		errs = append(errs, errors.New("as_of is required"))
	}
	if in.Current != nil {
		if in.Current.List != in.List {
			errs = append(errs, fmt.Errorf("current version is of the %s list, not %s", in.Current.List, in.List))
		}
		if !in.PublishedAt.IsZero() && in.PublishedAt.Before(in.Current.PublishedAt) {
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
		if e.State == model.ListStateListed {
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
	var snapshot []model.ListEntry
	removals := map[string]model.ListEntry{}
	for _, e := range in.Entries {
		switch e.State {
		case model.ListStateListed:
			snapshot = append(snapshot, e)
		case model.ListStateRemoved, model.ListStateNotListed:
			removals[e.Key] = e
		}
	}
	slices.SortFunc(snapshot, model.CompareListEntries)
	var prev []model.ListEntry
	number := int64(1)
	if in.Current != nil {
		prev, number = in.Current.Entries, in.Current.Number+1
	}
	changes := diff(prev, snapshot, func(e model.ListEntry) model.ListEntry { return r.removalOf(e, removals, asOf) })
	if in.Current != nil && len(changes) == 0 {
		return *in.Current, false, nil
	}
	v := Version{ListVersion: model.ListVersion{List: in.List, Number: number, PublishedAt: in.PublishedAt, AsOf: asOf,
		RulesVersion: r.Version, Manifest: model.NewListManifest(snapshot), Measures: r.measuresOf(in.List)},
		Entries: snapshot, Changes: changes}
	return v, true, nil
}

// measuresOf names the measures the list's entries refer to.
func (r *Rules) measuresOf(l model.List) map[string]model.ListMeasure {
	ids := r.Dishonest.Measures
	if l == model.ListFocus {
		ids = r.Focus.Measures
	}
	out := make(map[string]model.ListMeasure, len(ids))
	for _, id := range ids {
		m := r.Measures[id]
		out[id] = model.ListMeasure{Name: m.Name, NameEN: m.NameEN, Basis: m.Basis}
	}
	return out
}

// removalOf is the removal of a published entry: the run's, or, when the
// run has none (the rules changed under it), a withdrawal by the publisher
// on the as_of day.
func (r *Rules) removalOf(prev model.ListEntry, removals map[string]model.ListEntry, asOf string) model.ListEntry {
	if e, ok := removals[prev.Key]; ok {
		return e
	}
	prev.State, prev.RemovedAt, prev.RemovedReason = model.ListStateRemoved, asOf, model.RemovalWithdrawn
	prev.RemovedByCode, prev.RemovedBy = r.Publisher, r.authority(r.Publisher)
	return prev
}

// diff is the changes from snapshot a to snapshot b (both by key), in key
// order. An entry counts as changed when its canonical line differs;
// removal gives the entry a remove carries.
func diff(a, b []model.ListEntry, removal func(model.ListEntry) model.ListEntry) []model.ListChange {
	var out []model.ListChange
	var la, lb []byte
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && a[i].Key < b[j].Key):
			out = append(out, model.ListChange{Op: model.ListOpRemove, USCC: a[i].USCC, Key: a[i].Key, Entry: removal(a[i])})
			i++
		case i == len(a) || b[j].Key < a[i].Key:
			out = append(out, model.ListChange{Op: model.ListOpAdd, USCC: b[j].USCC, Key: b[j].Key, Entry: b[j]})
			j++
		default:
			la, lb = a[i].AppendCanonical(la[:0]), b[j].AppendCanonical(lb[:0])
			if !bytes.Equal(la, lb) {
				out = append(out, model.ListChange{Op: model.ListOpModify, USCC: b[j].USCC, Key: b[j].Key, Entry: b[j]})
			}
			i++
			j++
		}
	}
	return out
}

// Apply turns a snapshot into another with the changes between them, as a
// partner does. It refuses changes that do not fit (an add of a present
// key, a modify or remove of a missing one): the copy has drifted and
// should be replaced by a snapshot.
func Apply(snapshot []model.ListEntry, changes []model.ListChange) ([]model.ListEntry, error) {
	byKey := make(map[string]model.ListEntry, len(snapshot)+len(changes))
	for _, e := range snapshot {
		byKey[e.Key] = e
	}
	for _, c := range changes {
		_, present := byKey[c.Key]
		switch {
		case c.Op == model.ListOpAdd && !present, c.Op == model.ListOpModify && present:
			byKey[c.Key] = c.Entry
		case c.Op == model.ListOpRemove && present:
			delete(byKey, c.Key)
		default:
			return nil, fmt.Errorf("apply: %s of %s does not fit the snapshot (present: %v): pull a snapshot", c.Op, c.Key, present)
		}
	}
	out := make([]model.ListEntry, 0, len(byKey))
	for _, e := range byKey {
		out = append(out, e)
	}
	slices.SortFunc(out, model.CompareListEntries)
	return out, nil
}
