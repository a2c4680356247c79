package conformance

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// RunPipeline runs the cases of what the pipelines, serving and the credit
// file need of a backend.
func RunPipeline(t *testing.T, open Opener) {
	t.Run("ScoreFeatures", func(t *testing.T) { testScoreFeatures(t, open) })
	t.Run("FeaturesReadUpToTheWatermark", func(t *testing.T) { testFeaturesWatermark(t, open) })
	t.Run("RunRecords", func(t *testing.T) { testRunRecords(t, open) })
	t.Run("Outputs", func(t *testing.T) { testOutputs(t, open) })
	t.Run("Timeline", func(t *testing.T) { testTimeline(t, open) })
	t.Run("Enterprises", func(t *testing.T) { testEnterprises(t, open) })
	t.Run("Leases", func(t *testing.T) { testLeases(t, open) })
	t.Run("Activity", func(t *testing.T) { testActivity(t, open) })
	t.Run("Retractions", func(t *testing.T) { testRetractions(t, open) })
}

// FirmC is registered and has no other records.
var FirmC = model.CompleteUSCC("91320826MA1CCC03")

// The as_of of the pipeline fixtures and its windows (12/24/36 months).
var (
	shanghai    = model.Shanghai
	asOf        = "2025-06-30"
	cutoff      = time.Date(2025, 7, 1, 0, 0, 0, 0, shanghai)
	featureBnds = []time.Time{cutoff.AddDate(0, -12, 0), cutoff.AddDate(0, -24, 0), cutoff.AddDate(0, -36, 0)}
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 10, 0, 0, 0, shanghai) }

func pipelineFixtures(t *testing.T) []warehouse.Item {
	reg := func(id string, u model.USCC, region, industry string) warehouse.Item {
		return Event(t, id, model.EventEnterpriseRegistered, u, day(2020, 1, 1),
			map[string]any{"name": "企业" + id, "region": region, "industry": industry})
	}
	check := func(id string, at time.Time, result, severity, retestOf string) warehouse.Item {
		d := map[string]any{"check_id": "C-" + id, "product": "电线电缆", "result": result}
		if severity != "" {
			d["severity"] = severity
		}
		if retestOf != "" {
			d["retest_of"] = retestOf
		}
		return Event(t, id, model.EventSpotCheckCompleted, FirmA, at, d)
	}
	pen := func(id, caseNo, sev, violation string, at time.Time) warehouse.Item {
		return Event(t, id, model.EventPenaltyDecided, FirmA, at, map[string]any{"case_no": caseNo, "violation": violation, "severity": sev})
	}
	hazard := func(id, hid string, serious bool, deadline string, at time.Time) warehouse.Item {
		return Event(t, id, model.EventEquipmentHazardFound, FirmA, at, map[string]any{"equipment_id": "E1", "hazard_id": hid, "serious": serious, "deadline": deadline})
	}
	return []warehouse.Item{
		reg("r-a", FirmA, "320830", "C3831"), reg("r-c", FirmC, "320826", "C1361"),
		check("sc1", day(2025, 3, 1), "pass", "", ""),
		check("sc0", day(2025, 1, 1), "pass", "", ""), // passes cite only the greatest id
		check("sc2", day(2024, 3, 1), "fail", "major", ""),
		check("sc3", day(2025, 5, 1), "fail", "critical", "C-sc2"),
		check("sc4", day(2021, 1, 1), "fail", "minor", ""),    // before the look-back
		check("sc5", day(2025, 7, 2), "fail", "critical", ""), // after as_of
		pen("p1", "CASE-1", "heavy", "counterfeit", day(2024, 9, 1)),
		Event(t, "p1r", model.EventPenaltyRevoked, FirmA, day(2025, 1, 1), map[string]any{"case_no": "CASE-1"}),
		pen("p2", "CASE-2", "general", "false_labeling", day(2023, 1, 1)),
		Event(t, "p2x", model.EventCreditRepaired, FirmA, day(2024, 1, 1), map[string]any{"case_no": "CASE-2"}),
		pen("p3", "CASE-3", "general", "false_labeling", day(2025, 2, 1)),
		pen("p4", "CASE-4", "light", "other", day(2025, 2, 1)),
		Event(t, "p4r", model.EventPenaltyRevoked, FirmA, day(2025, 8, 1), map[string]any{"case_no": "CASE-4"}), // revoked after as_of: counts
		hazard("h1", "H1", true, "2025-04-01", day(2025, 3, 1)),                                                 // serious, overdue
		hazard("h2", "H2", false, "2025-04-01", day(2025, 3, 1)),                                                // corrected
		Event(t, "h2c", model.EventEquipmentHazardFixed, FirmA, day(2025, 3, 20), map[string]any{"equipment_id": "E1", "hazard_id": "H2", "self_found": true}),
		hazard("h3", "H3", false, "2025-07-15", day(2025, 6, 1)), // deadline after as_of
		Event(t, "k1", model.EventComplaintClosed, FirmA, day(2025, 1, 5), map[string]any{"complaint_id": "K1", "verified": true}),
		Event(t, "k2", model.EventComplaintClosed, FirmA, day(2025, 1, 6), map[string]any{"complaint_id": "K2", "verified": false}),
		Event(t, "c1", model.EventCertificationGranted, FirmA, day(2024, 1, 1), map[string]any{"cert_no": "CERT-1", "scheme": "ISO9001"}),
		Event(t, "c2", model.EventCertificationGranted, FirmA, day(2024, 1, 1), map[string]any{"cert_no": "CERT-2", "scheme": "CCC"}),
		Event(t, "c2w", model.EventCertificationWithdrawn, FirmA, day(2024, 6, 1), map[string]any{"cert_no": "CERT-2", "scheme": "CCC"}),
		Event(t, "l1", model.EventLicenceRevoked, FirmA, day(2023, 1, 1), map[string]any{"licence_no": "XK-1", "reason": "violation"}),
		Event(t, "a1", model.EventEquipmentAccident, FirmA, day(2022, 12, 1), map[string]any{"equipment_id": "E1", "accident_id": "A1", "grade": "general"}),
		Event(t, "i1", model.EventEquipmentInspected, FirmA, day(2025, 6, 30), map[string]any{"equipment_id": "E1", "result": "pass"}),
		// FirmB has records but no registration: not scored.
		Event(t, "b1", model.EventSpotCheckCompleted, FirmB, day(2025, 3, 1), map[string]any{"check_id": "B1", "product": "钢材", "result": "pass"}),
	}
}

func testScoreFeatures(t *testing.T, open Opener) {
	// Given one enterprise with records of every kind around the window
	// edges, one registered without records and one unregistered, when the
	// features of as_of 2025-06-30 are read, then exactly the expected rows
	// come back in USCC order.
	s := open(t)
	defer s.Close()
	write(t, s, warehouse.Batch{Items: pipelineFixtures(t)})
	var got []warehouse.EnterpriseFeatures
	err := s.ScoreFeatures(t.Context(), featureQuery(t, s),
		func(f warehouse.EnterpriseFeatures) error { got = append(got, f); return nil })
	if err != nil {
		t.Fatal(err)
	}
	row := func(kind, sub, cat, flag string, counts []int64, ids ...string) warehouse.FeatureRow {
		return warehouse.FeatureRow{Kind: kind, Sub: sub, Category: cat, Flag: flag, Counts: counts, IDs: ids}
	}
	want := []warehouse.EnterpriseFeatures{
		{USCC: FirmA, Rows: []warehouse.FeatureRow{
			row("accident", "general", "", "", []int64{0, 0, 1}, "a1"),
			row("certification", "", "", "", []int64{0, 1, 0}, "c1"),
			row("complaint", "", "", "", []int64{1, 0, 0}, "k1"),
			row("hazard", "ordinary", "", "", []int64{2, 0, 0}, "h2", "h3"),
			row("hazard", "serious", "", "overdue", []int64{1, 0, 0}, "h1"),
			row("inspection", "pass", "", "", []int64{1, 0, 0}, "i1"),
			row("licence_revoked", "", "violation", "", []int64{0, 0, 1}, "l1"),
			row("penalty", "general", "false_labeling", "", []int64{1, 0, 0}, "p3"),
			row("penalty", "general", "false_labeling", "repaired", []int64{0, 0, 1}, "p2"),
			row("penalty", "light", "other", "", []int64{1, 0, 0}, "p4"),
			row("spot_check", "critical", "", "retest", []int64{1, 0, 0}, "sc3"),
			row("spot_check", "major", "", "", []int64{0, 1, 0}, "sc2"),
			row("spot_check", "pass", "", "", []int64{2, 0, 0}, "sc1"),
		}},
		{USCC: FirmC},
	}
	if FirmC < FirmA {
		want[0], want[1] = want[1], want[0]
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("features:\n got %s\nwant %s", featureLines(got), featureLines(want))
	}
}

// featureQuery is the query of as_of 2025-06-30 with everything stored so far.
func featureQuery(t *testing.T, s Backend) warehouse.FeatureQuery {
	t.Helper()
	wm, err := s.Watermark(t.Context())
	if err != nil || wm.IsZero() {
		t.Fatalf("watermark %v, %v", wm, err)
	}
	return warehouse.FeatureQuery{Cutoff: cutoff, Watermark: wm, AsOf: asOf, Bounds: featureBnds}
}

func testFeaturesWatermark(t *testing.T, open Opener) {
	// Given the fixtures, then a late report of a failed check (occurred
	// before the as_of, stored after), when features are read with the
	// watermark taken before the late report, then it is not read, and
	// CountEvents counts exactly it between the two watermarks; with the
	// new watermark it is read.
	s := open(t)
	defer s.Close()
	write(t, s, warehouse.Batch{Items: pipelineFixtures(t)})
	before := featureQuery(t, s)
	late := Event(t, "late1", model.EventSpotCheckCompleted, FirmC, day(2025, 6, 1),
		map[string]any{"check_id": "C-late", "product": "钢材", "result": "fail", "severity": "critical"})
	write(t, s, warehouse.Batch{Items: []warehouse.Item{late}})
	after := featureQuery(t, s)
	if !after.Watermark.After(before.Watermark) {
		t.Fatalf("watermark did not move: %v then %v", before.Watermark, after.Watermark)
	}
	rowsOfC := func(q warehouse.FeatureQuery) int {
		n := -1
		err := s.ScoreFeatures(t.Context(), q, func(f warehouse.EnterpriseFeatures) error {
			if f.USCC == FirmC {
				n = len(f.Rows)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got := rowsOfC(before); got != 0 {
		t.Errorf("with the earlier watermark firm C has %d rows, want 0", got)
	}
	if got := rowsOfC(after); got != 1 {
		t.Errorf("with the later watermark firm C has %d rows, want 1", got)
	}
	n, err := s.CountEvents(t.Context(), warehouse.EventCount{OccurredBefore: cutoff, IngestedAfter: before.Watermark, IngestedUpTo: after.Watermark})
	if err != nil || n != 1 {
		t.Errorf("late events: %d, %v; want 1", n, err)
	}
	all, err := s.CountEvents(t.Context(), warehouse.EventCount{})
	if err != nil || all != int64(len(pipelineFixtures(t))+1) {
		t.Errorf("all events: %d, %v", all, err)
	}
}

// beginRun begins a run of job as of asOf, started at start.
func beginRun(t *testing.T, s Backend, job, asOf string, wm, start time.Time) warehouse.Run {
	t.Helper()
	r, err := s.BeginRun(t.Context(), warehouse.Run{Job: job, AsOf: asOf, Watermark: wm, StartedAt: start,
		Status: warehouse.RunRunning, Counts: map[string]int64{}, ModelVersion: "m-" + job})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func finishRun(t *testing.T, s Backend, r warehouse.Run, st warehouse.RunStatus, end time.Time) warehouse.Run {
	t.Helper()
	r.Status, r.FinishedAt, r.Counts, r.Digest = st, &end, map[string]int64{"enterprises": 2}, "d-"+r.ID
	if err := s.FinishRun(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	return r
}

func testRunRecords(t *testing.T, open Opener) {
	// Given runs of two jobs begun and finished, then each job's versions
	// count from 1, ids are job-version, and Runs returns every field as
	// stored, newest start first, filtered by job and status.
	s := open(t)
	defer s.Close()
	start := time.Date(2025, 7, 1, 2, 0, 0, 0, shanghai)
	wm := time.Date(2025, 7, 1, 1, 59, 58, 123456000, shanghai)
	s1 := beginRun(t, s, "score", asOf, wm, start)
	l1 := beginRun(t, s, "lists", asOf, wm, start.Add(time.Second))
	s2 := beginRun(t, s, "score", "2025-05-31", wm, start.Add(2*time.Second))
	if s1.Version != 1 || s1.ID != "score-1" || l1.Version != 1 || l1.ID != "lists-1" || s2.Version != 2 || s2.ID != "score-2" {
		t.Fatalf("versions: %s %s %s", s1.ID, l1.ID, s2.ID)
	}
	end := start.Add(90 * time.Second)
	s1 = finishRun(t, s, s1, warehouse.RunSucceeded, end)
	finishRun(t, s, s2, warehouse.RunFailed, end)
	if err := s.FinishRun(t.Context(), warehouse.Run{ID: "nope-9", Job: "nope", Version: 9, Status: warehouse.RunFailed}); !errors.Is(err, warehouse.ErrNotFound) {
		t.Errorf("finishing an unknown run: want ErrNotFound, got %v", err)
	}
	runs, err := s.Runs(t.Context(), warehouse.RunFilter{})
	if err != nil || len(runs) != 3 {
		t.Fatalf("runs: %v %+v", err, runs)
	}
	got := runs[2]
	if runs[0].ID != "score-2" || runs[0].Status != warehouse.RunFailed || runs[1].ID != "lists-1" || runs[1].FinishedAt != nil ||
		got.ID != "score-1" || got.Job != "score" || got.Version != 1 || got.Status != warehouse.RunSucceeded || got.AsOf != asOf ||
		!got.Watermark.Equal(wm) || !got.StartedAt.Equal(start) || got.FinishedAt == nil || !got.FinishedAt.Equal(end) ||
		!reflect.DeepEqual(got.Counts, s1.Counts) || got.Digest != "d-score-1" || got.ModelVersion != "m-score" {
		t.Errorf("runs: %+v", runs)
	}
	only, err := s.Runs(t.Context(), warehouse.RunFilter{Job: "score", Status: warehouse.RunSucceeded, Limit: 5})
	if err != nil || len(only) != 1 || only[0].ID != "score-1" {
		t.Errorf("succeeded score runs: %v %+v", err, only)
	}
	one, err := s.Runs(t.Context(), warehouse.RunFilter{Limit: 1})
	if err != nil || len(one) != 1 || one[0].ID != "score-2" {
		t.Errorf("limit 1: %v %+v", err, one)
	}
}

func testOutputs(t *testing.T, open Opener) {
	// Given three score runs (two succeeded, one failed) each writing two
	// firms' scores and an output about no firm, then a version reads back
	// whole in key order (with or without payloads), one output by key, and
	// a firm's history lists its succeeded runs' outputs, current first.
	s := open(t)
	defer s.Close()
	start := time.Date(2025, 7, 1, 2, 0, 0, 0, shanghai)
	wm := start.Add(-time.Hour)
	runs := []struct {
		asOf   string
		status warehouse.RunStatus
		gradeA string
	}{
		{"2025-06-30", warehouse.RunSucceeded, "B"},
		{"2025-05-31", warehouse.RunSucceeded, "C"}, // a backfill, run later
		{"2025-07-01", warehouse.RunFailed, "D"},
	}
	for i, r := range runs {
		run := beginRun(t, s, "score", r.asOf, wm, start.Add(time.Duration(i)*time.Hour))
		rows := []warehouse.OutputRow{
			{Key: string(FirmA), USCC: string(FirmA), Label: r.gradeA, Value: 805, Payload: []byte(`[{"rule":"x"}]`)},
			{Key: string(FirmC), USCC: string(FirmC), Label: "A", Value: 1000, Payload: []byte(`[]`)},
			{Key: "~summary", Label: "total", Value: 2, Payload: []byte(`{"n":2}`)},
		}
		if err := s.WriteOutputs(t.Context(), "score", run.Version, rows); err != nil {
			t.Fatal(err)
		}
		finishRun(t, s, run, r.status, start.Add(time.Duration(i)*time.Hour+time.Minute))
	}
	var got []warehouse.OutputRow
	err := s.ReadOutputs(t.Context(), warehouse.OutputQuery{Job: "score", Version: 1, Payload: true},
		func(o warehouse.OutputRow) error { got = append(got, o); return nil })
	if err != nil || len(got) != 3 {
		t.Fatalf("outputs of score-1: %v %+v", err, got)
	}
	for i := 1; i < len(got); i++ {
		if got[i-1].Key >= got[i].Key {
			t.Errorf("outputs not in key order: %q then %q", got[i-1].Key, got[i].Key)
		}
	}
	a := got[slices.IndexFunc(got, func(o warehouse.OutputRow) bool { return o.Key == string(FirmA) })]
	if a.USCC != string(FirmA) || a.Label != "B" || a.Value != 805 || string(a.Payload) != `[{"rule":"x"}]` {
		t.Errorf("firm A of score-1: %+v", a)
	}
	bare := 0
	err = s.ReadOutputs(t.Context(), warehouse.OutputQuery{Job: "score", Version: 2},
		func(o warehouse.OutputRow) error {
			if o.Payload != nil || o.Label == "" {
				t.Errorf("without payloads: %+v", o)
			}
			bare++
			return nil
		})
	if err != nil || bare != 3 {
		t.Errorf("outputs of score-2 without payloads: %d, %v", bare, err)
	}
	one, err := s.Output(t.Context(), "score", 2, string(FirmA))
	if err != nil || one.Label != "C" || string(one.Payload) != `[{"rule":"x"}]` {
		t.Errorf("one output: %+v %v", one, err)
	}
	if _, err := s.Output(t.Context(), "score", 2, string(FirmB)); !errors.Is(err, warehouse.ErrNotFound) {
		t.Errorf("missing output: want ErrNotFound, got %v", err)
	}
	hist, err := s.OutputHistory(t.Context(), "score", FirmA, 10)
	if err != nil || len(hist) != 2 || hist[0].Run.ID != "score-1" || hist[0].Label != "B" || hist[1].Run.ID != "score-2" ||
		hist[1].Label != "C" || hist[1].Run.AsOf != "2025-05-31" || hist[0].Key != string(FirmA) {
		t.Errorf("history of A: %+v %v", hist, err)
	}
	if h, err := s.OutputHistory(t.Context(), "score", FirmA, 1); err != nil || len(h) != 1 || h[0].Run.ID != "score-1" {
		t.Errorf("history of A, limit 1: %+v %v", h, err)
	}
	if h, err := s.OutputHistory(t.Context(), "score", FirmB, 10); err != nil || len(h) != 0 {
		t.Errorf("history of an unscored firm: %+v %v", h, err)
	}
}

func testEnterprises(t *testing.T, open Opener) {
	// Given the fixtures' two registered firms (and records of an
	// unregistered one), then Enterprises streams both, in USCC order, with
	// their registered state.
	s := open(t)
	defer s.Close()
	write(t, s, warehouse.Batch{Items: pipelineFixtures(t)})
	var got []model.Enterprise
	if err := s.Enterprises(t.Context(), func(e model.Enterprise) error { got = append(got, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].USCC >= got[1].USCC {
		t.Fatalf("enterprises: %+v", got)
	}
	wm, err := s.Watermark(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if since, err := s.EnterprisesSince(t.Context(), wm); err != nil || len(since) != 0 {
		t.Errorf("enterprises changed since the watermark: %+v %v", since, err)
	}
	write(t, s, warehouse.Batch{Items: []warehouse.Item{Event(t, "u-c", model.EventEnterpriseUpdated, FirmC, day(2021, 1, 1),
		map[string]any{"name": "新名字有限公司"})}})
	if since, err := s.EnterprisesSince(t.Context(), wm); err != nil || len(since) != 1 || since[0].USCC != FirmC || since[0].Name != "新名字有限公司" {
		t.Errorf("enterprises changed since the watermark, after an update of firm C: %+v %v", since, err)
	}
	for _, e := range got {
		one, err := s.Enterprise(t.Context(), e.USCC)
		if e.USCC == FirmC {
			e.Name = "新名字有限公司"
		}
		if err != nil || one.Name != e.Name || one.Region != e.Region || one.Industry != e.Industry || e.Name == "" ||
			!e.RegisteredAt.Equal(day(2020, 1, 1)) {
			t.Errorf("enterprise %s: bulk %+v, one %+v (%v)", e.USCC, e, one, err)
		}
	}
}

func testLeases(t *testing.T, open Opener) {
	// Given a lease taken by one holder, then another holder is refused
	// until the first releases it; the holder renews it. (Expiry is
	// warehouse.ResolveLease's, tested there.)
	s := open(t)
	defer s.Close()
	ctx := t.Context()
	acquire := func(name, holder string, ttl time.Duration) bool {
		t.Helper()
		ok, err := s.AcquireLease(ctx, name, holder, ttl)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !acquire("job/score", "a", time.Minute) {
		t.Fatal("a free lease was refused")
	}
	if acquire("job/score", "b", time.Minute) {
		t.Error("a held lease was granted to another holder")
	}
	if !acquire("job/score", "a", time.Minute) {
		t.Error("the holder could not renew")
	}
	if !acquire("job/lists", "b", time.Minute) {
		t.Error("another lease was refused")
	}
	if err := s.ReleaseLease(ctx, "job/score", "b"); err != nil {
		t.Fatal(err)
	}
	if acquire("job/score", "b", time.Minute) {
		t.Error("a stranger's release freed the lease")
	}
	if err := s.ReleaseLease(ctx, "job/score", "a"); err != nil {
		t.Fatal(err)
	}
	if !acquire("job/score", "b", time.Minute) {
		t.Error("a released lease was refused")
	}
	if acquire("job/score", "a", time.Minute) {
		t.Error("the former holder took the lease back while it was held")
	}
}

func testTimeline(t *testing.T, open Opener) {
	// Given the fixtures written in arbitrary order, then an enterprise's
	// timeline is its events in (occurred_at, id) order, data included.
	s := open(t)
	defer s.Close()
	write(t, s, warehouse.Batch{Items: pipelineFixtures(t)})
	evs, err := s.Timeline(t.Context(), FirmA, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 26 {
		t.Fatalf("timeline has %d events, want 26", len(evs))
	}
	if err := s.Optimize(t.Context()); err != nil {
		t.Fatal(err)
	}
	if again, err := s.Timeline(t.Context(), FirmA, 1000); err != nil || !reflect.DeepEqual(again, evs) {
		t.Errorf("timeline after Optimize differs: %d events, %v", len(again), err)
	}
	for i := 1; i < len(evs); i++ {
		a, b := evs[i-1], evs[i]
		if a.OccurredAt.After(b.OccurredAt) || (a.OccurredAt.Equal(b.OccurredAt) && a.ID > b.ID) {
			t.Errorf("timeline out of order at %d: %s %v, %s %v", i, a.ID, a.OccurredAt, b.ID, b.OccurredAt)
		}
		if b.USCC != FirmA || len(b.Data) == 0 || b.Type == "" {
			t.Errorf("event %+v", b)
		}
	}
	if evs[0].ID != "r-a" {
		t.Errorf("first event %s, want the registration", evs[0].ID)
	}
	short, err := s.Timeline(t.Context(), FirmA, 3)
	if err != nil || len(short) != 3 {
		t.Errorf("limited timeline: %d %v", len(short), err)
	}
}

func featureLines(fs []warehouse.EnterpriseFeatures) string {
	var out string
	for _, f := range fs {
		out += "\n  " + string(f.USCC)
		for _, r := range f.Rows {
			b, _ := json.Marshal(r)
			out += "\n    " + string(b)
		}
	}
	return out
}

func testRetractions(t *testing.T, open Opener) {
	// Given the fixtures, when their bureau retracts firm A's failed major
	// check sc2, then the retraction is stored and the check is no longer a
	// feature under the new watermark (still under the old one), while both
	// stay in the timeline; a retraction by another bureau, of an unknown
	// event or of a retraction is refused as a dead letter saying why.
	s := open(t)
	defer s.Close()
	write(t, s, warehouse.Batch{Items: pipelineFixtures(t)})
	before := featureQuery(t, s)
	retract := func(id, target, source string) warehouse.Item {
		it := Event(t, id, model.EventRetracted, FirmA, day(2025, 6, 2), map[string]any{"event_id": target, "reason": "录入错误"})
		it.Record.Source = source
		return it
	}
	res := write(t, s, warehouse.Batch{Items: []warehouse.Item{
		retract("x1", "sc2", "320830"),
		retract("x2", "sc3", "320812"), // another bureau
		retract("x3", "nope", "320830"),
		retract("x4", "x1", "320830"), // a retraction
	}})
	if res.Stored != 1 || res.DeadLettered != 3 {
		t.Fatalf("write of four retractions: %+v, want 1 stored and 3 dead-lettered", res)
	}
	after := featureQuery(t, s)
	majors := func(q warehouse.FeatureQuery) int64 {
		var n int64
		err := s.ScoreFeatures(t.Context(), q, func(f warehouse.EnterpriseFeatures) error {
			for _, r := range f.Rows {
				if f.USCC == FirmA && r.Kind == "spot_check" && r.Sub == "major" {
					n += r.Counts[0] + r.Counts[1] + r.Counts[2]
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got := majors(before); got != 1 {
		t.Errorf("under the watermark before the retraction: %d major failures, want 1", got)
	}
	if got := majors(after); got != 0 {
		t.Errorf("after the retraction: %d major failures, want 0", got)
	}
	evs, err := s.Timeline(t.Context(), FirmA, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range evs {
		ids = append(ids, e.ID)
	}
	if !slices.Contains(ids, "sc2") || !slices.Contains(ids, "x1") || slices.Contains(ids, "x2") {
		t.Errorf("timeline %v: want sc2 and its retraction x1, not the refused x2", ids)
	}
	letters, err := s.DeadLetters(t.Context(), warehouse.DeadLetterFilter{})
	if err != nil {
		t.Fatal(err)
	}
	why := map[string]string{}
	for _, dl := range letters {
		why[dl.EventID] = dl.Detail
	}
	for id, want := range map[string]string{"x2": "only it may retract it", "x3": "not stored", "x4": "itself a retraction"} {
		if !strings.Contains(why[id], want) {
			t.Errorf("dead letter of %s: %q, want it to say %q", id, why[id], want)
		}
	}
}
