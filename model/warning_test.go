package model

import (
	"errors"
	"testing"
	"time"
)

func TestAnalystWarningEvents(t *testing.T) {
	// given an analyst's acknowledgement and action on a cluster warning,
	// when validated, then they pass without a USCC, name the warning in the
	// link facet, and are refused with a USCC or without their required fields
	at := time.Date(2026, 7, 2, 9, 0, 0, 0, Shanghai)
	ok := []Event{
		{ID: "320830-ack-1", Type: EventWarningAcknowledged, Source: "320830", OccurredAt: at,
			Data: []byte(`{"warning_id":"cw-xuyi-attapulgite-20260630","analyst":"张三","note":"已转县局"}`)},
		{ID: "320830-act-1", Type: EventWarningActionRecorded, Source: "320830", OccurredAt: at,
			Data: []byte(`{"warning_id":"cw-xuyi-attapulgite-20260630","analyst":"张三","action":"约谈企业负责人"}`)},
	}
	for _, e := range ok {
		rec, err := USCCPolicy{}.Validate(e)
		if err != nil || rec.Facets.Link != "cw-xuyi-attapulgite-20260630" {
			t.Errorf("%s: %v, facets %+v", e.Type, err, rec.Facets)
		}
	}
	bad := map[string]Event{
		"with a uscc": {ID: "x1", Type: EventWarningAcknowledged, USCC: CompleteUSCC("91320830MA1AAA01"), Source: "320830", OccurredAt: at,
			Data: []byte(`{"warning_id":"cw-a-20260630","analyst":"张三"}`)},
		"without analyst": {ID: "x2", Type: EventWarningAcknowledged, Source: "320830", OccurredAt: at,
			Data: []byte(`{"warning_id":"cw-a-20260630"}`)},
		"without action": {ID: "x3", Type: EventWarningActionRecorded, Source: "320830", OccurredAt: at,
			Data: []byte(`{"warning_id":"cw-a-20260630","analyst":"张三"}`)},
	}
	for name, e := range bad {
		var ve *ValidationError
		if _, err := (USCCPolicy{}).Validate(e); !errors.As(err, &ve) {
			t.Errorf("%s: want a validation error, got %v", name, err)
		}
	}
}
