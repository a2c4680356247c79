package pipelines

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/qcredit/qcredit/lists"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/scoring"
	"github.com/qcredit/qcredit/warehouse"
)

// JobScore is the name of the score job.
const JobScore = "score"

// ScoreJob computes every registered enterprise's quality-credit score and
// grade from the features the warehouse aggregates, with their reasons.
// A firm on the serious dishonest list grades D: the job evaluates the
// listing rules (lists.Rules) over each firm's listing records, the same
// evaluation the lists job publishes, so "listed" and "grade D" agree.
// Its outputs are keyed by USCC: label the grade, value the score in
// tenths, payload the reasons (JSON). Default schedule: daily at 02:00
// Asia/Shanghai.
type ScoreJob struct {
	features  ScoreFeatures
	listing   ListingRecords
	scorecard *scoring.Scorecard
	rules     *lists.Rules
	log       *slog.Logger
	// ProgressEvery logs progress after this many enterprises.
	ProgressEvery int64
}

// ScoreJobInput is what the score job is built from.
type ScoreJobInput struct {
	Features  ScoreFeatures
	Listing   ListingRecords
	Scorecard *scoring.Scorecard
	Rules     *lists.Rules
	Log       *slog.Logger
}

// Validate says what is missing.
func (in ScoreJobInput) Validate() error {
	if in.Features == nil || in.Listing == nil || in.Scorecard == nil || in.Rules == nil || in.Log == nil {
		return errors.New("score job: features, listing records, scorecard, listing rules and a logger are required")
	}
	return nil
}

// NewScoreJob builds the score job.
func NewScoreJob(in ScoreJobInput) (*ScoreJob, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	return &ScoreJob{features: in.Features, listing: in.Listing, scorecard: in.Scorecard, rules: in.Rules, log: in.Log,
		ProgressEvery: 100000}, nil
}

func (j *ScoreJob) Name() string     { return JobScore }
func (j *ScoreJob) Schedule() string { return "0 2 * * *" }

// ModelVersion names both files a score rests on: sc-…+ls-….
func (j *ScoreJob) ModelVersion() string { return j.scorecard.Version + "+" + j.rules.Version }

// Run scores every enterprise in USCC order. First it evaluates the listing
// rules over every firm's listing records and keeps the listed firms'
// reasons (in USCC order); then the warehouse streams the features into a
// channel while this goroutine scores them in order, merging in the
// listings (the outputs must come in key order), and the output writer
// writes full batches on its own. The two reads run one after the other:
// together they fought over DuckDB's threads and the features came 20 s
// later (1M firms, 30M events: 23 s before the first feature alone).
func (j *ScoreJob) Run(ctx context.Context, in RunInput) (Output, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	asOf, err := ParseAsOf(in.Run.AsOf, time.Time{})
	if err != nil {
		return Output{}, err
	}
	q := warehouse.FeatureQuery{Cutoff: in.Cutoff, Watermark: in.Watermark, AsOf: in.Run.AsOf, Bounds: j.scorecard.Bounds(in.Cutoff)}
	lq := warehouse.ListingQuery{Since: j.rules.Horizon(asOf.Date), Cutoff: in.Cutoff, Watermark: in.Watermark}
	s := scorer{job: j, in: in, counts: map[string]int64{"enterprises": 0, "reasons": 0, "listed": 0},
		started: time.Now()}
	for _, g := range model.Grades {
		s.counts["grade_"+string(g)] = 0
	}
	if s.listed, err = j.listedFirms(ctx, lq, asOf.Date); err != nil {
		return Output{}, err
	}
	in.Log.Info("listing rules evaluated", "listed", len(s.listed), "elapsed", time.Since(s.started).Round(time.Millisecond))
	features := make(chan warehouse.EnterpriseFeatures, 1024)
	scored := make(chan struct{})
	go func() {
		defer close(scored)
		s.scoreAll(ctx, cancel, features)
	}()
	readErr := j.features.ScoreFeatures(ctx, q, func(f warehouse.EnterpriseFeatures) error {
		select {
		case features <- f:
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	})
	close(features)
	if readErr != nil {
		cancel(readErr)
	}
	<-scored
	if err := cmp.Or(readErr, context.Cause(ctx)); err != nil {
		return Output{}, err
	}
	return Output{Counts: s.counts}, nil
}

// scorer scores enterprises in USCC order into the run's outputs.
type scorer struct {
	job     *ScoreJob
	in      RunInput
	listed  []listedFirm // by USCC; the merge is at listed[0]
	counts  map[string]int64
	started time.Time
}

func (s *scorer) scoreAll(ctx context.Context, cancel context.CancelCauseFunc, features <-chan warehouse.EnterpriseFeatures) {
	for f := range features {
		if ctx.Err() != nil {
			continue // drain: the reader stops on the same cancellation
		}
		if err := s.add(f); err != nil {
			cancel(err)
		}
	}
}

func (s *scorer) add(f warehouse.EnterpriseFeatures) error {
	features := toScoring(f)
	listing := s.listing(f.USCC)
	features.Listing = listing
	if len(listing) > 0 {
		s.counts["listed"]++
	}
	res := s.job.scorecard.Score(features)
	// Each output keeps its own copy: the writer's batch outlives this call.
	reasons := scoring.AppendReasonsJSON(make([]byte, 0, 512), res.Reasons)
	if err := s.in.Outputs.Add(warehouse.OutputRow{Key: string(f.USCC), USCC: string(f.USCC), Label: string(res.Grade),
		Value: int64(res.Score), Payload: reasons}); err != nil {
		return err
	}
	s.counts["enterprises"]++
	s.counts["grade_"+string(res.Grade)]++
	s.counts["reasons"] += int64(len(res.Reasons))
	if n := s.counts["enterprises"]; s.job.ProgressEvery > 0 && n%s.job.ProgressEvery == 0 {
		s.in.Log.Info("scoring", "enterprises", n, "elapsed", time.Since(s.started).Round(time.Millisecond))
	}
	return nil
}

// listedFirm is a firm on the serious dishonest list and the reasons its
// score gives for it.
type listedFirm struct {
	uscc    model.USCC
	reasons []model.Reason
}

// listedFirms evaluates the listing rules over every firm's listing records
// and keeps the listed ones, in USCC order (a few percent of firms).
func (j *ScoreJob) listedFirms(ctx context.Context, q warehouse.ListingQuery, asOf time.Time) ([]listedFirm, error) {
	var out []listedFirm
	err := j.listing.ListingRecords(ctx, q, func(r warehouse.FirmRecords) error {
		rec, err := firmRecords(r)
		if err != nil {
			return err
		}
		st, err := j.rules.Evaluate(rec, asOf)
		if err != nil {
			return err
		}
		if reasons := st.ScoreReasons(); len(reasons) > 0 {
			out = append(out, listedFirm{uscc: r.USCC, reasons: reasons})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing records: %w", err)
	}
	return out, nil
}

// listing is the firm's listing reasons, nil when it is not listed. Listed
// firms that are not registered (no features) are passed over.
func (s *scorer) listing(uscc model.USCC) []model.Reason {
	for len(s.listed) > 0 && s.listed[0].uscc < uscc {
		s.listed = s.listed[1:]
	}
	if len(s.listed) > 0 && s.listed[0].uscc == uscc {
		return s.listed[0].reasons
	}
	return nil
}

// firmRecords files a firm's listing records for the listing rules.
func firmRecords(r warehouse.FirmRecords) (lists.FirmRecords, error) {
	out := lists.FirmRecords{USCC: r.USCC}
	for _, rec := range r.Records {
		if err := out.AddEvent(rec); err != nil {
			return out, err
		}
	}
	return out, nil
}

func toScoring(f warehouse.EnterpriseFeatures) scoring.Features {
	out := scoring.Features{USCC: string(f.USCC), Rows: make([]scoring.Row, len(f.Rows))}
	for i, r := range f.Rows {
		out.Rows[i] = scoring.Row{Kind: r.Kind, Sub: r.Sub, Category: r.Category, Flag: r.Flag, Counts: r.Counts, IDs: r.IDs}
	}
	return out
}
