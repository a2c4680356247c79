package clusters

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/qcredit/qcredit/model"
)

// AnalystEvent is one of an analyst's events on a warning
// (model.EventWarningAcknowledged, model.EventWarningActionRecorded: events
// like any report, so a run reads them under its watermark).
type AnalystEvent struct {
	EventID    string
	Type       model.EventType
	WarningID  string
	OccurredAt time.Time
	Analyst    string
	Action     string
	Note       string
}

// TrackInput is what Track needs: this run's result, the warnings of the
// current output before it, and the analysts' warning events.
type TrackInput struct {
	Result *Result
	// Previous are the warnings of the current output with an as_of before
	// this run's (never this as_of's own earlier run: re-running a day
	// replaces its output rather than stacking on it).
	Previous []model.Warning
	// Events may hold events already applied (skipped by id) and events
	// after this run's cutoff (left for a later run).
	Events []AnalystEvent
}

// Validate says what is wrong with the input.
func (in *TrackInput) Validate() error {
	if in.Result == nil {
		return errors.New("track warnings: the run's result is required")
	}
	p := problems{}
	if _, err := ParseAsOf(in.Result.AsOf); err != nil {
		p.add(err)
	}
	ids, open := map[string]bool{}, map[string]string{}
	for _, w := range in.Previous {
		switch {
		case w.ID == "" || w.Cluster == "":
			p.addf("previous warning %q: id and cluster are required", w.ID)
		case ids[w.ID]:
			p.addf("previous warning %s: listed twice", w.ID)
		case w.Status == model.WarningStatusOpen && open[w.Cluster] != "":
			p.addf("previous warnings %s and %s: both open for cluster %s", open[w.Cluster], w.ID, w.Cluster)
		}
		ids[w.ID] = true
		if w.Status == model.WarningStatusOpen {
			open[w.Cluster] = w.ID
		}
		for _, h := range w.History {
			if h.AsOf >= in.Result.AsOf {
				p.addf("previous warning %s: history of %s is not before this run's as_of %s (pass the output before this as_of)",
					w.ID, h.AsOf, in.Result.AsOf)
				break
			}
		}
	}
	for i, e := range in.Events {
		switch {
		case e.EventID == "" || e.WarningID == "" || e.OccurredAt.IsZero():
			p.addf("analyst event %d: event id, warning_id and occurred_at are required", i)
		case e.Type != model.EventWarningAcknowledged && e.Type != model.EventWarningActionRecorded:
			p.addf("analyst event %s: type %q is not %s or %s", e.EventID, e.Type, model.EventWarningAcknowledged, model.EventWarningActionRecorded)
		case e.Analyst == "":
			p.addf("analyst event %s: analyst is required", e.EventID)
		case e.Type == model.EventWarningActionRecorded && strings.TrimSpace(e.Action) == "":
			p.addf("analyst event %s: action is required", e.EventID)
		}
	}
	return p.err()
}

// Tracked is the warnings after a run, by id, and the analyst events that
// could not be applied, with why.
type Tracked struct {
	Warnings []model.Warning      `json:"warnings"`
	Ignored  []model.IgnoredEvent `json:"ignored"`
}

// Track carries warnings across runs: it applies the analysts' events,
// then raises, escalates, de-escalates or closes each cluster's warning by
// its level in this run, and drops warnings closed longer ago than
// lifecycle.keep_closed_months. It is pure and leaves Previous untouched.
func (c *Config) Track(in TrackInput) (Tracked, error) {
	if err := in.Validate(); err != nil {
		return Tracked{}, fmt.Errorf("track warnings: %w", err)
	}
	t := tracker{cfg: c, res: in.Result, byID: map[string]*model.Warning{}, open: map[string]*model.Warning{}}
	for _, w := range in.Previous {
		t.add(cloneWarning(w))
	}
	t.applyEvents(in.Events)
	seen := map[string]bool{}
	for _, a := range in.Result.Clusters {
		seen[a.Cluster] = true
		t.advance(a)
	}
	for _, w := range t.sortedOpen() {
		if !seen[w.Cluster] {
			t.close(w, w.Assessment, "the cluster has no enterprise at the cutoff")
		}
	}
	return t.result(), nil
}

type tracker struct {
	cfg     *Config
	res     *Result
	all     []*model.Warning
	byID    map[string]*model.Warning
	open    map[string]*model.Warning // by cluster
	ignored []model.IgnoredEvent
}

func cloneWarning(w model.Warning) *model.Warning {
	w.Actions = slices.Clone(w.Actions)
	w.History = slices.Clone(w.History)
	return &w
}

func (t *tracker) add(w *model.Warning) {
	t.all = append(t.all, w)
	t.byID[w.ID] = w
	if w.Status == model.WarningStatusOpen {
		t.open[w.Cluster] = w
	}
}

// applyEvents applies acknowledgements and actions in (occurred_at, id)
// order. They happened before this run's cutoff, so before its level changes.
func (t *tracker) applyEvents(events []AnalystEvent) {
	events = slices.Clone(events)
	slices.SortFunc(events, func(a, b AnalystEvent) int {
		return cmp.Or(a.OccurredAt.Compare(b.OccurredAt), strings.Compare(a.EventID, b.EventID))
	})
	for _, e := range events {
		e.OccurredAt = e.OccurredAt.In(model.Shanghai) // one zone in outputs, whatever the warehouse returned
		if !e.OccurredAt.Before(t.res.Window.Cutoff) {
			continue // a later run reads it
		}
		w := t.byID[e.WarningID]
		if w == nil {
			t.ignored = append(t.ignored, model.IgnoredEvent{EventID: e.EventID, Reason: fmt.Sprintf("no current warning %s", e.WarningID)})
			continue
		}
		if slices.ContainsFunc(w.History, func(h model.WarningChange) bool { return h.EventID == e.EventID }) {
			continue // applied by an earlier run
		}
		h := model.WarningChange{AsOf: t.res.AsOf, From: w.Level, To: w.Level, EventID: e.EventID, Analyst: e.Analyst, At: e.OccurredAt, Detail: e.Note}
		switch e.Type {
		case model.EventWarningAcknowledged:
			h.Change = model.ChangeKindAcknowledged
			w.Acknowledgement = &model.Acknowledgement{EventID: e.EventID, Analyst: e.Analyst, At: e.OccurredAt, Level: w.Level, Note: e.Note}
		case model.EventWarningActionRecorded:
			h.Change, h.Detail = model.ChangeKindActionRecorded, e.Action
			w.Actions = append(w.Actions, model.WarningAction{EventID: e.EventID, Analyst: e.Analyst, At: e.OccurredAt, Action: e.Action, Note: e.Note})
		}
		w.History = append(w.History, h)
	}
}

// advance moves a cluster's warning to its level in this run.
func (t *tracker) advance(a model.ClusterAssessment) {
	w := t.open[a.Cluster]
	raised := w == nil || a.Level.Rank() > w.Level.Rank()
	switch {
	case w == nil && a.Level == model.LevelNone:
		return
	case w == nil:
		w = &model.Warning{ID: t.newID(a.Cluster), Cluster: a.Cluster, Status: model.WarningStatusOpen, Peak: a.Level,
			RaisedOn: t.res.AsOf, ChangedOn: t.res.AsOf, Actions: []model.WarningAction{}}
		w.History = []model.WarningChange{{AsOf: t.res.AsOf, Change: model.ChangeKindRaised, From: model.LevelNone, To: a.Level, Detail: signalText(a)}}
		t.add(w)
	case a.Level == model.LevelNone:
		t.close(w, a, closing(a))
		return
	case a.Level.Rank() > w.Level.Rank():
		w.History = append(w.History, model.WarningChange{AsOf: t.res.AsOf, Change: model.ChangeKindEscalated, From: w.Level, To: a.Level, Detail: signalText(a)})
		w.ChangedOn = t.res.AsOf
	case a.Level.Rank() < w.Level.Rank():
		w.History = append(w.History, model.WarningChange{AsOf: t.res.AsOf, Change: model.ChangeKindDeescalated, From: w.Level, To: a.Level, Detail: signalText(a)})
		w.ChangedOn = t.res.AsOf
	}
	w.Level = a.Level
	if r, ok := t.cfg.rule(a.Level); raised && ok && r.Letter {
		w.LetterOn = t.res.AsOf // this run writes its letter
	}
	if a.Level.Rank() > w.Peak.Rank() {
		w.Peak = a.Level
	}
	w.Division, w.County, w.Assessment = a.Division, a.County, a
}

func (t *tracker) close(w *model.Warning, a model.ClusterAssessment, why string) {
	w.History = append(w.History, model.WarningChange{AsOf: t.res.AsOf, Change: model.ChangeKindClosed, From: w.Level, To: model.LevelNone, Detail: why})
	w.Status, w.Level, w.ClosedOn, w.ChangedOn, w.Assessment = model.WarningStatusClosed, model.LevelNone, t.res.AsOf, t.res.AsOf, a
	delete(t.open, w.Cluster)
}

func (t *tracker) sortedOpen() []*model.Warning {
	var out []*model.Warning
	for _, w := range t.all {
		if w.Status == model.WarningStatusOpen {
			out = append(out, w)
		}
	}
	slices.SortFunc(out, func(a, b *model.Warning) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// result drops warnings closed before the retention and orders by id.
func (t *tracker) result() Tracked {
	d, _ := ParseAsOf(t.res.AsOf) // checked by Validate
	keepFrom := d.AddDate(0, -t.cfg.KeepClosedMonths, 0).Format(time.DateOnly)
	out := Tracked{Warnings: []model.Warning{}, Ignored: t.ignored}
	for _, w := range t.all {
		if w.Status == model.WarningStatusClosed && w.ClosedOn < keepFrom {
			continue
		}
		w.NeedsAcknowledgement = w.Status == model.WarningStatusOpen &&
			(w.Acknowledgement == nil || w.Acknowledgement.Level.Rank() < w.Level.Rank())
		out.Warnings = append(out.Warnings, *w)
	}
	slices.SortFunc(out.Warnings, func(a, b model.Warning) int { return strings.Compare(a.ID, b.ID) })
	if out.Ignored == nil {
		out.Ignored = []model.IgnoredEvent{}
	}
	return out
}

var urlSafe = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// newID names a new episode of the cluster raised in this run.
func (t *tracker) newID(cluster string) string {
	key := cluster
	if !urlSafe.MatchString(key) {
		sum := sha256.Sum256([]byte(cluster))
		key = "h" + hex.EncodeToString(sum[:])[:12]
	}
	return "cw-" + key + "-" + strings.ReplaceAll(t.res.AsOf, "-", "")
}

func signalText(a model.ClusterAssessment) string {
	s := make([]string, len(a.Signals))
	for i, sig := range a.Signals {
		s[i] = string(sig)
	}
	return "signals: " + strings.Join(s, ", ")
}

// closing says why a cluster no longer has a level.
func closing(a model.ClusterAssessment) string {
	if a.Status == model.AssessmentStatusInsufficientData {
		for _, r := range a.Reasons {
			if r.Rule == RuleInsufficientData {
				return r.Detail
			}
		}
	}
	return fmt.Sprintf("no signal: z' = %.3f, CUSUM S = %.3f", a.Evidence.ZAdjusted, a.Evidence.CUSUM.Final)
}
