package conformance

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// RunListing runs the cases of what the listing rules (the score and lists
// jobs) read, and of reading one kind of a run's outputs.
func RunListing(t *testing.T, open Opener) {
	t.Run("ListingRecords", func(t *testing.T) { testListingRecords(t, open) })
	t.Run("FirmNames", func(t *testing.T) { testFirmNames(t, open) })
	t.Run("OutputsByKeyPrefix", func(t *testing.T) { testOutputsByKeyPrefix(t, open) })
}

// The listing fixtures' window: 2022-07-01 (the horizon) to the end of 2025-06-30.
var listingSince = time.Date(2022, 7, 1, 0, 0, 0, 0, shanghai)

func listingFixtures(t *testing.T) []warehouse.Item {
	pen := func(id string, u model.USCC, caseNo string, at time.Time) warehouse.Item {
		return Event(t, id, model.EventPenaltyDecided, u, at, map[string]any{"case_no": caseNo, "violation": "counterfeit", "severity": "heavy"})
	}
	// A revocation stored before decision_no filled the link facet keeps it in its data only.
	old := Event(t, "l2", model.EventLicenceRevoked, FirmA, day(2024, 2, 1), map[string]any{"licence_no": "XK-2", "reason": "fraud", "decision_no": "淮撤2024-2"})
	old.Record.Facets.Link = ""
	return []warehouse.Item{
		pen("p1", FirmA, "CASE-1", day(2024, 9, 1)),
		pen("p0", FirmA, "CASE-0", day(2022, 6, 30)), // before the horizon
		pen("p9", FirmA, "CASE-9", day(2025, 7, 1)),  // after as_of
		Event(t, "p1r", model.EventPenaltyRevoked, FirmA, day(2025, 1, 1), map[string]any{"case_no": "CASE-1"}),
		Event(t, "l1", model.EventLicenceRevoked, FirmA, day(2023, 1, 1), map[string]any{"licence_no": "XK-1", "reason": "violation", "decision_no": "淮撤2023-1"}),
		old,
		Event(t, "a1", model.EventEquipmentAccident, FirmA, day(2023, 5, 1), map[string]any{"equipment_id": "E1", "accident_id": "A1", "grade": "larger"}),
		Event(t, "x1", model.EventCreditRepaired, FirmA, day(2025, 3, 1), map[string]any{"case_no": "CASE-1"}),
		Event(t, "o1", model.EventListingObjectionReceived, FirmA, day(2024, 9, 3),
			map[string]any{"objection_id": "SB-1", "key": string(FirmA) + ":serious.heavy_penalty:CASE-1", "statement": "非故意"}),
		Event(t, "o1d", model.EventListingObjectionDecided, FirmA, day(2024, 9, 6), map[string]any{"objection_id": "SB-1", "outcome": "rejected"}),
		spotCheck(t, "sc1", FirmA, day(2024, 1, 1), "fail"), // not a listing record
		pen("p2", FirmA, "CASE-2", day(2024, 10, 1)),        // sent in error, retracted
		Event(t, "p2x", model.EventRetracted, FirmA, day(2024, 10, 2), map[string]any{"event_id": "p2", "reason": "sent in error"}),
		pen("b1", FirmB, "CASE-B", day(2025, 6, 30)),
	}
}

// recordLine writes what a listing record carries, to compare across backends.
func recordLine(r model.Record) string {
	f := r.Facets
	return fmt.Sprintf("%s %s %s %s %s ref=%s link=%s result=%s severity=%s category=%s", r.USCC, r.ID, r.Type, r.Source,
		r.OccurredAt.UTC().Format(time.RFC3339), f.Ref, f.Link, f.Result, f.Severity, f.Category)
}

func testListingRecords(t *testing.T, open Opener) {
	// Given firm A's penalties (one retracted), revocations, repairs, accidents and objections around the
	// window's edges, a spot check, firm B's penalty and a late report of firm B, when the listing records of
	// as_of 2025-06-30 are read with the watermark before the late one, then exactly the window's listing
	// records that stand come back
	// per firm in USCC order, each firm's in time order, with decision_no in link even where it was stored
	// in the data only
	s := open(t)
	defer s.Close()
	write(t, s, warehouse.Batch{Items: listingFixtures(t)})
	wm, err := s.Watermark(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	late := Event(t, "b2", model.EventPenaltyDecided, FirmB, day(2025, 6, 1), map[string]any{"case_no": "CASE-B2", "violation": "substandard", "severity": "heavy"})
	write(t, s, warehouse.Batch{Items: []warehouse.Item{late}})
	var got []string
	err = s.ListingRecords(t.Context(), warehouse.ListingQuery{Since: listingSince, Cutoff: cutoff, Watermark: wm},
		func(f warehouse.FirmRecords) error {
			got = append(got, "firm "+string(f.USCC))
			for _, r := range f.Records {
				if r.USCC != f.USCC {
					t.Errorf("record %s of %s handed over with %s", r.ID, r.USCC, f.USCC)
				}
				got = append(got, recordLine(r))
			}
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	a := []string{"firm " + string(FirmA),
		recordLine(rec(FirmA, "l1", model.EventLicenceRevoked, day(2023, 1, 1), model.Facets{Ref: "XK-1", Link: "淮撤2023-1", Category: "violation"})),
		recordLine(rec(FirmA, "a1", model.EventEquipmentAccident, day(2023, 5, 1), model.Facets{Ref: "A1", Link: "E1", Severity: "larger"})),
		recordLine(rec(FirmA, "l2", model.EventLicenceRevoked, day(2024, 2, 1), model.Facets{Ref: "XK-2", Link: "淮撤2024-2", Category: "fraud"})),
		recordLine(rec(FirmA, "p1", model.EventPenaltyDecided, day(2024, 9, 1), model.Facets{Ref: "CASE-1", Severity: "heavy", Category: "counterfeit"})),
		recordLine(rec(FirmA, "o1", model.EventListingObjectionReceived, day(2024, 9, 3),
			model.Facets{Ref: "SB-1", Link: string(FirmA) + ":serious.heavy_penalty:CASE-1"})),
		recordLine(rec(FirmA, "o1d", model.EventListingObjectionDecided, day(2024, 9, 6), model.Facets{Ref: "SB-1", Result: "rejected"})),
		recordLine(rec(FirmA, "p1r", model.EventPenaltyRevoked, day(2025, 1, 1), model.Facets{Ref: "CASE-1"})),
		recordLine(rec(FirmA, "x1", model.EventCreditRepaired, day(2025, 3, 1), model.Facets{Ref: "CASE-1"})),
	}
	b := []string{"firm " + string(FirmB),
		recordLine(rec(FirmB, "b1", model.EventPenaltyDecided, day(2025, 6, 30), model.Facets{Ref: "CASE-B", Severity: "heavy", Category: "counterfeit"}))}
	want := append(a, b...)
	if FirmB < FirmA {
		want = append(b, a...)
	}
	if !slices.Equal(got, want) {
		t.Errorf("listing records:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
}

func rec(u model.USCC, id string, typ model.EventType, at time.Time, f model.Facets) model.Record {
	return model.Record{Event: model.Event{ID: id, Type: typ, USCC: u, Source: "320830", OccurredAt: at}, Facets: f}
}

func testFirmNames(t *testing.T, open Opener) {
	// Given firm A registered and renamed before the as_of (a later rename retracted), renamed again after it,
	// firm C registered, firm B only updated (never registered), and a late rename of C, when the names of
	// as_of 2025-06-30 are read
	// with the watermark before the late rename, then A and C come back in USCC order, each with its latest
	// name before the cutoff
	s := open(t)
	defer s.Close()
	reg := func(id string, u model.USCC, name string, at time.Time) warehouse.Item {
		return Event(t, id, model.EventEnterpriseRegistered, u, at, map[string]any{"name": name, "region": "320830", "industry": "C3831"})
	}
	upd := func(id string, u model.USCC, name string, at time.Time) warehouse.Item {
		return Event(t, id, model.EventEnterpriseUpdated, u, at, map[string]any{"name": name})
	}
	write(t, s, warehouse.Batch{Items: []warehouse.Item{
		reg("ra", FirmA, "甲公司", day(2020, 1, 1)), upd("ua1", FirmA, "甲新材料公司", day(2024, 1, 1)),
		upd("ua2", FirmA, "甲集团", day(2025, 7, 2)), reg("rc", FirmC, "丙公司", day(2021, 1, 1)),
		upd("ua3", FirmA, "甲错误公司", day(2024, 6, 1)),
		Event(t, "ua3x", model.EventRetracted, FirmA, day(2024, 6, 2), map[string]any{"event_id": "ua3", "reason": "sent in error"}),
		Event(t, "uc0", model.EventEnterpriseUpdated, FirmC, day(2022, 1, 1), map[string]any{"scale": "small"}),
		upd("ub", FirmB, "乙公司", day(2024, 1, 1)),
	}})
	wm, err := s.Watermark(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	write(t, s, warehouse.Batch{Items: []warehouse.Item{upd("uc1", FirmC, "丙改名公司", day(2025, 1, 1))}})
	var got []string
	err = s.FirmNames(t.Context(), warehouse.NameQuery{Cutoff: cutoff, Watermark: wm}, func(n warehouse.FirmName) error {
		got = append(got, string(n.USCC)+" "+n.Name)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{string(FirmA) + " 甲新材料公司", string(FirmC) + " 丙公司"}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("names %q, want %q", got, want)
	}
}

func testOutputsByKeyPrefix(t *testing.T, open Opener) {
	// Given a run whose outputs are of three kinds (c/, e/, v/), when one kind is read by its prefix, then
	// exactly its outputs come back in key order
	s := open(t)
	defer s.Close()
	start := time.Date(2025, 7, 1, 2, 0, 0, 0, shanghai)
	run := beginRun(t, s, "lists", asOf, start.Add(-time.Hour), start)
	keys := []string{"c/dishonest/A", "c/dishonest/B", "c/focus/A", "e/dishonest/A", "e/focus/A", "v/dishonest", "v/focus"}
	var rows []warehouse.OutputRow
	for _, k := range keys {
		rows = append(rows, warehouse.OutputRow{Key: k, Label: "x", Payload: []byte(`{}`)})
	}
	if err := s.WriteOutputs(t.Context(), "lists", run.Version, rows); err != nil {
		t.Fatal(err)
	}
	finishRun(t, s, run, warehouse.RunSucceeded, start.Add(time.Minute))
	for prefix, want := range map[string][]string{"c/dishonest/": keys[:2], "c/": keys[:3], "v/": keys[5:], "x/": nil, "": keys} {
		var got []string
		err := s.ReadOutputs(t.Context(), warehouse.OutputQuery{Job: "lists", Version: run.Version, KeyPrefix: prefix, Payload: true},
			func(o warehouse.OutputRow) error { got = append(got, o.Key); return nil })
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("prefix %q: %q %v, want %q", prefix, got, err, want)
		}
	}
}
