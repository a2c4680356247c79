package conformance

import (
	"reflect"
	"testing"
	"time"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// testActivity checks the stats job's monthly aggregates per county and its
// open complaints: months in Asia/Shanghai, the window and the watermark
// honoured, retracted records left out, refused input counted by the
// Huai'an bureau named in it.
func testActivity(t *testing.T, open Opener) {
	s := open(t)
	defer s.Close()
	reported := func(it warehouse.Item, after time.Duration) warehouse.Item {
		at := it.Record.Event.OccurredAt.Add(after)
		it.Record.Event.ReportedAt = &at
		return it
	}
	// 2025-03-31 23:30 +08:00 is March in Shanghai (April 1 would be wrong in UTC+9, March 31 in UTC).
	lateMarch := time.Date(2025, 3, 31, 23, 30, 0, 0, shanghai)
	complaint := func(id, ref string, typ model.EventType, at time.Time) warehouse.Item {
		d := map[string]any{"complaint_id": ref}
		if typ == model.EventComplaintClosed {
			d["verified"] = false
		}
		return Event(t, id, typ, FirmA, at, d)
	}
	write(t, s, warehouse.Batch{
		Items: []warehouse.Item{
			reported(spotCheck(t, "a1", FirmA, lateMarch, "fail"), 36*time.Hour),
			reported(spotCheck(t, "a2", FirmA, day(2025, 3, 2), "pass"), 2*time.Hour),
			spotCheck(t, "a3", FirmA, day(2025, 4, 1), "pass"),
			spotCheck(t, "a4", FirmA, day(2025, 7, 1), "fail"), // after the cutoff
			complaint("k1", "K1", model.EventComplaintReceived, day(2025, 1, 6)),
			complaint("k2", "K2", model.EventComplaintReceived, day(2025, 6, 20)),
			complaint("k3", "K3", model.EventComplaintReceived, day(2025, 6, 20)),
			complaint("k3c", "K3", model.EventComplaintClosed, day(2025, 6, 25)),
			// A failed check sent in error and retracted: neither counts.
			spotCheck(t, "a6", FirmA, day(2025, 3, 10), "fail"),
			Event(t, "a6r", model.EventRetracted, FirmA, day(2025, 3, 11), map[string]any{"event_id": "a6", "reason": "录入错误"}),
		},
		DeadLetters: []model.DeadLetter{
			{Origin: model.Origin{Kind: "file", Name: "x", Position: "1"}, Reason: model.DeadLetterInvalidField, Detail: "d",
				Raw: []byte(`{"id":"x","source": "320830","data":{"name":"淮安"}}`), Source: "320830", Received: day(2025, 4, 3)},
			{Origin: model.Origin{Kind: "file", Name: "x", Position: "2"}, Reason: model.DeadLetterMalformedJSON, Detail: "d",
				Raw: []byte{0xff, '{', 'x'}, Received: day(2025, 4, 3)},
			{Origin: model.Origin{Kind: "file", Name: "x", Position: "3"}, Reason: model.DeadLetterInvalidField, Detail: "d",
				Raw: []byte(`{"source":"110000"}`), Source: "110000", Received: day(2025, 4, 4)}, // no Huai'an bureau
		},
	})
	wm, err := s.Watermark(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// Written after the watermark: not read.
	write(t, s, warehouse.Batch{Items: []warehouse.Item{spotCheck(t, "a5", FirmA, day(2025, 3, 3), "fail")}})
	q := warehouse.ActivityQuery{From: time.Date(2025, 2, 1, 0, 0, 0, 0, shanghai), Cutoff: cutoff, Watermark: wm}
	var got []warehouse.ActivityRow
	if err := s.Activity(t.Context(), q, func(r warehouse.ActivityRow) error { got = append(got, r); return nil }); err != nil {
		t.Fatal(err)
	}
	want := []warehouse.ActivityRow{
		{County: "", Month: 202504, DeadLetters: 2},
		{County: "320830", Month: 202503, Events: 2, SpotChecks: 2, SpotCheckFailures: 1, Reported: 2, DelaySeconds: 36*3600 + 2*3600},
		{County: "320830", Month: 202504, Events: 1, SpotChecks: 1, DeadLetters: 1},
		{County: "320830", Month: 202506, Events: 3},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("activity:\n got %+v\nwant %+v", got, want)
	}
	days, err := s.OpenComplaints(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	wantDays := []warehouse.OpenComplaintDay{{County: "320830", Day: 20250106, Open: 1}, {County: "320830", Day: 20250620, Open: 1}}
	if !reflect.DeepEqual(days, wantDays) {
		t.Errorf("open complaints:\n got %+v\nwant %+v", days, wantDays)
	}
}
