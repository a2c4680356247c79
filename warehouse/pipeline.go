package warehouse

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/qcredit/qcredit/model"
)

// PipelineStore is what the pipelines and the analyst API need of a
// warehouse beyond Store: feature aggregation pushed down to SQL, run
// records, and the score outputs. It is separate from Store so a backend can
// implement it after the fact; callers type-assert a Store to it.
type PipelineStore interface {
	// ScoreFeatures aggregates the events of q's window per enterprise and
	// calls fn once per registered enterprise (an enterprise.registered event
	// before q.Cutoff), in ascending USCC order, with its feature rows sorted
	// by (kind, sub, category, flag). Enterprises without records in the
	// window get fn with no rows. The rows must be identical on every backend.
	ScoreFeatures(ctx context.Context, q FeatureQuery, fn func(EnterpriseFeatures) error) error

	// BeginRun stores a new run record (status running).
	BeginRun(ctx context.Context, r Run) error
	// FinishRun updates a run record with its end, status, counts, digest and error.
	FinishRun(ctx context.Context, r Run) error
	// Runs lists run records, newest start first.
	Runs(ctx context.Context, f RunFilter) ([]Run, error)

	// WriteScores appends scores of a running run; a failed run's scores are
	// never read (readers take succeeded runs only).
	WriteScores(ctx context.Context, scores []ScoreRow) error
	// LatestScore is the enterprise's score in the latest succeeded score run
	// (greatest as_of, then latest finish), or ErrNotFound.
	LatestScore(ctx context.Context, uscc model.USCC) (ScoreRow, error)
	// ScoreHistory is the enterprise's scores over succeeded runs, newest as_of first.
	ScoreHistory(ctx context.Context, uscc model.USCC, limit int) ([]ScoreRow, error)
	// ListScores pages through the latest run's scores with filters, in USCC order.
	ListScores(ctx context.Context, f ScoreFilter) (ScorePage, error)
	// Timeline is the enterprise's events ordered by (occurred_at, id), at most limit.
	Timeline(ctx context.Context, uscc model.USCC, limit int) ([]model.Event, error)
}

// Feature kinds: what the score aggregation groups events into. Rows carry
// Sub, Category and Flag as documented per kind.
const (
	KindRegistered = "registered" // enterprise.registered; no window filter
	KindSpotCheck  = "spot_check" // sub: "pass" or the failure severity; flag "retest" when a failed check has retest_of
	KindInspection = "inspection" // equipment.inspected; sub: pass/fail
	// Rows with sub "pass" (passed checks and inspections, most of all
	// events) carry one id, the greatest: grade A evidence needs one, and
	// listing them all would dominate the run's cost and storage.
	KindPenalty        = "penalty"         // penalty.decided not revoked by a penalty.revoked of the same case_no before the cutoff; sub: severity; category: violation; flag "repaired" when a credit.repaired names its case_no
	KindLicenceRevoked = "licence_revoked" // category: reason
	KindHazard         = "hazard"          // equipment.hazard_found; sub: serious/ordinary; flag "overdue" when due < as_of and no hazard_corrected of its hazard_id before the cutoff
	KindAccident       = "accident"        // sub: accident grade
	KindComplaint      = "complaint"       // complaint.closed with verified = true
	KindCertification  = "certification"   // certification.granted not withdrawn (same cert_no) before the cutoff
	KindStandard       = "standard"        // standard.declared
	KindAward          = "award"           // award.granted
)

// FeatureQuery is the window of one score run.
type FeatureQuery struct {
	// Cutoff is the end of the as_of day (exclusive): events with
	// occurred_at < Cutoff are read, nothing later.
	Cutoff time.Time
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

// FeatureRow is one group of an enterprise's events (see the Kind constants).
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

// RunStatus is the state of a pipeline run.
type RunStatus string

const (
	RunRunning   RunStatus = "running"
	RunSucceeded RunStatus = "succeeded"
	RunFailed    RunStatus = "failed"
)

// Run is the record of one pipeline run.
type Run struct {
	ID           string           `json:"id"`
	Job          string           `json:"job"`
	AsOf         string           `json:"as_of"` // YYYY-MM-DD
	StartedAt    time.Time        `json:"started_at"`
	FinishedAt   *time.Time       `json:"finished_at,omitempty"`
	Status       RunStatus        `json:"status"`
	Counts       map[string]int64 `json:"counts"`
	ModelVersion string           `json:"model_version"`
	// Digest is the SHA-256 of the run's outputs in canonical order.
	Digest string `json:"digest,omitempty"`
	Error  string `json:"error,omitempty"`
}

// RunFilter selects run records; zero values select all.
type RunFilter struct {
	Job   string
	Limit int
}

// ScoreRow is one enterprise's score in one run.
type ScoreRow struct {
	RunID        string     `json:"run_id"`
	USCC         model.USCC `json:"uscc"`
	AsOf         string     `json:"as_of"`
	ModelVersion string     `json:"model_version"`
	// ScoreTenths is the score in tenths of a point (855 = 85.5).
	ScoreTenths int64  `json:"-"`
	Grade       string `json:"grade"`
	// Reasons are the scorecard's reasons as JSON (an array).
	Reasons json.RawMessage `json:"reasons,omitempty"`
}

// ScoreFilter selects scores of the latest run.
type ScoreFilter struct {
	Grade    string
	Region   string // GB/T 2260 county code
	Industry string // GB/T 4754 code or prefix (C33 matches C3311)
	Cluster  string // declared cluster id, else county-division ("320830-C13")
	Limit    int
	Offset   int
}

// Validate checks the filter.
func (f ScoreFilter) Validate() error {
	var errs []error
	if f.Limit < 1 || f.Limit > 1000 {
		errs = append(errs, fmt.Errorf("limit must be 1–1000, got %d", f.Limit))
	}
	if f.Offset < 0 {
		errs = append(errs, errors.New("offset must not be negative"))
	}
	switch f.Grade {
	case "", "A", "B", "C", "D":
	default:
		errs = append(errs, fmt.Errorf("grade %q is not A, B, C or D", f.Grade))
	}
	return errors.Join(errs...)
}

// ScoredEnterprise is one item of a score listing.
type ScoredEnterprise struct {
	ScoreRow
	Name     string `json:"name"`
	Region   string `json:"region"`
	Industry string `json:"industry"`
	Cluster  string `json:"cluster"`
}

// ScorePage is a page of a score listing with the total that matched.
type ScorePage struct {
	RunID string             `json:"run_id"`
	AsOf  string             `json:"as_of"`
	Total int64              `json:"total"`
	Items []ScoredEnterprise `json:"items"`
}

// ScanScoreRow scans the score columns every backend selects, in this order:
// run_id, uscc, as_of (YYYY-MM-DD), model_version, score_tenths, grade,
// reasons; extra receives any further columns.
func ScanScoreRow(sc interface{ Scan(...any) error }, extra ...any) (ScoreRow, error) {
	var r ScoreRow
	var reasons, uscc string
	dest := append([]any{&r.RunID, &uscc, &r.AsOf, &r.ModelVersion, &r.ScoreTenths, &r.Grade, &reasons}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return r, err
	}
	r.USCC, r.Reasons = model.USCC(uscc), json.RawMessage(reasons)
	return r, nil
}

// Rows is a query result as both backends' drivers return it.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// ScanScoreRows reads every row of the score columns (see ScanScoreRow).
func ScanScoreRows(rows Rows) ([]ScoreRow, error) {
	var out []ScoreRow
	for rows.Next() {
		r, err := ScanScoreRow(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ScanScoredEnterprises reads every row of the score columns followed by
// name, region, industry and cluster.
func ScanScoredEnterprises(rows Rows) ([]ScoredEnterprise, error) {
	out := []ScoredEnterprise{}
	for rows.Next() {
		var it ScoredEnterprise
		var err error
		if it.ScoreRow, err = ScanScoreRow(rows, &it.Name, &it.Region, &it.Industry, &it.Cluster); err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// FeatureFolder groups feature rows, streamed in USCC order, into one
// EnterpriseFeatures per enterprise and hands each to fn. Enterprises without
// a KindRegistered row are not registered and are skipped. Each enterprise's
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
	if r.Kind == KindRegistered {
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
