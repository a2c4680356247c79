package conformance

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// RunClusters runs the cases of what the clusters job reads.
func RunClusters(t *testing.T, open Opener) {
	t.Run("ClusterEnterprises", func(t *testing.T) { testClusterEnterprises(t, open) })
	t.Run("ClusterRecords", func(t *testing.T) { testClusterRecords(t, open) })
	t.Run("KeyHistory", func(t *testing.T) { testKeyHistory(t, open) })
	t.Run("ClusterRetractions", func(t *testing.T) { testClusterRetractions(t, open) })
}

// Firms of the cluster fixtures, besides FirmA (FirmB and FirmC are the
// pipeline fixtures').
var (
	firmGone  = model.CompleteUSCC("91320826MA1DDD04") // deregistered before the cutoff
	firmLate  = model.CompleteUSCC("91320826MA1EEE05") // registered after the cutoff
	firmBack  = model.CompleteUSCC("91320826MA1FFF06") // deregistered, then registered again
	clusterAt = time.Date(2025, 7, 1, 0, 0, 0, 0, shanghai)
)

func clusterQuery(t *testing.T, s Backend) warehouse.ClusterQuery {
	t.Helper()
	wm, err := s.Watermark(t.Context())
	if err != nil || wm.IsZero() {
		t.Fatalf("watermark %v, %v", wm, err)
	}
	return warehouse.ClusterQuery{Start: clusterAt.AddDate(-1, 0, 0), Cutoff: clusterAt, Watermark: wm, AsOf: asOf}
}

func clusterFixtures(t *testing.T) []warehouse.Item {
	reg := func(id string, u model.USCC, at time.Time, data map[string]any) warehouse.Item {
		return Event(t, id, model.EventEnterpriseRegistered, u, at, data)
	}
	check := func(id string, at time.Time, result, product string) warehouse.Item {
		d := map[string]any{"check_id": "C-" + id, "product": product, "result": result}
		if result == "fail" {
			d["severity"] = "major"
		}
		return Event(t, id, model.EventSpotCheckCompleted, FirmA, at, d)
	}
	hazard := func(id, hid, deadline string, at time.Time) warehouse.Item {
		return Event(t, id, model.EventEquipmentHazardFound, FirmA, at, map[string]any{"equipment_id": "E1", "hazard_id": hid, "deadline": deadline})
	}
	fixed := func(id, hid string, at time.Time) warehouse.Item {
		return Event(t, id, model.EventEquipmentHazardFixed, FirmA, at, map[string]any{"equipment_id": "E1", "hazard_id": hid})
	}
	penalty := func(id, caseNo string, at time.Time) warehouse.Item {
		return Event(t, id, model.EventPenaltyDecided, FirmA, at, map[string]any{"case_no": caseNo, "violation": "substandard", "severity": "general"})
	}
	revoked := func(id, caseNo string, at time.Time) warehouse.Item {
		return Event(t, id, model.EventPenaltyRevoked, FirmA, at, map[string]any{"case_no": caseNo})
	}
	sec := time.Second
	return []warehouse.Item{
		reg("e-a", FirmA, day(2020, 1, 1), map[string]any{"name": "淮安凹土有限公司", "region": "320802", "industry": "C3099"}),
		Event(t, "e-a2", model.EventEnterpriseUpdated, FirmA, day(2023, 5, 1), map[string]any{"cluster": "xuyi-attapulgite"}),
		Event(t, "e-a3", model.EventEnterpriseUpdated, FirmA, day(2025, 7, 5), map[string]any{"name": "改名以后有限公司"}), // after the cutoff
		reg("e-g", firmGone, day(2020, 1, 1), map[string]any{"name": "已注销有限公司", "region": "320826", "industry": "C1361"}),
		Event(t, "e-g2", model.EventEnterpriseDeregistered, firmGone, day(2025, 3, 1), map[string]any{"reason": "注销"}),
		reg("e-l", firmLate, day(2025, 7, 2), map[string]any{"name": "新设有限公司", "region": "320826", "industry": "C1361"}),
		reg("e-b1", firmBack, day(2021, 1, 1), map[string]any{"name": "旧名有限公司", "region": "320826", "industry": "C1361", "cluster": "lianshui"}),
		Event(t, "e-b2", model.EventEnterpriseDeregistered, firmBack, day(2022, 1, 1), map[string]any{}),
		reg("e-b3", firmBack, day(2023, 1, 1), map[string]any{"name": "重新登记有限公司", "region": "320826", "industry": "C1369"}),

		check("c1", clusterAt.AddDate(-1, 0, 0).Add(-sec), "fail", "凹土"), // before the window
		check("c2", clusterAt.AddDate(-1, 0, 0), "fail", "凹土干燥剂"),        // its first second
		check("c3", clusterAt.Add(-sec), "pass", "脱色剂"),                  // its last second
		check("c4", clusterAt, "fail", "凹土"),                             // after it
		Event(t, "c5", model.EventSpotCheckCompleted, firmGone, day(2024, 9, 1), map[string]any{"check_id": "C5", "product": "冻小龙虾", "result": "pass"}),
		penalty("p1", "P1", day(2025, 1, 1)), revoked("p1r", "P1", day(2025, 2, 1)), // revoked
		penalty("p2", "P2", day(2025, 1, 1)), revoked("p2r", "P2", day(2025, 8, 1)), // revoked after the cutoff: counts
		penalty("p3", "P3", day(2024, 5, 1)), // before the window
		Event(t, "k1", model.EventComplaintClosed, FirmA, day(2025, 1, 5), map[string]any{"complaint_id": "K1", "verified": true}),
		Event(t, "k2", model.EventComplaintClosed, FirmA, day(2025, 1, 6), map[string]any{"complaint_id": "K2", "verified": false}),
		hazard("h1", "H1", "2025-06-01", day(2025, 5, 1)),                                       // overdue
		hazard("h2", "H2", "2025-06-01", day(2025, 5, 1)), fixed("h2c", "H2", day(2025, 6, 15)), // corrected
		hazard("h3", "H3", "2025-07-15", day(2025, 6, 1)),                                       // not yet due
		hazard("h4", "H4", "2025-06-01", day(2025, 5, 1)), fixed("h4c", "H4", day(2025, 7, 10)), // corrected after the cutoff: overdue
		Event(t, "x1", model.EventEquipmentAccident, FirmA, day(2025, 3, 1), map[string]any{"equipment_id": "E1", "accident_id": "A1", "grade": "larger"}),
	}
}

func testClusterEnterprises(t *testing.T, open Opener) {
	// Given registrations, updates and deregistrations around the cutoff,
	// when the enterprises of as_of 2025-06-30 are read, then they are those
	// registered before the cutoff and not deregistered then, in USCC
	// order, with each field's latest value before the cutoff and the
	// region as registered (historical codes included).
	s := open(t)
	defer s.Close()
	write(t, s, warehouse.Batch{Items: clusterFixtures(t)})
	var got []warehouse.ClusterEnterprise
	err := s.ClusterEnterprises(t.Context(), clusterQuery(t, s), func(e warehouse.ClusterEnterprise) error { got = append(got, e); return nil })
	if err != nil {
		t.Fatal(err)
	}
	want := []warehouse.ClusterEnterprise{
		{USCC: FirmA, Name: "淮安凹土有限公司", Region: "320802", Industry: "C3099", Cluster: "xuyi-attapulgite"},
		{USCC: firmBack, Name: "重新登记有限公司", Region: "320826", Industry: "C1369", Cluster: "lianshui"},
	}
	slices.SortFunc(want, func(a, b warehouse.ClusterEnterprise) int { return compare(a.USCC, b.USCC) })
	if !reflect.DeepEqual(got, want) {
		t.Errorf("enterprises:\n got %+v\nwant %+v", got, want)
	}

	// when an enterprise registered before the cutoff arrives after the
	// watermark, then it is not read
	q := clusterQuery(t, s)
	late := model.CompleteUSCC("91320826MA1GGG07")
	write(t, s, warehouse.Batch{Items: []warehouse.Item{
		Event(t, "e-x", model.EventEnterpriseRegistered, late, day(2024, 1, 1), map[string]any{"name": "迟报有限公司", "region": "320826", "industry": "C1361"})}})
	n := 0
	if err := s.ClusterEnterprises(t.Context(), q, func(warehouse.ClusterEnterprise) error { n++; return nil }); err != nil || n != 2 {
		t.Errorf("with the earlier watermark: %d enterprises, %v; want 2", n, err)
	}
}

func compare(a, b model.USCC) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func testClusterRecords(t *testing.T, open Opener) {
	// Given records of every kind around the window's edges, when the
	// records of as_of 2025-06-30 are read, then exactly the window's
	// checks (any firm's), penalties not revoked before the cutoff,
	// verified complaints, hazards overdue at the as_of and accidents come
	// back; a check reported after the watermark is not read.
	s := open(t)
	defer s.Close()
	write(t, s, warehouse.Batch{Items: clusterFixtures(t)})
	q := clusterQuery(t, s)
	write(t, s, warehouse.Batch{Items: []warehouse.Item{Event(t, "c-late", model.EventSpotCheckCompleted, FirmA, day(2025, 6, 15),
		map[string]any{"check_id": "C-late", "product": "凹土", "result": "fail", "severity": "minor"})}})
	var got []warehouse.ClusterRecord
	err := s.ClusterRecords(t.Context(), q, func(r warehouse.ClusterRecord) error {
		r.OccurredAt = r.OccurredAt.In(shanghai)
		got = append(got, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, func(a, b warehouse.ClusterRecord) int {
		switch {
		case a.EventID < b.EventID:
			return -1
		case a.EventID > b.EventID:
			return 1
		}
		return 0
	})
	rec := func(kind warehouse.ClusterRecordKind, id string, u model.USCC, at time.Time) warehouse.ClusterRecord {
		return warehouse.ClusterRecord{Kind: kind, EventID: id, USCC: u, OccurredAt: at}
	}
	c2 := rec(warehouse.ClusterRecordKindCheck, "c2", FirmA, clusterAt.AddDate(-1, 0, 0))
	c2.Failed, c2.Product = true, "凹土干燥剂"
	c3 := rec(warehouse.ClusterRecordKindCheck, "c3", FirmA, clusterAt.Add(-time.Second))
	c3.Product = "脱色剂"
	c5 := rec(warehouse.ClusterRecordKindCheck, "c5", firmGone, day(2024, 9, 1))
	c5.Product = "冻小龙虾"
	x1 := rec(warehouse.ClusterRecordKindAccident, "x1", FirmA, day(2025, 3, 1))
	x1.Grade = "larger"
	want := []warehouse.ClusterRecord{
		c2, c3, c5,
		rec(warehouse.ClusterRecordKindHazard, "h1", FirmA, day(2025, 5, 1)),
		rec(warehouse.ClusterRecordKindHazard, "h4", FirmA, day(2025, 5, 1)),
		rec(warehouse.ClusterRecordKindComplaint, "k1", FirmA, day(2025, 1, 5)),
		rec(warehouse.ClusterRecordKindPenalty, "p2", FirmA, day(2025, 1, 1)),
		x1,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("records:\n got %+v\nwant %+v", got, want)
	}
}

func testKeyHistory(t *testing.T, open Opener) {
	// Given three runs of a job (two succeeded, one failed) with an output
	// of the same key, then its history lists the succeeded runs' outputs
	// with payloads, the current ranking first, at most limit.
	s := open(t)
	defer s.Close()
	start := time.Date(2025, 8, 1, 2, 0, 0, 0, shanghai)
	runs := []struct {
		asOf   string
		status warehouse.RunStatus
		level  string
	}{
		{"2025-06-30", warehouse.RunSucceeded, "yellow"},
		{"2025-07-31", warehouse.RunFailed, "orange"},
		{"2025-07-31", warehouse.RunSucceeded, "red"},
	}
	for i, r := range runs {
		run := beginRun(t, s, "clusters", r.asOf, start.Add(-time.Hour), start.Add(time.Duration(i)*time.Minute))
		rows := []warehouse.OutputRow{
			{Key: "a/x", Label: r.level, Value: int64(i), Payload: []byte(`{"level":"` + r.level + `"}`)},
			{Key: "a/y", Label: "", Payload: []byte(`{}`)},
		}
		if err := s.WriteOutputs(t.Context(), "clusters", run.Version, rows); err != nil {
			t.Fatal(err)
		}
		finishRun(t, s, run, r.status, start.Add(time.Duration(i)*time.Minute+time.Second))
	}
	h, err := s.KeyHistory(t.Context(), "clusters", "a/x", 10)
	if err != nil || len(h) != 2 || h[0].Run.ID != "clusters-3" || h[0].Label != "red" || string(h[0].Payload) != `{"level":"red"}` ||
		h[1].Run.ID != "clusters-1" || h[1].Run.AsOf != "2025-06-30" || h[1].Key != "a/x" {
		t.Errorf("history of a/x: %+v %v", h, err)
	}
	if h, err := s.KeyHistory(t.Context(), "clusters", "a/x", 1); err != nil || len(h) != 1 || h[0].Run.ID != "clusters-3" {
		t.Errorf("history of a/x, limit 1: %+v %v", h, err)
	}
	if h, err := s.KeyHistory(t.Context(), "clusters", "a/z", 10); err != nil || len(h) != 0 {
		t.Errorf("history of a key never written: %+v %v", h, err)
	}
}

func testClusterRetractions(t *testing.T, open Opener) {
	// Given the cluster fixtures, when their bureau retracts a failed check,
	// a verified complaint, the revocation of a penalty and a firm's second
	// registration, then under the new watermark the check and complaint
	// are gone, the penalty counts again and the firm is not registered at
	// the cutoff; under the old watermark nothing changed.
	s := open(t)
	defer s.Close()
	write(t, s, warehouse.Batch{Items: clusterFixtures(t)})
	before := clusterQuery(t, s)
	retract := func(id, target string, u model.USCC) warehouse.Item {
		return Event(t, id, model.EventRetracted, u, day(2025, 6, 2), map[string]any{"event_id": target, "reason": "录入错误"})
	}
	res := write(t, s, warehouse.Batch{Items: []warehouse.Item{retract("r1", "c2", FirmA), retract("r2", "k1", FirmA),
		retract("r3", "p1r", FirmA), retract("r4", "e-b3", firmBack)}})
	if res.Stored != 4 {
		t.Fatalf("retractions: %+v, want 4 stored", res)
	}
	after := clusterQuery(t, s)
	records := func(q warehouse.ClusterQuery) []string {
		var ids []string
		if err := s.ClusterRecords(t.Context(), q, func(r warehouse.ClusterRecord) error { ids = append(ids, r.EventID); return nil }); err != nil {
			t.Fatal(err)
		}
		slices.Sort(ids)
		return ids
	}
	firms := func(q warehouse.ClusterQuery) []model.USCC {
		var us []model.USCC
		if err := s.ClusterEnterprises(t.Context(), q, func(e warehouse.ClusterEnterprise) error { us = append(us, e.USCC); return nil }); err != nil {
			t.Fatal(err)
		}
		return us
	}
	if got, want := records(before), []string{"c2", "c3", "c5", "h1", "h4", "k1", "p2", "x1"}; !slices.Equal(got, want) {
		t.Errorf("records under the earlier watermark %v, want %v", got, want)
	}
	if got, want := records(after), []string{"c3", "c5", "h1", "h4", "p1", "p2", "x1"}; !slices.Equal(got, want) {
		t.Errorf("records after the retractions %v, want %v", got, want)
	}
	if got := firms(before); len(got) != 2 {
		t.Errorf("enterprises under the earlier watermark %v, want FirmA and the re-registered firm", got)
	}
	if got := firms(after); len(got) != 1 || got[0] != FirmA {
		t.Errorf("enterprises after the retraction of a registration %v, want only %s", got, FirmA)
	}
}
