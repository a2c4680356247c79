package api_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qcredit/qcredit/api"
	"github.com/qcredit/qcredit/api/apitest"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/serving"
	"github.com/qcredit/qcredit/warehouse/conformance"
	"github.com/qcredit/qcredit/warehouse/duckdb/duckdbtest"
)

func TestPublicLookupShowsPenaltiesInTheirPublicationPeriod(t *testing.T) {
	// Given a firm with a general penalty (fined), a light one decided as
	// long ago, a revoked one, a repaired one and a retracted one, when the
	// public looks it up on 2025-12-01, then only the general penalty shows,
	// with exactly the public fields; on 2026-04-01 (past its 12 months) none
	// does; and no lookup queries the warehouse.
	s := duckdbtest.Open(t)
	scoredWarehouse(t, s)
	pen := func(id, caseNo, severity string, extra map[string]any) map[string]any {
		d := map[string]any{"case_no": caseNo, "violation": "substandard", "severity": severity}
		for k, v := range extra {
			d[k] = v
		}
		return d
	}
	addEvents(t, s,
		conformance.Event(t, "p-in", model.EventPenaltyDecided, firmA, at(4, 1), pen("p-in", "淮市监罚〔2025〕11号", "general", map[string]any{"fine_yuan": 5000})),
		conformance.Event(t, "p-light", model.EventPenaltyDecided, firmA, at(4, 1), pen("p-light", "淮市监罚〔2025〕12号", "light", nil)),
		conformance.Event(t, "p-rev", model.EventPenaltyDecided, firmA, at(4, 2), pen("p-rev", "淮市监罚〔2025〕13号", "heavy", nil)),
		conformance.Event(t, "p-rev-r", model.EventPenaltyRevoked, firmA, at(5, 2), map[string]any{"case_no": "淮市监罚〔2025〕13号", "reason": "行政复议撤销"}),
		conformance.Event(t, "p-rep", model.EventPenaltyDecided, firmA, at(4, 3), pen("p-rep", "淮市监罚〔2025〕14号", "general", nil)),
		conformance.Event(t, "p-rep-r", model.EventCreditRepaired, firmA, at(11, 3), map[string]any{"case_no": "淮市监罚〔2025〕14号", "decision_no": "淮市监信修〔2025〕1号"}),
		conformance.Event(t, "p-err", model.EventPenaltyDecided, firmA, at(4, 4), pen("p-err", "淮市监罚〔2025〕15号", "general", nil)),
	)
	addEvents(t, s, conformance.Event(t, "p-err-r", model.EventRetracted, firmA, at(4, 5), map[string]any{"event_id": "p-err", "reason": "误报"}))
	var now atomic.Pointer[time.Time]
	setNow := func(day string) {
		d, _ := time.ParseInLocation(time.DateOnly, day, model.Shanghai)
		d = d.Add(10 * time.Hour)
		now.Store(&d)
	}
	clock := func() time.Time { return *now.Load() }
	setNow("2025-12-01")
	src := &countingSource{Store: s}
	rm := loadedModel(t, src, serving.Options{Now: clock, Interval: time.Hour})
	w := &countingWarehouse{Store: s}
	srv := apitest.Start(t, w, rm, api.Options{Now: clock, PublicRate: api.RateLimit{PerSecond: 1e6, Burst: 1e6}})
	loads := src.events.Load()

	var raw map[string]json.RawMessage
	getJSON(t, srv, "/api/v1/public/enterprises/"+string(firmA), http.StatusOK, &raw)
	var shown []map[string]any
	if err := json.Unmarshal(raw["penalties"], &shown); err != nil {
		t.Fatalf("penalties: %s: %v", raw["penalties"], err)
	}
	want := map[string]any{"decided_on": "2025-04-01", "decision_no": "淮市监罚〔2025〕11号", "authority": "盱眙县市场监督管理局",
		"authority_code": "320830", "violation": "生产、销售不合格产品", "severity": "一般", "fine_yuan": 5000.0, "published_until": "2026-04-01"}
	if len(shown) != 1 || !mapsEqual(shown[0], want) {
		t.Errorf("penalties on 2025-12-01: %s, want only %v", raw["penalties"], want)
	}
	getJSON(t, srv, "/api/v1/public/enterprises/"+string(firmB), http.StatusOK, &raw)
	if string(raw["penalties"]) == "[]" { // firm B's heavy penalty of 2025-04-01 is published 3 years
		t.Errorf("firm B shows no penalty")
	}

	setNow("2026-04-01")
	getJSON(t, srv, "/api/v1/public/enterprises/"+string(firmA), http.StatusOK, &raw)
	if string(raw["penalties"]) != "[]" {
		t.Errorf("penalties on 2026-04-01, past the general penalty's 12 months: %s, want []", raw["penalties"])
	}
	if n, m := w.calls.Load(), src.events.Load()-loads; n != 0 || m != 0 {
		t.Errorf("public lookups made %d warehouse calls and %d event reads, want 0", n, m)
	}
}

func mapsEqual(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestReadModelPicksUpNewPenalties(t *testing.T) {
	// Given a loaded read model, when a penalty is ingested and later
	// revoked, then after each directory refresh the lookup shows it, then
	// not, without a new score run.
	s := duckdbtest.Open(t)
	scoredWarehouse(t, s)
	rm := loadedModel(t, s, serving.Options{Interval: time.Hour, DirectoryInterval: time.Nanosecond})
	m := rm.Current()
	today := time.Now().In(model.Shanghai).Format(time.DateOnly)
	decided := time.Now().Add(-48 * time.Hour)
	addEvents(t, s, conformance.Event(t, "n1", model.EventPenaltyDecided, firmA, decided,
		map[string]any{"case_no": "淮市监罚〔2026〕9号", "violation": "metrology", "severity": "light"}))
	if _, err := rm.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	got := rm.Current().Penalties(firmA, today)
	if len(m.Penalties(firmA, today)) != 0 || !slices.ContainsFunc(got, func(p serving.Penalty) bool { return p.DecisionNo == "淮市监罚〔2026〕9号" }) {
		t.Fatalf("after the penalty: %+v", got)
	}
	addEvents(t, s, conformance.Event(t, "n2", model.EventPenaltyRevoked, firmA, time.Now().Add(-time.Hour),
		map[string]any{"case_no": "淮市监罚〔2026〕9号"}))
	if _, err := rm.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := rm.Current().Penalties(firmA, today); len(got) != 0 {
		t.Errorf("after the revocation: %+v", got)
	}
}
