package warehouse

import (
	"errors"
	"time"
)

// ActivityQuery is the window of a stats run: events with From ≤
// occurred_at < Cutoff ingested up to Watermark, dead letters received in
// the same window up to the watermark.
type ActivityQuery struct {
	From, Cutoff time.Time
	Watermark    time.Time
}

// Validate checks the query.
func (q ActivityQuery) Validate() error {
	var errs []error
	if q.Cutoff.IsZero() || q.Watermark.IsZero() {
		errs = append(errs, errors.New("cutoff and watermark are required"))
	}
	if !q.From.Before(q.Cutoff) {
		errs = append(errs, errors.New("from must be before the cutoff"))
	}
	return errors.Join(errs...)
}

// ActivityRow is one county's month (Asia/Shanghai) of activity; see
// model.CountyMonth. Month is YYYYMM.
type ActivityRow struct {
	County            string
	Month             int
	Events            int64
	SpotChecks        int64
	SpotCheckFailures int64
	Reported          int64
	DelaySeconds      int64
	DeadLetters       int64
}

// OpenComplaintDay counts the complaints received on one day (YYYYMMDD,
// Asia/Shanghai) by one county that were not closed before the cutoff.
type OpenComplaintDay struct {
	County string
	Day    int
	Open   int64
}
