package conformance

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// RunPlanning runs the cases of what the planning jobs read and the
// planning records.
func RunPlanning(t *testing.T, open Opener) {
	t.Run("PlanningEvents", func(t *testing.T) { testPlanningEvents(t, open) })
	t.Run("FirmStates", func(t *testing.T) { testFirmStates(t, open) })
	t.Run("ProductChecks", func(t *testing.T) { testProductChecks(t, open) })
	t.Run("MonthlyActivity", func(t *testing.T) { testMonthlyActivity(t, open) })
	t.Run("PlanningRecords", func(t *testing.T) { testPlanningRecords(t, open) })
	t.Run("DrawSeeds", func(t *testing.T) { testDrawSeeds(t, open) })
}

// FirmD is registered in a historical county code and later deregistered.
var FirmD = model.CompleteUSCC("91320802MA1DDD04")

// eventFrom is Event with another source.
func eventFrom(t *testing.T, source, id string, typ model.EventType, uscc model.USCC, at time.Time, data map[string]any) warehouse.Item {
	t.Helper()
	it := Event(t, id, typ, uscc, at, data)
	it.Record.Source = source
	rec, err := model.USCCPolicy{}.Validate(it.Record.Event)
	if err != nil {
		t.Fatalf("fixture %s: %v", id, err)
	}
	it.Record = rec
	return it
}

func planningFixtures(t *testing.T) []warehouse.Item {
	complaint := func(id string, typ model.EventType, at time.Time, extra map[string]any) warehouse.Item {
		d := map[string]any{"complaint_id": "K-" + id[:2]}
		for k, v := range extra {
			d[k] = v
		}
		return Event(t, id, typ, FirmA, at, d)
	}
	return []warehouse.Item{
		Event(t, "r-a", model.EventEnterpriseRegistered, FirmA, day(2020, 1, 1), map[string]any{"name": "甲", "region": "320830", "industry": "C3831"}),
		Event(t, "u-a", model.EventEnterpriseUpdated, FirmA, day(2025, 2, 1), map[string]any{"industry": "C3832"}),
		Event(t, "u-a2", model.EventEnterpriseUpdated, FirmA, day(2025, 8, 1), map[string]any{"industry": "C3899"}), // after the cutoff
		Event(t, "r-c", model.EventEnterpriseRegistered, FirmC, day(2025, 6, 29), map[string]any{"name": "丙", "region": "320826", "industry": "C1361"}),
		Event(t, "r-d", model.EventEnterpriseRegistered, FirmD, day(2019, 5, 1), map[string]any{"name": "丁", "region": "320802", "industry": "C3011"}),
		Event(t, "x-d", model.EventEnterpriseDeregistered, FirmD, day(2025, 3, 15), map[string]any{"reason": "closed"}),
		complaint("k1r", model.EventComplaintReceived, day(2025, 5, 6), map[string]any{"channel": "12365", "product": "电线电缆"}),
		complaint("k1a", model.EventComplaintAccepted, day(2025, 5, 8), nil),
		complaint("k2r", model.EventComplaintReceived, day(2025, 6, 2), nil),
		complaint("k2j", model.EventComplaintRejected, day(2025, 6, 3), map[string]any{"reason": "不属于本部门职责"}),
		complaint("k3r", model.EventComplaintReceived, day(2024, 12, 30), nil), // before the window
		eventFrom(t, "320813", "s1", model.EventPlanSuggested, "", day(2025, 4, 1),
			map[string]any{"suggestion_id": "S1", "year": 2026, "product": "电线电缆", "batches": 3}),
		spotCheck(t, "pc1", FirmA, day(2025, 1, 10), "pass"),
		spotCheck(t, "pc2", FirmA, day(2025, 3, 10), "fail"),
		spotCheck(t, "pc3", FirmA, day(2025, 6, 10), "fail"),
		Event(t, "pc4", model.EventSpotCheckCompleted, FirmA, day(2025, 6, 11), map[string]any{"check_id": "C-pc4", "product": "钢材", "result": "pass"}),
		spotCheck(t, "pc5", FirmC, day(2025, 6, 29), "pass"),
		spotCheck(t, "pc6", FirmA, day(2024, 12, 31), "fail"), // before the window
	}
}

// planningWindow is 2025 up to the end of 2025-06-30, with everything stored.
func planningWindow(t *testing.T, s Backend) warehouse.Window {
	t.Helper()
	wm, err := s.Watermark(t.Context())
	if err != nil || wm.IsZero() {
		t.Fatalf("watermark %v, %v", wm, err)
	}
	return warehouse.Window{From: time.Date(2025, 1, 1, 0, 0, 0, 0, shanghai), Cutoff: cutoff, Watermark: wm}
}

func testPlanningEvents(t *testing.T, open Opener) {
	// Given complaints, a suggestion about no firm and other events around
	// the window's edges, when the complaint and suggestion types of 2025 to
	// the cutoff are read, then exactly those come back, in (occurred_at, id)
	// order, with facets and data; an event stored after the watermark is not
	// read, nor, once retracted under the watermark, a retracted one.
	s := open(t)
	defer s.Close()
	write(t, s, warehouse.Batch{Items: planningFixtures(t)})
	w := planningWindow(t, s)
	write(t, s, warehouse.Batch{Items: []warehouse.Item{
		Event(t, "k4r", model.EventComplaintReceived, FirmA, day(2025, 6, 20), map[string]any{"complaint_id": "K-late"})}})
	q := warehouse.EventQuery{Window: w, Types: []model.EventType{model.EventComplaintReceived, model.EventComplaintAccepted,
		model.EventComplaintRejected, model.EventPlanSuggested}}
	var got []warehouse.EventRow
	if err := s.PlanningEvents(t.Context(), q, func(e warehouse.EventRow) error { got = append(got, e); return nil }); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range got {
		ids = append(ids, e.ID)
	}
	if want := []string{"s1", "k1r", "k1a", "k2r", "k2j"}; !slices.Equal(ids, want) {
		t.Fatalf("events %v, want %v", ids, want)
	}
	s1, k1r := got[0], got[1]
	if s1.USCC != "" || s1.Source != "320813" || s1.Type != model.EventPlanSuggested || s1.Facets.Ref != "S1" ||
		s1.Facets.Category != "电线电缆" || !strings.Contains(string(s1.Data), `"batches":3`) || !s1.OccurredAt.Equal(day(2025, 4, 1)) {
		t.Errorf("suggestion: %+v %s", s1, s1.Data)
	}
	if k1r.USCC != FirmA || k1r.Facets.Ref != "K-k1" || k1r.Facets.Category != "12365" || !strings.Contains(string(k1r.Data), `"product":"电线电缆"`) {
		t.Errorf("complaint: %+v %s", k1r, k1r.Data)
	}
	write(t, s, warehouse.Batch{Items: []warehouse.Item{
		Event(t, "k2j-x", model.EventRetracted, FirmA, day(2025, 6, 25), map[string]any{"event_id": "k2j", "reason": "录入错误"})}})
	q.Window = planningWindow(t, s)
	ids = nil
	if err := s.PlanningEvents(t.Context(), q, func(e warehouse.EventRow) error { ids = append(ids, e.ID); return nil }); err != nil {
		t.Fatal(err)
	}
	if want := []string{"s1", "k1r", "k1a", "k2r", "k4r"}; !slices.Equal(ids, want) {
		t.Errorf("after k2j's retraction and k4r's late report: %v, want %v", ids, want)
	}
	if err := s.PlanningEvents(t.Context(), warehouse.EventQuery{Window: w, Types: []model.EventType{"no.such"}},
		func(warehouse.EventRow) error { return nil }); err == nil {
		t.Error("an unknown event type was accepted")
	}
}

func testFirmStates(t *testing.T, open Opener) {
	// Given three registered firms (one updated after the cutoff, one
	// deregistered) and records of an unregistered one, then FirmStates
	// lists the registered ones in USCC order with their state at the
	// cutoff; with a cutoff before a registration that firm is absent.
	s := open(t)
	defer s.Close()
	write(t, s, warehouse.Batch{Items: append(planningFixtures(t),
		spotCheck(t, "b1", FirmB, day(2025, 3, 1), "pass"))})
	w := planningWindow(t, s)
	states := func(w warehouse.Window) map[model.USCC]warehouse.FirmState {
		out := map[model.USCC]warehouse.FirmState{}
		var last model.USCC
		err := s.FirmStates(t.Context(), w, func(f warehouse.FirmState) error {
			if f.USCC <= last {
				return fmt.Errorf("%s after %s: not in USCC order", f.USCC, last)
			}
			last, out[f.USCC] = f.USCC, f
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	got := states(w)
	a, c, d := got[FirmA], got[FirmC], got[FirmD]
	if len(got) != 3 || a.Region != "320830" || a.Industry != "C3832" || !a.RegisteredAt.Equal(day(2020, 1, 1)) || !a.DeregisteredAt.IsZero() {
		t.Errorf("states %+v", got)
	}
	if d.Region != "320802" || !d.DeregisteredAt.Equal(day(2025, 3, 15)) || d.RegisteredOn(time.Date(2025, 4, 1, 0, 0, 0, 0, shanghai)) ||
		!d.RegisteredOn(time.Date(2025, 3, 1, 0, 0, 0, 0, shanghai)) {
		t.Errorf("deregistered firm: %+v", d)
	}
	if c.Industry != "C1361" {
		t.Errorf("firm C: %+v", c)
	}
	early := w
	early.Cutoff = day(2025, 6, 1)
	if got := states(early); len(got) != 2 || got[FirmC].USCC != "" {
		t.Errorf("before firm C registered: %+v", got)
	}
}

func testProductChecks(t *testing.T, open Opener) {
	// Given spot checks of two products by two firms around the window,
	// then each (firm, product) has its checks and failures in the window
	// and the ids of the failures since RecentFrom.
	s := open(t)
	defer s.Close()
	write(t, s, warehouse.Batch{Items: planningFixtures(t)})
	q := warehouse.ProductCheckQuery{Window: planningWindow(t, s), RecentFrom: time.Date(2025, 6, 1, 0, 0, 0, 0, shanghai)}
	var got []warehouse.ProductCheck
	if err := s.ProductChecks(t.Context(), q, func(p warehouse.ProductCheck) error { got = append(got, p); return nil }); err != nil {
		t.Fatal(err)
	}
	want := []warehouse.ProductCheck{
		{USCC: FirmA, Product: "电线电缆", Checks: 3, Failures: 2, RecentFailures: []string{"pc3"}},
		{USCC: FirmA, Product: "钢材", Checks: 1, Failures: 0, RecentFailures: []string{}},
		{USCC: FirmC, Product: "电线电缆", Checks: 1, Failures: 0, RecentFailures: []string{}},
	}
	slices.SortFunc(want, func(a, b warehouse.ProductCheck) int {
		return strings.Compare(string(a.USCC)+"\x00"+a.Product, string(b.USCC)+"\x00"+b.Product)
	})
	for i := range got {
		if got[i].RecentFailures == nil {
			got[i].RecentFailures = []string{}
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("product checks:\n got %+v\nwant %+v", got, want)
	}
}

func testMonthlyActivity(t *testing.T, open Opener) {
	// Given the fixtures stored in one write and two dead letters (one
	// whose source could be read), when April to June 2025 are counted by month, then
	// each source's events, delays (whole seconds from occurrence to the
	// write) and dead letters land in their months, and CheckedFirms lists
	// each checked firm once per month.
	s := open(t)
	defer s.Close()
	letters := []model.DeadLetter{
		{Origin: model.Origin{Kind: "file", Name: "a.jsonl", Position: "1"}, Reason: model.DeadLetterInvalidUSCC, Detail: "bad",
			Raw: []byte(`{"id":"x","source":"320830","uscc":"BAD"}`), Source: "320830", Received: day(2025, 5, 20)},
		{Origin: model.Origin{Kind: "file", Name: "a.jsonl", Position: "2"}, Reason: model.DeadLetterMalformedJSON, Detail: "bad",
			Raw: []byte("\xff{not json"), Received: day(2025, 6, 20)},
	}
	write(t, s, warehouse.Batch{Items: planningFixtures(t), DeadLetters: letters})
	w := planningWindow(t, s)
	starts := []time.Time{time.Date(2025, 4, 1, 0, 0, 0, 0, shanghai), time.Date(2025, 5, 1, 0, 0, 0, 0, shanghai),
		time.Date(2025, 6, 1, 0, 0, 0, 0, shanghai)}
	q := warehouse.MonthQuery{Starts: starts, Cutoff: cutoff, Watermark: w.Watermark, LateAfter: 24 * time.Hour}
	got, err := s.MonthlyActivity(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	delay := func(days ...time.Time) int64 {
		var sum int64
		for _, d := range days {
			sum += w.Watermark.Unix() - d.Unix()
		}
		return sum
	}
	want := []warehouse.SourceMonth{
		{Source: "", Month: 2, DeadLetters: 1},
		{Source: "320813", Month: 0, Events: 1, DelaySeconds: delay(day(2025, 4, 1)), LateEvents: 1},
		{Source: "320830", Month: 1, Events: 2, DelaySeconds: delay(day(2025, 5, 6), day(2025, 5, 8)), LateEvents: 2, DeadLetters: 1},
		{Source: "320830", Month: 2, Events: 6, LateEvents: 6,
			DelaySeconds: delay(day(2025, 6, 2), day(2025, 6, 3), day(2025, 6, 10), day(2025, 6, 11), day(2025, 6, 29), day(2025, 6, 29))},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("monthly activity:\n got %+v\nwant %+v", got, want)
	}
	type fm struct {
		u model.USCC
		m int
	}
	var checked []fm
	if err := s.CheckedFirms(t.Context(), q, func(u model.USCC, m int) error { checked = append(checked, fm{u, m}); return nil }); err != nil {
		t.Fatal(err)
	}
	wantChecked := []fm{{FirmA, 2}, {FirmC, 2}}
	if FirmC < FirmA {
		wantChecked[0], wantChecked[1] = wantChecked[1], wantChecked[0]
	}
	if !reflect.DeepEqual(checked, wantChecked) {
		t.Errorf("checked firms %v, want %v", checked, wantChecked)
	}
}

func testPlanningRecords(t *testing.T, open Opener) {
	// Given records of two kinds stored one after another, then each kind
	// reads back by key then as recorded, with its body; a key selects one;
	// the cutoff and watermark bound them; each record moves the watermark.
	s := open(t)
	defer s.Close()
	write(t, s, warehouse.Batch{Items: planningFixtures(t)})
	before, err := s.Watermark(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	add := func(kind warehouse.RecordKind, key, body string) warehouse.PlanningRecord {
		t.Helper()
		r, err := s.AddPlanningRecord(t.Context(), warehouse.PlanningRecord{Kind: kind, Key: key, Body: []byte(body)})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	i2 := add(warehouse.RecordKindInspector, "I-2", `{"id":"I-2","county":"320830"}`)
	i1 := add(warehouse.RecordKindInspector, "I-1", `{"id":"I-1","county":"320812"}`)
	d1 := add(warehouse.RecordKindDraw, "draw-1", `{"step":"created"}`)
	i2b := add(warehouse.RecordKindInspector, "I-2", `{"id":"I-2","retired":true}`)
	if !i2.RecordedAt.After(before) || !i1.RecordedAt.After(i2.RecordedAt) || !i2b.RecordedAt.After(d1.RecordedAt) {
		t.Errorf("stamps do not rise: %v %v %v %v after %v", i2.RecordedAt, i1.RecordedAt, d1.RecordedAt, i2b.RecordedAt, before)
	}
	if wm, err := s.Watermark(t.Context()); err != nil || !wm.Equal(i2b.RecordedAt) {
		t.Errorf("watermark %v (%v), want the last record's stamp %v", wm, err, i2b.RecordedAt)
	}
	list := func(q warehouse.RecordQuery) string {
		t.Helper()
		rs, err := s.PlanningRecords(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		var parts []string
		for _, r := range rs {
			parts = append(parts, fmt.Sprintf("%s %s %s", r.Kind, r.Key, r.Body))
			if r.RecordedAt.IsZero() {
				t.Errorf("record %s has no stamp", r.Key)
			}
		}
		return strings.Join(parts, "\n")
	}
	if got, want := list(warehouse.RecordQuery{Kind: warehouse.RecordKindInspector}),
		`inspector I-1 {"id":"I-1","county":"320812"}
inspector I-2 {"id":"I-2","county":"320830"}
inspector I-2 {"id":"I-2","retired":true}`; got != want {
		t.Errorf("inspectors:\n%s\nwant\n%s", got, want)
	}
	if got := list(warehouse.RecordQuery{Kind: warehouse.RecordKindDraw, Key: "draw-1"}); got != `draw draw-1 {"step":"created"}` {
		t.Errorf("draw-1: %s", got)
	}
	if got := list(warehouse.RecordQuery{Kind: warehouse.RecordKindInspector, Watermark: i1.RecordedAt}); strings.Count(got, "\n") != 1 ||
		strings.Contains(got, "retired") {
		t.Errorf("inspectors up to the second record:\n%s", got)
	}
	if got := list(warehouse.RecordQuery{Kind: warehouse.RecordKindInspector, Cutoff: i1.RecordedAt}); got != `inspector I-2 {"id":"I-2","county":"320830"}` {
		t.Errorf("inspectors before the second record:\n%s", got)
	}
	if _, err := s.AddPlanningRecord(t.Context(), warehouse.PlanningRecord{Kind: "nope", Key: "x", Body: []byte("{}")}); err == nil {
		t.Error("a record of an unknown kind was stored")
	}
}

func testDrawSeeds(t *testing.T, open Opener) {
	// Given a draw's seed stored, then it reads back byte for byte, a second
	// seed for the draw is refused and leaves the first, and an unknown
	// draw has none.
	s := open(t)
	defer s.Close()
	seed := []byte("\x00\x01\xfe\xff0123456789abcdefghijklmnopqr")
	if err := s.StoreDrawSeed(t.Context(), "draw-1", seed); err != nil {
		t.Fatal(err)
	}
	if err := s.StoreDrawSeed(t.Context(), "draw-1", []byte("another seed of thirty-two bytes")); !errors.Is(err, warehouse.ErrSeedExists) {
		t.Errorf("second seed: want ErrSeedExists, got %v", err)
	}
	got, err := s.DrawSeed(t.Context(), "draw-1")
	if err != nil || string(got) != string(seed) {
		t.Errorf("seed %x, %v; want %x", got, err, seed)
	}
	if _, err := s.DrawSeed(t.Context(), "draw-2"); !errors.Is(err, warehouse.ErrNotFound) {
		t.Errorf("unknown draw: want ErrNotFound, got %v", err)
	}
}
