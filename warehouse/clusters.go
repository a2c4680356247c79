package warehouse

import (
	"errors"
	"fmt"
	"time"

	"github.com/qcredit/qcredit/model"
)

// ClusterQuery is the window of one clusters run (DOMAIN.md, "Cluster risk
// warnings: the statistics"): the enterprises as their events before Cutoff
// say, and their records with Start ≤ occurred_at < Cutoff, all ingested up
// to Watermark.
type ClusterQuery struct {
	Start     time.Time
	Cutoff    time.Time
	Watermark time.Time
	// AsOf is the as_of date: a hazard whose deadline is before it is overdue.
	AsOf string
}

// Validate checks the query.
func (q ClusterQuery) Validate() error {
	var errs []error
	if q.Start.IsZero() || q.Cutoff.IsZero() || !q.Start.Before(q.Cutoff) {
		errs = append(errs, errors.New("a window start before the cutoff is required"))
	}
	if q.Watermark.IsZero() {
		errs = append(errs, errors.New("watermark is required"))
	}
	if _, err := time.Parse(time.DateOnly, q.AsOf); err != nil {
		errs = append(errs, fmt.Errorf("as_of %q is not YYYY-MM-DD", q.AsOf))
	}
	return errors.Join(errs...)
}

// ClusterEnterprise is an enterprise registered before the cutoff and not
// deregistered then, with the latest value of each field its
// enterprise.registered/updated events before the cutoff gave (by
// occurred_at, then id). Region is as registered, historical codes
// included: the clusters job maps it to the current county.
type ClusterEnterprise struct {
	USCC     model.USCC
	Name     string
	Region   string
	Industry string
	Cluster  string // declared cluster id, or ""
}

// ClusterRecordKind is what a record counts for in a cluster's assessment.
type ClusterRecordKind string

const (
	ClusterRecordKindCheck     ClusterRecordKind = "check"     // spot_check.completed (re-checks included)
	ClusterRecordKindPenalty   ClusterRecordKind = "penalty"   // penalty.decided not revoked (same case_no) before the cutoff
	ClusterRecordKindComplaint ClusterRecordKind = "complaint" // complaint.closed with verified = true
	// ClusterRecordKindHazard is an equipment.hazard_found whose deadline is
	// before the as_of and that no hazard_corrected of its hazard_id closed
	// before the cutoff: an overdue hazard.
	ClusterRecordKindHazard   ClusterRecordKind = "hazard"
	ClusterRecordKindAccident ClusterRecordKind = "accident" // equipment.accident
)

// ClusterRecord is one record of a clusters run's window.
type ClusterRecord struct {
	Kind       ClusterRecordKind
	EventID    string
	USCC       model.USCC
	OccurredAt time.Time
	Failed     bool   // a check's result is fail
	Product    string // a check's product
	Grade      string // an accident's grade
}
