package pipelines

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/qcredit/qcredit/lists"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// JobLists is the name of the lists job.
const JobLists = "lists"

// ListsSource is what the lists job reads: the firms and their listing
// records as the run knows them, the runs, and the outputs of the score run
// whose grades make the focus list and of the run that published each
// list's current version.
type ListsSource interface {
	ListingRecords
	FirmNames(ctx context.Context, q warehouse.NameQuery, fn func(warehouse.FirmName) error) error
	Runs(ctx context.Context, f warehouse.RunFilter) ([]warehouse.Run, error)
	ReadOutputs(ctx context.Context, q warehouse.OutputQuery, fn func(warehouse.OutputRow) error) error
}

// ListsJob decides the dishonest and focus lists and publishes a new
// version of a list when a run changes it (model.ListKey* says how the
// outputs are keyed). Default schedule: after score, in the same slot.
//
// Unlike other jobs, a lists run also depends on what was published before
// it: the focus list keeps a firm's listed_at while it stays on, and a
// version's changes are against the previous version. So a run publishes
// only when it would be the current run (it outranks every succeeded lists
// run: a backfill or a --like re-run of an old run publishes nothing), and
// the publication outputs (versions and changes) stay out of the digest: a
// re-run --like a run reproduces its digest.
type ListsJob struct {
	src   ListsSource
	rules *lists.Rules
	log   *slog.Logger
}

// NewListsJob builds the lists job.
func NewListsJob(src ListsSource, rules *lists.Rules, log *slog.Logger) *ListsJob {
	return &ListsJob{src: src, rules: rules, log: log}
}

func (j *ListsJob) Name() string         { return JobLists }
func (j *ListsJob) Schedule() string     { return "after " + JobScore }
func (j *ListsJob) ModelVersion() string { return j.rules.Version }

// Run decides both lists as of the run's as_of, publishes what changed and
// writes the outputs.
func (j *ListsJob) Run(ctx context.Context, in RunInput) (Output, error) {
	asOf, err := ParseAsOf(in.Run.AsOf, in.Run.StartedAt)
	if err != nil {
		return Output{}, err
	}
	runs, err := j.src.Runs(ctx, warehouse.RunFilter{Status: warehouse.RunSucceeded})
	if err != nil {
		return Output{}, err
	}
	score, err := scoreRunFor(runs, in.Run)
	if err != nil {
		return Output{}, err
	}
	counts := map[string]int64{"score_version": int64(score.Version)}
	current := map[model.List]*lists.Version{}
	for _, l := range model.Lists {
		if current[l], err = j.published(ctx, runs, l); err != nil {
			return Output{}, err
		}
	}
	ev, err := j.evaluate(ctx, in, asOf, score)
	if err != nil {
		return Output{}, err
	}
	entries := map[model.List][]model.ListEntry{model.ListDishonest: ev.dishonest}
	var focusCurrent []model.ListEntry
	if c := current[model.ListFocus]; c != nil {
		focusCurrent = c.Entries
	}
	if entries[model.ListFocus], err = j.rules.FocusEntries(lists.FocusInput{AsOf: asOf.Date, Graded: ev.graded, Current: focusCurrent}); err != nil {
		return Output{}, err
	}
	publishes := outranksAll(in.Run, runs)
	published := map[model.List]*lists.Version{}
	for _, l := range model.Lists {
		v, changed := current[l], false
		if publishes {
			next, ch, err := j.rules.Publish(lists.PublishInput{List: l, Current: current[l], Entries: entries[l], AsOf: asOf.Date})
			if err != nil {
				return Output{}, err
			}
			if v, changed = &next, ch; changed {
				published[l] = v
			}
		}
		counts[model.ListCountVersion(l)], counts[model.ListCountPublished(l)] = 0, 0
		if v != nil {
			counts[model.ListCountVersion(l)] = v.Number
		}
		if changed {
			counts[model.ListCountPublished(l)] = 1
			counts["changes_"+string(l)] = int64(len(v.Changes))
		}
		for _, e := range entries[l] {
			counts[string(l)+"_"+string(e.State)]++
		}
	}
	counts["firms"], counts["reviews"] = ev.firms, int64(len(ev.reviews))
	counts["unregistered_firms"], counts["unregistered_listable"] = ev.unregistered, ev.unregisteredListable
	if ev.unregisteredListable > 0 {
		in.Log.Warn("firms meet a listing rule but are not in the register (no enterprise.registered): not listed until registered",
			"firms", ev.unregisteredListable, "uscc", ev.unregisteredSample)
	}
	if err := writeListOutputs(in.Outputs, entries, ev.reviews, published); err != nil {
		return Output{}, err
	}
	return Output{Counts: counts}, nil
}

// scoreRunFor is the score run whose grades a lists run reads: the one its
// --like run read, else the current score run as of its as_of.
func scoreRunFor(runs []warehouse.Run, run warehouse.Run) (warehouse.Run, error) {
	if run.Like != "" {
		i := slices.IndexFunc(runs, func(r warehouse.Run) bool { return r.ID == run.Like })
		if i < 0 {
			return warehouse.Run{}, fmt.Errorf("lists: run %s to be like is not a succeeded run", run.Like)
		}
		v := int(runs[i].Counts["score_version"])
		if j := slices.IndexFunc(runs, func(r warehouse.Run) bool { return r.Job == JobScore && r.Version == v }); j >= 0 {
			return runs[j], nil
		}
		return warehouse.Run{}, fmt.Errorf("lists: score run %s that %s read is not a succeeded run", warehouse.RunID(JobScore, v), run.Like)
	}
	score, ok := warehouse.CurrentRun(runs, JobScore, run.AsOf)
	if !ok {
		return warehouse.Run{}, fmt.Errorf("lists: no succeeded score run as of %s or before: the focus list needs grades (run `qcredit pipeline run score --as-of %s` first)", run.AsOf, run.AsOf)
	}
	return score, nil
}

// outranksAll reports whether run would be the current lists run once it
// succeeds: no succeeded lists run ranks before it (warehouse.ByRecency).
func outranksAll(run warehouse.Run, runs []warehouse.Run) bool {
	for _, r := range runs {
		if r.Job == JobLists && warehouse.ByRecency(run, r) > 0 {
			return false
		}
	}
	return true
}

// PublishingRun is the succeeded lists run that published the list's
// latest version, if any.
func PublishingRun(runs []warehouse.Run, l model.List) (warehouse.Run, bool) {
	var best warehouse.Run
	found := false
	for _, r := range runs {
		if r.Job != JobLists || r.Status != warehouse.RunSucceeded || r.Counts[model.ListCountPublished(l)] != 1 {
			continue
		}
		if !found || r.Counts[model.ListCountVersion(l)] > best.Counts[model.ListCountVersion(l)] {
			best, found = r, true
		}
	}
	return best, found
}

// published is the list's latest published version with its snapshot, read
// from the outputs of the run that published it; nil before the first.
func (j *ListsJob) published(ctx context.Context, runs []warehouse.Run, l model.List) (*lists.Version, error) {
	run, ok := PublishingRun(runs, l)
	if !ok {
		return nil, nil
	}
	v := &lists.Version{ListVersion: model.ListVersion{List: l, Number: run.Counts[model.ListCountVersion(l)], AsOf: run.AsOf}}
	if run.FinishedAt != nil {
		v.PublishedAt = *run.FinishedAt
	}
	err := j.src.ReadOutputs(ctx, warehouse.OutputQuery{Job: JobLists, Version: run.Version, Payload: true,
		KeyPrefix: model.ListOutputKey(model.ListKeyEntry, l, "") + "/"}, func(o warehouse.OutputRow) error {
		if o.Label != string(model.ListStateListed) {
			return nil
		}
		e, err := model.ParseListEntry(o.Payload)
		if err != nil {
			return fmt.Errorf("entry %s: %w", o.Key, err)
		}
		v.Entries = append(v.Entries, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("lists: the %s list's version %d (run %s): %w", l, v.Number, run.ID, err)
	}
	return v, nil
}

// evaluation is what one pass over the firms gives.
type evaluation struct {
	dishonest []model.ListEntry // every state, by key
	reviews   []lists.Review
	graded    []lists.GradedFirm // the firms the focus list names a grade of
	firms     int64
	// unregistered are the firms with listing records but no
	// enterprise.registered under the run's watermark: neither scored nor
	// listed (a listing needs the name the register gives), so counted,
	// with those of them that meet a rule (pending or listed were they
	// registered) and a few of those for the log.
	unregistered, unregisteredListable int64
	unregisteredSample                 []model.USCC
}

// unregisteredSampleSize is how many unregistered firms that meet a rule a
// run names in its log.
const unregisteredSampleSize = 20

// evaluate merges the registered firms, their listing records and the
// score run's grades, all in USCC order, and evaluates every firm.
func (j *ListsJob) evaluate(ctx context.Context, in RunInput, asOf AsOf, score warehouse.Run) (evaluation, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	names := startStream(ctx, func(ctx context.Context, emit func(warehouse.FirmName) error) error {
		return j.src.FirmNames(ctx, warehouse.NameQuery{Cutoff: in.Cutoff, Watermark: in.Watermark}, emit)
	})
	records := startStream(ctx, func(ctx context.Context, emit func(warehouse.FirmRecords) error) error {
		return j.src.ListingRecords(ctx, warehouse.ListingQuery{Since: j.rules.Horizon(asOf.Date), Cutoff: in.Cutoff, Watermark: in.Watermark}, emit)
	})
	grades := startStream(ctx, func(ctx context.Context, emit func(warehouse.OutputRow) error) error {
		return j.src.ReadOutputs(ctx, warehouse.OutputQuery{Job: JobScore, Version: score.Version}, emit)
	})
	ev, err := j.evaluateAll(asOf, names, records, grades)
	if err != nil {
		cancel(err) // the reads stop: their errors would only repeat it
	}
	if readErr := errors.Join(names.close(), records.close(), grades.close()); err == nil {
		err = readErr
	}
	if err != nil {
		return evaluation{}, fmt.Errorf("lists: %w", err)
	}
	slices.SortFunc(ev.dishonest, model.CompareListEntries)
	slices.SortFunc(ev.reviews, lists.CompareReviews)
	return ev, nil
}

func (j *ListsJob) evaluateAll(asOf AsOf, names *stream[warehouse.FirmName], records *stream[warehouse.FirmRecords],
	grades *stream[warehouse.OutputRow]) (evaluation, error) {
	var ev evaluation
	for n, ok := names.take(); ok; n, ok = names.take() {
		ev.firms++
		rec := lists.FirmRecords{USCC: n.USCC}
		for r, ok := records.peek(); ok && r.USCC <= n.USCC; r, ok = records.peek() {
			records.take()
			var err error
			if r.USCC == n.USCC {
				rec, err = firmRecords(r)
			} else {
				err = j.unregistered(&ev, r, asOf)
			}
			if err != nil {
				return ev, err
			}
		}
		rec.Name = n.Name
		st, err := j.rules.Evaluate(rec, asOf.Date)
		if err != nil {
			return ev, err
		}
		ev.dishonest = append(ev.dishonest, st.Entries...)
		ev.reviews = append(ev.reviews, st.Reviews...)
		for g, ok := grades.peek(); ok && g.Key <= string(n.USCC); g, ok = grades.peek() {
			grades.take()
			if g.Key == string(n.USCC) && j.rules.FocusNames(model.Grade(g.Label)) {
				ev.graded = append(ev.graded, lists.GradedFirm{USCC: n.USCC, Name: n.Name, Grade: model.Grade(g.Label)})
			}
		}
	}
	for r, ok := records.take(); ok; r, ok = records.take() {
		if err := j.unregistered(&ev, r, asOf); err != nil {
			return ev, err
		}
	}
	return ev, nil
}

// unregistered counts a firm with listing records that the register does
// not hold, and whether it meets a rule.
func (j *ListsJob) unregistered(ev *evaluation, r warehouse.FirmRecords, asOf AsOf) error {
	ev.unregistered++
	rec, err := firmRecords(r)
	if err != nil {
		return err
	}
	st, err := j.rules.Evaluate(rec, asOf.Date)
	if err != nil {
		return err
	}
	if slices.ContainsFunc(st.Entries, func(e model.ListEntry) bool {
		return e.State == model.ListStatePending || e.State == model.ListStateListed
	}) {
		ev.unregisteredListable++
		if len(ev.unregisteredSample) < unregisteredSampleSize {
			ev.unregisteredSample = append(ev.unregisteredSample, r.USCC)
		}
	}
	return nil
}

// writeListOutputs writes a run's outputs in key order: the changes of the
// versions it published (c/), the entries (e/), the reviews (r/) and the
// versions (v/); changes and versions outside the digest.
func writeListOutputs(w *OutputWriter, entries map[model.List][]model.ListEntry, reviews []lists.Review,
	published map[model.List]*lists.Version) error {
	for _, l := range model.Lists {
		if v := published[l]; v != nil {
			for i := range v.Changes {
				c := &v.Changes[i]
				line := c.AppendCanonical(nil)
				if err := w.AddUndigested(warehouse.OutputRow{Key: model.ListOutputKey(model.ListKeyChange, l, c.Key), USCC: string(c.USCC),
					Label: string(c.Op), Payload: line[:len(line)-1]}); err != nil {
					return err
				}
			}
		}
	}
	for _, l := range model.Lists {
		for i := range entries[l] {
			e := &entries[l][i]
			if l == model.ListFocus && e.State != model.ListStateListed {
				continue // a focus removal is a change of the version, nothing more
			}
			line := e.AppendCanonical(nil)
			if err := w.Add(warehouse.OutputRow{Key: model.ListOutputKey(model.ListKeyEntry, l, e.Key), USCC: string(e.USCC),
				Label: string(e.State), Payload: line[:len(line)-1]}); err != nil {
				return err
			}
		}
	}
	n, last := 0, model.USCC("")
	for i := range reviews {
		r := &reviews[i]
		if r.USCC != last {
			n, last = 0, r.USCC
		}
		n++
		line, err := lists.AppendReview(nil, r)
		if err != nil {
			return err
		}
		if err := w.Add(warehouse.OutputRow{Key: string(model.ListKeyReview) + string(r.USCC) + "/" + fmt.Sprintf("%04d", n),
			USCC: string(r.USCC), Label: string(r.Kind), Payload: line[:len(line)-1]}); err != nil {
			return err
		}
	}
	for _, l := range model.Lists {
		if v := published[l]; v != nil {
			header, err := json.Marshal(v.ListVersion)
			if err != nil {
				return err
			}
			if err := w.AddUndigested(warehouse.OutputRow{Key: model.ListOutputKey(model.ListKeyVersion, l, ""), Label: string(l),
				Value: v.Number, Payload: header}); err != nil {
				return err
			}
		}
	}
	return nil
}
