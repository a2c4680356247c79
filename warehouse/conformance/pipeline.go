package conformance

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// RunPipeline runs the warehouse.PipelineStore cases. A backend that does
// not implement PipelineStore yet is skipped, loudly.
func RunPipeline(t *testing.T, open Opener) {
	t.Run("ScoreFeatures", func(t *testing.T) { testScoreFeatures(t, open) })
	t.Run("RunRecords", func(t *testing.T) { testRunRecords(t, open) })
	t.Run("Scores", func(t *testing.T) { testScores(t, open) })
	t.Run("Timeline", func(t *testing.T) { testTimeline(t, open) })
}

func pipelineStore(t *testing.T, open Opener) (warehouse.Store, warehouse.PipelineStore) {
	t.Helper()
	s := open(t)
	ps, ok := s.(warehouse.PipelineStore)
	if !ok {
		s.Close()
		t.Skipf("%T does not implement warehouse.PipelineStore yet", s)
	}
	return s, ps
}

// FirmC is registered and has no other records.
var FirmC = model.CompleteUSCC("91320826MA1CCC03")

// The as_of of the pipeline fixtures and its windows (12/24/36 months).
var (
	shanghai    = time.FixedZone("CST", 8*3600)
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
	s, ps := pipelineStore(t, open)
	defer s.Close()
	write(t, s, warehouse.Batch{Items: pipelineFixtures(t)})
	var got []warehouse.EnterpriseFeatures
	err := ps.ScoreFeatures(t.Context(), warehouse.FeatureQuery{Cutoff: cutoff, AsOf: asOf, Bounds: featureBnds},
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

func testRunRecords(t *testing.T, open Opener) {
	// Given a run begun and finished, and another begun later, then Runs
	// returns both newest first with every field as stored.
	s, ps := pipelineStore(t, open)
	defer s.Close()
	start := time.Date(2025, 7, 1, 2, 0, 0, 0, shanghai)
	end := start.Add(90 * time.Second)
	r1 := warehouse.Run{ID: "score-1", Job: "score", AsOf: asOf, StartedAt: start, Status: warehouse.RunRunning,
		Counts: map[string]int64{}, ModelVersion: "sc-abc"}
	if err := ps.BeginRun(t.Context(), r1); err != nil {
		t.Fatal(err)
	}
	r1.Status, r1.FinishedAt, r1.Counts, r1.Digest = warehouse.RunSucceeded, &end, map[string]int64{"enterprises": 2, "grade_a": 1}, "d1"
	if err := ps.FinishRun(t.Context(), r1); err != nil {
		t.Fatal(err)
	}
	r2 := warehouse.Run{ID: "lists-2", Job: "lists", AsOf: asOf, StartedAt: end, Status: warehouse.RunRunning, Counts: map[string]int64{}, ModelVersion: "v"}
	if err := ps.BeginRun(t.Context(), r2); err != nil {
		t.Fatal(err)
	}
	if err := ps.FinishRun(t.Context(), warehouse.Run{ID: "nope", Status: warehouse.RunFailed}); !errors.Is(err, warehouse.ErrNotFound) {
		t.Errorf("finishing an unknown run: want ErrNotFound, got %v", err)
	}
	runs, err := ps.Runs(t.Context(), warehouse.RunFilter{})
	if err != nil || len(runs) != 2 {
		t.Fatalf("runs: %v %+v", err, runs)
	}
	got := runs[1]
	if runs[0].ID != "lists-2" || runs[0].FinishedAt != nil || got.ID != "score-1" || got.Status != warehouse.RunSucceeded ||
		got.AsOf != asOf || !got.StartedAt.Equal(start) || got.FinishedAt == nil || !got.FinishedAt.Equal(end) ||
		!reflect.DeepEqual(got.Counts, r1.Counts) || got.Digest != "d1" || got.ModelVersion != "sc-abc" {
		t.Errorf("runs: %+v", runs)
	}
	only, err := ps.Runs(t.Context(), warehouse.RunFilter{Job: "score", Limit: 5})
	if err != nil || len(only) != 1 || only[0].ID != "score-1" {
		t.Errorf("score runs: %v %+v", err, only)
	}
}

func testScores(t *testing.T, open Opener) {
	// Given two succeeded score runs (as_of 06-30 and an older 05-31 run that
	// finished later) and a failed one, then the latest score comes from the
	// 06-30 run, history lists both succeeded runs, and listings filter and page.
	s, ps := pipelineStore(t, open)
	defer s.Close()
	write(t, s, warehouse.Batch{Items: pipelineFixtures(t)})
	start := time.Date(2025, 7, 1, 2, 0, 0, 0, shanghai)
	runs := []struct {
		id, asOf string
		status   warehouse.RunStatus
		at       time.Time
		gradeA   string
	}{
		{"r-new", "2025-06-30", warehouse.RunSucceeded, start, "B"},
		{"r-old", "2025-05-31", warehouse.RunSucceeded, start.Add(time.Hour), "C"},
		{"r-bad", "2025-07-01", warehouse.RunFailed, start.Add(2 * time.Hour), "D"},
	}
	for _, r := range runs {
		run := warehouse.Run{ID: r.id, Job: "score", AsOf: r.asOf, StartedAt: r.at, Status: warehouse.RunRunning, Counts: map[string]int64{}, ModelVersion: "sc-1"}
		if err := ps.BeginRun(t.Context(), run); err != nil {
			t.Fatal(err)
		}
		err := ps.WriteScores(t.Context(), []warehouse.ScoreRow{
			{RunID: r.id, USCC: FirmA, AsOf: r.asOf, ModelVersion: "sc-1", ScoreTenths: 805, Grade: r.gradeA, Reasons: json.RawMessage(`[{"rule":"x"}]`)},
			{RunID: r.id, USCC: FirmC, AsOf: r.asOf, ModelVersion: "sc-1", ScoreTenths: 1000, Grade: "A", Reasons: json.RawMessage(`[]`)},
		})
		if err != nil {
			t.Fatal(err)
		}
		end := r.at.Add(time.Minute)
		run.Status, run.FinishedAt = r.status, &end
		if err := ps.FinishRun(t.Context(), run); err != nil {
			t.Fatal(err)
		}
	}
	latest, err := ps.LatestScore(t.Context(), FirmA)
	if err != nil || latest.RunID != "r-new" || latest.Grade != "B" || latest.ScoreTenths != 805 || latest.AsOf != "2025-06-30" ||
		string(latest.Reasons) != `[{"rule":"x"}]` || latest.USCC != FirmA || latest.ModelVersion != "sc-1" {
		t.Errorf("latest: %+v %v", latest, err)
	}
	if _, err := ps.LatestScore(t.Context(), FirmB); !errors.Is(err, warehouse.ErrNotFound) {
		t.Errorf("unscored firm: want ErrNotFound, got %v", err)
	}
	hist, err := ps.ScoreHistory(t.Context(), FirmA, 10)
	if err != nil || len(hist) != 2 || hist[0].RunID != "r-new" || hist[1].RunID != "r-old" {
		t.Errorf("history: %+v %v", hist, err)
	}
	tests := []struct {
		name  string
		f     warehouse.ScoreFilter
		total int64
		uscc  []model.USCC
	}{
		{"all", warehouse.ScoreFilter{Limit: 10}, 2, sorted(FirmA, FirmC)},
		{"grade", warehouse.ScoreFilter{Grade: "A", Limit: 10}, 1, []model.USCC{FirmC}},
		{"region", warehouse.ScoreFilter{Region: "320830", Limit: 10}, 1, []model.USCC{FirmA}},
		{"industry prefix", warehouse.ScoreFilter{Industry: "C13", Limit: 10}, 1, []model.USCC{FirmC}},
		{"cluster", warehouse.ScoreFilter{Cluster: "320830-C38", Limit: 10}, 1, []model.USCC{FirmA}},
		{"paging", warehouse.ScoreFilter{Limit: 1, Offset: 1}, 2, sorted(FirmA, FirmC)[1:]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := ps.ListScores(t.Context(), tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var got []model.USCC
			for _, it := range page.Items {
				got = append(got, it.USCC)
				if it.RunID != "r-new" || it.Name == "" || it.Region == "" || it.Cluster == "" {
					t.Errorf("item %+v", it)
				}
			}
			if page.Total != tt.total || page.RunID != "r-new" || page.AsOf != "2025-06-30" || !reflect.DeepEqual(got, tt.uscc) {
				t.Errorf("page %+v, want total %d items %v", page, tt.total, tt.uscc)
			}
		})
	}
}

func sorted(a, b model.USCC) []model.USCC {
	if b < a {
		return []model.USCC{b, a}
	}
	return []model.USCC{a, b}
}

func testTimeline(t *testing.T, open Opener) {
	// Given the fixtures written in arbitrary order, then an enterprise's
	// timeline is its events in (occurred_at, id) order, data included.
	s, ps := pipelineStore(t, open)
	defer s.Close()
	write(t, s, warehouse.Batch{Items: pipelineFixtures(t)})
	evs, err := ps.Timeline(t.Context(), FirmA, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 26 {
		t.Fatalf("timeline has %d events, want 26", len(evs))
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
	short, err := ps.Timeline(t.Context(), FirmA, 3)
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
