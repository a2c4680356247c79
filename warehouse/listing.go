package warehouse

import (
	"errors"
	"time"

	"github.com/qcredit/qcredit/model"
)

// ListingEventTypes are the events the listing rules read (lists.FirmRecords).
var ListingEventTypes = []model.EventType{
	model.EventPenaltyDecided, model.EventPenaltyRevoked, model.EventLicenceRevoked, model.EventEquipmentAccident,
	model.EventCreditRepaired, model.EventListingObjectionReceived, model.EventListingObjectionDecided,
}

// ListingQuery is the window of the listing rules' records: events of
// ListingEventTypes with Since ≤ occurred_at < Cutoff and ingested_at ≤
// Watermark. Since is the rules' horizon (lists.Rules.Horizon): nothing
// before it can still list a firm.
type ListingQuery struct {
	Since     time.Time
	Cutoff    time.Time
	Watermark time.Time
}

// Validate checks the query.
func (q ListingQuery) Validate() error {
	var errs []error
	if q.Cutoff.IsZero() || q.Watermark.IsZero() {
		errs = append(errs, errors.New("cutoff and watermark are required"))
	}
	if !q.Since.Before(q.Cutoff) {
		errs = append(errs, errors.New("since must be before the cutoff"))
	}
	return errors.Join(errs...)
}

// FirmRecords are one firm's listing records in (occurred_at, id) order:
// the event's envelope and facets, no data. A licence.revoked stored before
// decision_no filled the Link facet has it there all the same.
type FirmRecords struct {
	USCC    model.USCC
	Records []model.Record
}

// NameQuery selects the registered firms as a run knows them: registered
// (enterprise.registered) before Cutoff and ingested by Watermark.
type NameQuery struct {
	Cutoff    time.Time
	Watermark time.Time
}

// FirmName is a registered firm and its latest name (registration or
// update) under a NameQuery.
type FirmName struct {
	USCC model.USCC
	Name string
}
