package serving

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// JobLists is the lists job's name (pipelines.JobLists; serving does not
// import pipelines).
const JobLists = "lists"

// ListsPart is the lists job's share of the read model: the current lists
// run and each list's retained publication history.
type ListsPart struct {
	Run       warehouse.Run
	histories map[model.List]*ListHistory
}

// History is the list's publication history, nil before its first version.
func (p *ListsPart) History(l model.List) *ListHistory { return p.histories[l] }

// Bytes is the part's memory.
func (p *ListsPart) Bytes() int64 {
	var n int64
	for _, h := range p.histories {
		n += h.Bytes()
	}
	return n
}

// Lists is the model's lists part, nil before the first lists run.
func (m *Model) Lists() *ListsPart {
	p, _ := m.Part(JobLists).(*ListsPart)
	return p
}

// ListsOptions configure the lists part.
type ListsOptions struct {
	// Retention is how far back versions are served: those published within
	// it, and the one in force at its start (the base).
	Retention time.Duration
	// Now is the clock retention is counted from; nil is time.Now.
	Now func() time.Time
	Log *slog.Logger
}

// ListsLoader builds the lists part from the warehouse: for each list, the
// base version's snapshot (the listed entries of the run that published
// it), then each later version's changes (outputs c/ of its run), checked
// against the latest version's manifest. A history whose base and latest
// versions did not change since the last load is kept as it is.
func ListsLoader(opts ListsOptions) PartLoader {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	l := &listsLoader{opts: opts, cache: map[model.List]cachedHistory{}}
	return PartLoader{Job: JobLists, Load: l.load}
}

type listsLoader struct {
	opts  ListsOptions
	cache map[model.List]cachedHistory // the last load's, reused while its versions are the same
}

type cachedHistory struct {
	base, latest string // run ids
	h            *ListHistory
}

// publication is one run that published a version of a list.
type publication struct {
	run     warehouse.Run
	version int64
}

func (l *listsLoader) load(ctx context.Context, src Source, run warehouse.Run, _ *Model) (Part, error) {
	runs, err := src.Runs(ctx, warehouse.RunFilter{Job: JobLists, Status: warehouse.RunSucceeded})
	if err != nil {
		return nil, err
	}
	part := &ListsPart{Run: run, histories: map[model.List]*ListHistory{}}
	for _, list := range model.Lists {
		pubs := publications(runs, list)
		if len(pubs) == 0 {
			continue
		}
		pubs = pubs[l.baseIndex(pubs):]
		if c, ok := l.cache[list]; ok && c.base == pubs[0].run.ID && c.latest == pubs[len(pubs)-1].run.ID {
			part.histories[list] = c.h
			continue
		}
		start := time.Now()
		h, err := buildHistory(ctx, src, list, pubs)
		if err != nil {
			return nil, err
		}
		l.cache[list] = cachedHistory{base: pubs[0].run.ID, latest: pubs[len(pubs)-1].run.ID, h: h}
		part.histories[list] = h
		if l.opts.Log != nil {
			l.opts.Log.Info("read model: list history loaded", "list", list, "versions", len(h.versions), "from", h.Earliest(),
				"entries", h.Latest().Manifest.Count, "bytes", h.Bytes(), "took", time.Since(start).Round(time.Millisecond))
		}
	}
	return part, nil
}

// publications are the succeeded runs that published a version of the
// list, by version.
func publications(runs []warehouse.Run, list model.List) []publication {
	var out []publication
	for _, r := range runs {
		if r.Counts[model.ListCountPublished(list)] == 1 && r.FinishedAt != nil {
			out = append(out, publication{run: r, version: r.Counts[model.ListCountVersion(list)]})
		}
	}
	slices.SortFunc(out, func(a, b publication) int { return cmp.Compare(a.version, b.version) })
	return out
}

// baseIndex is the oldest retained publication: the one in force when
// retention starts.
func (l *listsLoader) baseIndex(pubs []publication) int {
	cut := l.opts.Now().Add(-l.opts.Retention)
	i := slices.IndexFunc(pubs, func(p publication) bool { return !p.run.FinishedAt.Before(cut) })
	switch {
	case i < 0:
		return len(pubs) - 1
	case i == 0:
		return 0
	}
	return i - 1
}

func buildHistory(ctx context.Context, src Source, list model.List, pubs []publication) (*ListHistory, error) {
	b := newHistoryBuilder(list)
	for i, p := range pubs {
		v, err := readVersion(ctx, src, list, p)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			entries, err := readSnapshot(ctx, src, list, p.run)
			if err != nil {
				return nil, err
			}
			b.base(v, entries)
			continue
		}
		changes, err := readChanges(ctx, src, list, p.run)
		if err != nil {
			return nil, err
		}
		if err := b.apply(v, changes); err != nil {
			return nil, err
		}
	}
	return b.finish()
}

// readVersion is the version header a run published (v/), published when
// the run finished.
func readVersion(ctx context.Context, src Source, list model.List, p publication) (model.ListVersion, error) {
	var v model.ListVersion
	found := false
	key := model.ListOutputKey(model.ListKeyVersion, list, "")
	err := src.ReadOutputs(ctx, warehouse.OutputQuery{Job: JobLists, Version: p.run.Version, Payload: true, KeyPrefix: key},
		func(o warehouse.OutputRow) error {
			if o.Key != key {
				return nil
			}
			found = true
			return json.Unmarshal(o.Payload, &v)
		})
	switch {
	case err != nil:
		return v, fmt.Errorf("%s list version %d (run %s): %w", list, p.version, p.run.ID, err)
	case !found || v.Number != p.version || v.List != list:
		return v, fmt.Errorf("run %s says it published version %d of the %s list, its outputs say %+v", p.run.ID, p.version, list, v)
	}
	v.PublishedAt = *p.run.FinishedAt
	return v, nil
}

// readSnapshot is the listed entries of a run (e/), in key order.
func readSnapshot(ctx context.Context, src Source, list model.List, run warehouse.Run) ([]model.ListEntry, error) {
	var out []model.ListEntry
	err := src.ReadOutputs(ctx, warehouse.OutputQuery{Job: JobLists, Version: run.Version, Payload: true,
		KeyPrefix: model.ListOutputKey(model.ListKeyEntry, list, "") + "/"}, func(o warehouse.OutputRow) error {
		if o.Label != string(model.ListStateListed) {
			return nil
		}
		e, err := model.ParseListEntry(o.Payload)
		if err != nil {
			return fmt.Errorf("entry %s: %w", o.Key, err)
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s list snapshot of run %s: %w", list, run.ID, err)
	}
	return out, nil
}

// readChanges is the changes a run published (c/), in key order.
func readChanges(ctx context.Context, src Source, list model.List, run warehouse.Run) ([]model.ListChange, error) {
	var out []model.ListChange
	err := src.ReadOutputs(ctx, warehouse.OutputQuery{Job: JobLists, Version: run.Version, Payload: true,
		KeyPrefix: model.ListOutputKey(model.ListKeyChange, list, "") + "/"}, func(o warehouse.OutputRow) error {
		c, err := model.ParseListChange(o.Payload)
		if err != nil {
			return fmt.Errorf("change %s: %w", o.Key, err)
		}
		out = append(out, c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s list changes of run %s: %w", list, run.ID, err)
	}
	return out, nil
}
