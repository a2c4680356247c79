package pipelines

import (
	"cmp"
	"context"
	"log/slog"
	"time"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/scoring"
	"github.com/qcredit/qcredit/warehouse"
)

// JobScore is the name of the score job.
const JobScore = "score"

// ScoreJob computes every registered enterprise's quality-credit score and
// grade from the features the warehouse aggregates, with their reasons.
// Its outputs are keyed by USCC: label the grade, value the score in
// tenths, payload the reasons (JSON). Default schedule: daily at 02:00
// Asia/Shanghai.
type ScoreJob struct {
	features  ScoreFeatures
	scorecard *scoring.Scorecard
	log       *slog.Logger
	// ProgressEvery logs progress after this many enterprises.
	ProgressEvery int64
}

// NewScoreJob builds the score job.
func NewScoreJob(features ScoreFeatures, sc *scoring.Scorecard, log *slog.Logger) *ScoreJob {
	return &ScoreJob{features: features, scorecard: sc, log: log, ProgressEvery: 100000}
}

func (j *ScoreJob) Name() string         { return JobScore }
func (j *ScoreJob) Schedule() string     { return "0 2 * * *" }
func (j *ScoreJob) ModelVersion() string { return j.scorecard.Version }

// Run scores every enterprise in USCC order. Reading and scoring overlap:
// the warehouse streams features into a channel while this goroutine
// scores them in order (the outputs must come in key order) and the output
// writer writes full batches on its own.
func (j *ScoreJob) Run(ctx context.Context, in RunInput) (Output, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	q := warehouse.FeatureQuery{Cutoff: in.Cutoff, Watermark: in.Watermark, AsOf: in.Run.AsOf, Bounds: j.scorecard.Bounds(in.Cutoff)}
	s := scorer{job: j, in: in, counts: map[string]int64{"enterprises": 0, "reasons": 0}, started: time.Now()}
	for _, g := range model.Grades {
		s.counts["grade_"+string(g)] = 0
	}
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
	res := s.job.scorecard.Score(toScoring(f))
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

func toScoring(f warehouse.EnterpriseFeatures) scoring.Features {
	out := scoring.Features{USCC: string(f.USCC), Rows: make([]scoring.Row, len(f.Rows))}
	for i, r := range f.Rows {
		out.Rows[i] = scoring.Row{Kind: r.Kind, Sub: r.Sub, Category: r.Category, Flag: r.Flag, Counts: r.Counts, IDs: r.IDs}
	}
	return out
}
