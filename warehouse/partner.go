package warehouse

import (
	"errors"
	"fmt"
	"time"
)

// PartnerKind is what a partner record says. Partners' settings are
// append-only records, as keys are, so every replica derives the same state.
type PartnerKind string

const (
	PartnerWatch          PartnerKind = "watch"           // Key: a USCC the partner watches
	PartnerUnwatch        PartnerKind = "unwatch"         // Key: a USCC it no longer watches
	PartnerWebhook        PartnerKind = "webhook"         // Key: the URL changes are posted to; Value: the signing secret
	PartnerWebhookRemoved PartnerKind = "webhook_removed" // no more deliveries
	PartnerDelivered      PartnerKind = "delivered"       // Key: the watch feed's cursor, delivered up to it
)

// PartnerRecord is one record of a partner (an API key's name).
type PartnerRecord struct {
	Partner string
	Kind    PartnerKind
	Key     string
	Value   string
	At      time.Time
}

// Validate checks a record before it is stored.
func (r PartnerRecord) Validate() error {
	var errs []error
	if r.Partner == "" || r.At.IsZero() {
		errs = append(errs, errors.New("partner record: partner and time are required"))
	}
	switch r.Kind {
	case PartnerWatch, PartnerUnwatch, PartnerWebhook, PartnerDelivered:
		if r.Key == "" {
			errs = append(errs, fmt.Errorf("partner record %s: key is required", r.Kind))
		}
	case PartnerWebhookRemoved:
	default:
		errs = append(errs, fmt.Errorf("partner record: kind %q is unknown", r.Kind))
	}
	return errors.Join(errs...)
}

// PartnerQuery selects partner records; zero values select all.
type PartnerQuery struct {
	Partner string
	Kinds   []PartnerKind
	// Latest keeps only the latest record (by time, then key) of each
	// partner and kind: the cursor a partner was delivered up to.
	Latest bool
}
