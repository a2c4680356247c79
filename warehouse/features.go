package warehouse

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/qcredit/qcredit/model"
)

// FeatureQuery is the window of one score run. See model.FeatureKind for
// what the rows mean.
type FeatureQuery struct {
	// Cutoff is the end of the as_of day (exclusive): events with
	// occurred_at < Cutoff are read, nothing later.
	Cutoff time.Time
	// Watermark bounds what the run knows: only events with ingested_at ≤
	// Watermark are read, so a re-run with the same watermark reads the
	// same events even after late reports arrived.
	Watermark time.Time
	// AsOf is the as_of date; hazards with a deadline before it are overdue.
	AsOf string
	// Bounds are the window starts, newest first: an event is in window i
	// when Bounds[i] ≤ occurred_at < (i == 0 ? Cutoff : Bounds[i-1]); events
	// before the last bound are out of the look-back.
	Bounds []time.Time
}

// Validate checks the query.
func (q FeatureQuery) Validate() error {
	var errs []error
	if q.Cutoff.IsZero() {
		errs = append(errs, errors.New("cutoff is required"))
	}
	if q.Watermark.IsZero() {
		errs = append(errs, errors.New("watermark is required"))
	}
	if _, err := time.Parse(time.DateOnly, q.AsOf); err != nil {
		errs = append(errs, fmt.Errorf("as_of %q is not YYYY-MM-DD", q.AsOf))
	}
	if len(q.Bounds) == 0 || len(q.Bounds) > 6 {
		errs = append(errs, errors.New("1–6 window bounds are required"))
	}
	prev := q.Cutoff
	for i, b := range q.Bounds {
		if !b.Before(prev) {
			errs = append(errs, fmt.Errorf("bound %d must be before the previous one", i))
		}
		prev = b
	}
	return errors.Join(errs...)
}

// FeatureRow is one group of an enterprise's events (see model.FeatureKind).
type FeatureRow struct {
	Kind     string
	Sub      string
	Category string
	Flag     string
	Counts   []int64  // per window of the query
	IDs      []string // ascending
}

// EnterpriseFeatures are one enterprise's rows (the registration row excluded).
type EnterpriseFeatures struct {
	USCC model.USCC
	Rows []FeatureRow
}

// FeatureFolder groups feature rows, streamed in USCC order, into one
// EnterpriseFeatures per enterprise and hands each to fn. Enterprises without
// a registration row are not registered and are skipped. Each enterprise's
// rows are sorted by (kind, sub, category, flag), so backends only have to
// order their query by USCC.
type FeatureFolder struct {
	fn         func(EnterpriseFeatures) error
	cur        EnterpriseFeatures
	registered bool
}

// NewFeatureFolder folds into fn.
func NewFeatureFolder(fn func(EnterpriseFeatures) error) *FeatureFolder {
	return &FeatureFolder{fn: fn}
}

// Add takes the next row of uscc.
func (f *FeatureFolder) Add(uscc model.USCC, r FeatureRow) error {
	if uscc != f.cur.USCC {
		if err := f.flush(); err != nil {
			return err
		}
		f.cur, f.registered = EnterpriseFeatures{USCC: uscc}, false
	}
	if r.Kind == string(model.FeatureRegistered) {
		f.registered = true
		return nil
	}
	f.cur.Rows = append(f.cur.Rows, r)
	return nil
}

// Close hands over the last enterprise.
func (f *FeatureFolder) Close() error { return f.flush() }

func (f *FeatureFolder) flush() error {
	if f.cur.USCC == "" || !f.registered {
		return nil
	}
	slices.SortFunc(f.cur.Rows, func(a, b FeatureRow) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Sub, b.Sub),
			cmp.Compare(a.Category, b.Category), cmp.Compare(a.Flag, b.Flag))
	})
	return f.fn(f.cur)
}
