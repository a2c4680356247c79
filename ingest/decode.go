// Package ingest turns raw input from every source (files, Kafka, HTTP) into
// warehouse batches through one decode-and-validate path, and sends whatever
// it refuses to the dead letters with the reason and where it came from.
package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// Decoder decodes and validates one v1 event. Its zero value applies the
// strict USCC policy.
type Decoder struct {
	Policy model.USCCPolicy
}

// wireEvent is the JSON as sent. Times stay strings here so a bad time is
// reported as an invalid field, not as broken JSON.
type wireEvent struct {
	ID         string          `json:"id"`
	Type       string          `json:"type"`
	USCC       string          `json:"uscc"`
	Source     string          `json:"source"`
	OccurredAt string          `json:"occurred_at"`
	ReportedAt string          `json:"reported_at"`
	Data       json.RawMessage `json:"data"`
}

// Decode returns the item, or the dead letter that says why raw was refused.
// Exactly one of them is set.
func (d Decoder) Decode(raw []byte, origin model.Origin) (warehouse.Item, *model.DeadLetter) {
	rec, err := d.decode(raw)
	if err != nil {
		var ve *model.ValidationError
		if !errors.As(err, &ve) {
			ve = &model.ValidationError{Reason: model.ReasonMalformedJSON, Detail: err.Error()}
		}
		return warehouse.Item{}, &model.DeadLetter{
			Origin: origin, Reason: ve.Reason, Detail: ve.Error(), Raw: raw, EventID: rec.ID, Received: time.Now(),
		}
	}
	return warehouse.Item{Record: rec, Origin: origin, Raw: raw}, nil
}

func (d Decoder) decode(raw []byte) (model.Record, error) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return model.Record{}, fmt.Errorf("not a JSON object")
	}
	var w wireEvent
	if err := json.Unmarshal(trimmed, &w); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return idOnly(w.ID), &model.ValidationError{Reason: model.ReasonInvalidField, Field: te.Field,
				Detail: fmt.Sprintf("must be a JSON %s", te.Type)}
		}
		return model.Record{}, fmt.Errorf("broken JSON: %w", err)
	}
	e := model.Event{ID: w.ID, Type: model.EventType(w.Type), USCC: model.USCC(w.USCC), Source: w.Source, Data: w.Data}
	if w.OccurredAt != "" {
		t, err := time.Parse(time.RFC3339, w.OccurredAt)
		if err != nil {
			return idOnly(w.ID), &model.ValidationError{Reason: model.ReasonInvalidField, Field: "occurred_at",
				Detail: fmt.Sprintf("%q is not an RFC 3339 time", w.OccurredAt)}
		}
		e.OccurredAt = t
	}
	if w.ReportedAt != "" {
		t, err := time.Parse(time.RFC3339, w.ReportedAt)
		if err != nil {
			return idOnly(w.ID), &model.ValidationError{Reason: model.ReasonInvalidField, Field: "reported_at",
				Detail: fmt.Sprintf("%q is not an RFC 3339 time", w.ReportedAt)}
		}
		e.ReportedAt = &t
	}
	rec, err := d.Policy.Validate(e)
	if err != nil {
		rec.ID = w.ID
	}
	return rec, err
}

// idOnly carries the event id of refused input, so its dead letter names it.
func idOnly(id string) model.Record {
	var r model.Record
	r.ID = id
	return r
}
