package warehouse

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/qcredit/qcredit/model"
)

// What the supervision-planning jobs (plan, lottery, recheck, kpi) read, and
// the bureau's own planning records. Every read of events is bounded like a
// score run's: occurred_at in [From, Cutoff) and ingested_at ≤ Watermark.

// Window bounds a planning read: events with From ≤ occurred_at < Cutoff
// (a zero From: no lower bound) and ingested_at ≤ Watermark.
type Window struct {
	From, Cutoff, Watermark time.Time
}

// Validate checks the window.
func (w Window) Validate() error {
	var errs []error
	if w.Cutoff.IsZero() {
		errs = append(errs, errors.New("cutoff is required"))
	}
	if w.Watermark.IsZero() {
		errs = append(errs, errors.New("watermark is required"))
	}
	if !w.From.IsZero() && !w.From.Before(w.Cutoff) {
		errs = append(errs, fmt.Errorf("window starts (%s) at or after its cutoff (%s)", w.From, w.Cutoff))
	}
	return errors.Join(errs...)
}

// EventQuery selects events of some types in a window, for the planning
// jobs' low-volume reads (complaints, hazards, licences, problems,
// suggestions, applications).
type EventQuery struct {
	Window
	Types []model.EventType
}

// Validate checks the query: known types only (they are spelled into SQL).
func (q EventQuery) Validate() error {
	errs := []error{q.Window.Validate()}
	if len(q.Types) == 0 {
		errs = append(errs, errors.New("at least one event type is required"))
	}
	for _, t := range q.Types {
		if _, ok := model.EventSpecs[t]; !ok {
			errs = append(errs, fmt.Errorf("event type %q is not in contract v1", t))
		}
	}
	return errors.Join(errs...)
}

// TypeList is the query's types as a quoted SQL list; Validate first.
func (q EventQuery) TypeList() string {
	quoted := make([]string, len(q.Types))
	for i, t := range q.Types {
		quoted[i] = "'" + string(t) + "'"
	}
	return strings.Join(quoted, ", ")
}

// EventRow is one event as the planning jobs read it: its envelope, facets
// and data (compact JSON, keys sorted).
type EventRow struct {
	ID         string
	Type       model.EventType
	USCC       model.USCC // empty for events about no single enterprise
	Source     string
	OccurredAt time.Time
	Facets     model.Facets // Amount is not read
	Data       []byte
}

// FirmState is a registered enterprise's state at a cutoff, from its
// enterprise.* events under the watermark: the latest region and industry,
// when it was first registered and, if its latest registration event is a
// deregistration, when that was.
type FirmState struct {
	USCC           model.USCC
	Region         string
	Industry       string
	RegisteredAt   time.Time
	DeregisteredAt time.Time // zero while registered
}

// RegisteredOn reports whether the firm was registered and not deregistered
// at the instant t.
func (f FirmState) RegisteredOn(t time.Time) bool {
	return f.RegisteredAt.Before(t) && (f.DeregisteredAt.IsZero() || !f.DeregisteredAt.Before(t))
}

// ProductCheckQuery selects the spot checks of the plan's year.
type ProductCheckQuery struct {
	Window
	// RecentFrom: failures at or after it are listed by id.
	RecentFrom time.Time
}

// ProductCheck is one firm's spot checks of one product in the window.
type ProductCheck struct {
	USCC     model.USCC
	Product  string
	Checks   int64
	Failures int64
	// RecentFailures are the ids of failed checks at or after RecentFrom, ascending.
	RecentFailures []string
}

// MonthQuery buckets a window by calendar months: Starts are the months'
// first instants (Asia/Shanghai), ascending; an event is in bucket i when
// Starts[i] ≤ occurred_at < Starts[i+1] (the last bucket ends at Cutoff).
type MonthQuery struct {
	Starts            []time.Time
	Cutoff, Watermark time.Time
	// LateAfter: an event ingested more than this after it occurred is late.
	LateAfter time.Duration
}

// Validate checks the query.
func (q MonthQuery) Validate() error {
	errs := []error{Window{Cutoff: q.Cutoff, Watermark: q.Watermark}.Validate()}
	if len(q.Starts) == 0 || len(q.Starts) > 48 {
		errs = append(errs, errors.New("1–48 month starts are required"))
	}
	for i, s := range q.Starts {
		if (i > 0 && !s.After(q.Starts[i-1])) || !s.Before(q.Cutoff) {
			errs = append(errs, fmt.Errorf("month start %d must be after the previous one and before the cutoff", i))
		}
	}
	if q.LateAfter < 0 {
		errs = append(errs, errors.New("late_after must not be negative"))
	}
	return errors.Join(errs...)
}

// SourceMonth is what one reporting bureau (an event's source) sent in one
// month bucket: events that occurred in it, their reporting delays, and the
// dead letters received in it whose source could be read.
type SourceMonth struct {
	Source string
	Month  int // bucket index
	Events int64
	// DelaySeconds: Σ max(0, ⌊ingested⌋ − ⌊occurred⌋) in whole seconds.
	DelaySeconds int64
	LateEvents   int64
	DeadLetters  int64
}

// RecordKind is what a planning record is about.
type RecordKind string

const (
	// RecordKindInspector: an inspector of the pool (执法检查人员), by id.
	RecordKindInspector RecordKind = "inspector"
	// RecordKindAgency: a testing agency of the registry (承检机构), by id.
	RecordKindAgency RecordKind = "agency"
	// RecordKindDraw: a step of a verifiable draw (created, drawn), by draw id.
	RecordKindDraw RecordKind = "draw"
)

// PlanningRecord is one of the bureau's own planning records: append-only,
// the state (the inspector pool, the agency registry, each draw) derived
// from them in order. The warehouse stamps RecordedAt with the clock of
// ingested_at, so a run's watermark bounds records as it bounds events.
type PlanningRecord struct {
	Kind       RecordKind
	Key        string
	RecordedAt time.Time
	Body       []byte // JSON
}

// Validate checks a record before it is stored.
func (r PlanningRecord) Validate() error {
	var errs []error
	switch r.Kind {
	case RecordKindInspector, RecordKindAgency, RecordKindDraw:
	default:
		errs = append(errs, fmt.Errorf("record kind %q is not inspector, agency or draw", r.Kind))
	}
	if r.Key == "" || len(r.Key) > 128 {
		errs = append(errs, fmt.Errorf("record key %q: want 1–128 characters", r.Key))
	}
	if len(r.Body) == 0 {
		errs = append(errs, errors.New("record body is empty"))
	}
	return errors.Join(errs...)
}

// RecordQuery selects planning records of one kind (and key, when set)
// recorded before Cutoff and at or before Watermark (zero: no bound).
type RecordQuery struct {
	Kind              RecordKind
	Key               string
	Cutoff, Watermark time.Time
}

// ErrSeedExists is returned when a draw's seed is stored a second time:
// a seed, once committed to, never changes.
var ErrSeedExists = errors.New("a seed is already stored for this draw")
