package pipelines

import (
	"context"
	"time"

	"github.com/qcredit/qcredit/warehouse"
)

// RunStore is what the runner and the scheduler need of the warehouse: run
// records, every job's outputs, what has been ingested, and leases.
type RunStore interface {
	// Watermark is the greatest ingested_at stored.
	Watermark(ctx context.Context) (time.Time, error)
	// CountEvents counts events by when they occurred and were ingested.
	CountEvents(ctx context.Context, c warehouse.EventCount) (int64, error)
	// BeginRun stores a new record with the job's next version.
	BeginRun(ctx context.Context, r warehouse.Run) (warehouse.Run, error)
	FinishRun(ctx context.Context, r warehouse.Run) error
	Runs(ctx context.Context, f warehouse.RunFilter) ([]warehouse.Run, error)
	// WriteOutputs appends outputs of a running run.
	WriteOutputs(ctx context.Context, job string, version int, rows []warehouse.OutputRow) error
	// AcquireLease grants holder the named lease until now + ttl when it is
	// free or holder's; ReleaseLease ends holder's.
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, holder string) error
}

// ScoreFeatures is what the score job reads.
type ScoreFeatures interface {
	ScoreFeatures(ctx context.Context, q warehouse.FeatureQuery, fn func(warehouse.EnterpriseFeatures) error) error
}

// ListingRecords is what the score and lists jobs read for the listing
// rules: each firm's listing records, in USCC order.
type ListingRecords interface {
	ListingRecords(ctx context.Context, q warehouse.ListingQuery, fn func(warehouse.FirmRecords) error) error
}
