package planning_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/qcredit/qcredit/planning"
)

func month(t *testing.T, s string) planning.Month {
	t.Helper()
	m, err := planning.ParseMonth(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func kpiInput(t *testing.T) planning.KPIInput {
	t.Helper()
	var complaints []planning.ComplaintEvent
	for _, c := range []struct {
		id    string
		steps []string
	}{
		{"on-time", []string{"received=2026-03-02", "accepted=2026-03-05", "closed=2026-03-20"}},
		{"overdue", []string{"received=2026-03-20"}}, // due 2026-03-31, still open on 04-15
		// due 2026-04-09: 03-31, 04-01 … 04-03, then 04-07 … 04-09 (Qingming 04-04 … 04-06 off)
		{"late", []string{"received=2026-03-30", "rejected=2026-04-10"}},
		{"not-yet-due", []string{"received=2026-04-14"}},
	} {
		complaints = append(complaints, complaintEvents(t, c.id, huaian, c.steps...)...)
	}
	u := firmUSCC(huaian, 77)
	hazards := unitHazards(t, u, 1, 1, 1)
	for i := range hazards {
		hazards[i].FoundAt = day(t, "2026-03-10")
	}
	return planning.KPIInput{
		AsOf: day(t, "2026-04-15"), From: month(t, "2026-03"), To: month(t, "2026-04"),
		Counties: []string{xuyi},
		Activity: []planning.CountyActivity{{County: huaian, Month: month(t, "2026-03"), Firms: 200, FirmsChecked: 50,
			Events: 100, DelaySeconds: 360_050, LateEvents: 5, DeadLetters: 25}},
		Complaints: complaints, Hazards: hazards, Rules: planning.DefaultKPIRules(),
	}
}

func TestCountyKPIs(t *testing.T) {
	// given a county's month of activity, complaints and hazards, when KPIs are computed, then each is the stated fraction
	kpis, err := planning.CountyKPIs(kpiInput(t))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, k := range kpis {
		keys = append(keys, k.County+"/"+k.Month.String())
	}
	if strings.Join(keys, " ") != "320803/2026-03 320803/2026-04 320830/2026-03 320830/2026-04" {
		t.Fatalf("rows %v, want both counties (盱眙 without data too) for March and April", keys)
	}
	march := kpis[0]
	for _, c := range []struct {
		name     string
		got      planning.Fraction
		num, den int64
	}{
		{"coverage", march.Coverage, 50, 200},
		{"complaint timeliness (on time of due)", march.ComplaintTimeliness, 1, 3},
		{"complaint closure", march.ComplaintClosure, 1, 1},
		{"hazard correction", march.HazardCorrection, 2, 3},
		{"self-correction", march.SelfCorrection, 1, 3},
		{"late reports", march.LateReports, 5, 100},
		{"dead-letter rate", march.DeadLetterRate, 25, 125},
	} {
		if c.got.Num != c.num || c.got.Den != c.den {
			t.Errorf("%s = %d/%d, want %d/%d", c.name, c.got.Num, c.got.Den, c.num, c.den)
		}
	}
	if march.MeanDelaySeconds != 3601 {
		t.Errorf("mean delay %d s, want 3601 (3600.5 rounds half up)", march.MeanDelaySeconds)
	}
	if april := kpis[1]; april.ComplaintTimeliness.Den != 0 {
		t.Errorf("April timeliness %+v: a complaint still within its 7 days is not yet due", april.ComplaintTimeliness)
	}
	b, err := json.Marshal(kpis[2].Coverage)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"num":0,"den":0,"value":null}` {
		t.Errorf("empty coverage marshals as %s, want a null value", b)
	}
}

func TestKPIDigestIsStable(t *testing.T) {
	// given the same inputs in another order, when KPIs are digested, then the same digest; and a pinned one,
	// so that any change to the canonical encoding is a visible decision
	in := kpiInput(t)
	kpis, err := planning.CountyKPIs(in)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := planning.KPIRows(kpis)
	if err != nil {
		t.Fatal(err)
	}
	for i, j := 0, len(in.Complaints)-1; i < j; i, j = i+1, j-1 {
		in.Complaints[i], in.Complaints[j] = in.Complaints[j], in.Complaints[i]
	}
	in.Hazards[0], in.Hazards[2] = in.Hazards[2], in.Hazards[0]
	again, err := planning.CountyKPIs(in)
	if err != nil {
		t.Fatal(err)
	}
	rows2, err := planning.KPIRows(again)
	if err != nil {
		t.Fatal(err)
	}
	if planning.Digest(rows) != planning.Digest(rows2) {
		t.Error("the input order changed the digest")
	}
	const pinned = "bfac23c44e05d2eed710ed4f6f4875620767ea2bd825340ab154b13911a3c145"
	if got := planning.Digest(rows); got != pinned {
		t.Errorf("digest %s, pinned %s; the first row is %s\t%s", got, pinned, rows[0].Key, rows[0].Payload)
	}
}
