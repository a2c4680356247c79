package simulate_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/qcredit/qcredit/ingest"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/simulate"
)

var end = time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)

// run generates cfg and keeps every line with its kind.
func run(t testing.TB, cfg simulate.Config) ([]simulate.Line, simulate.Truth) {
	t.Helper()
	p, err := simulate.NewPlan(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var lines []simulate.Line
	truth, err := p.Stream(func(l simulate.Line) error {
		l.Key = bytes.Clone(l.Key)
		l.Value = bytes.Clone(l.Value)
		lines = append(lines, l)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return lines, truth
}

func joined(lines []simulate.Line) []byte {
	var b bytes.Buffer
	for _, l := range lines {
		b.Write(l.Value)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func TestSameSeedSameBytes(t *testing.T) {
	// given two runs with the same flags, when generated, then the bytes are identical; another seed differs
	cfg := simulate.Config{Enterprises: 500, Years: 2, Seed: 7, End: end, BadRate: 0.02}
	a, _ := run(t, cfg)
	b, _ := run(t, cfg)
	if !bytes.Equal(joined(a), joined(b)) {
		t.Fatal("same seed gave different output")
	}
	cfg.Seed = 8
	c, _ := run(t, cfg)
	if bytes.Equal(joined(a), joined(c)) {
		t.Fatal("different seeds gave the same output")
	}
}

func TestEveryLineDecodesAsItsKindSays(t *testing.T) {
	lines, truth := run(t, simulate.Config{Enterprises: 2000, Years: 3, Seed: 1, End: end, BadRate: 0.03})
	seen := map[string]uint64{} // id → content hash of the stored event
	counts := map[simulate.LineKind]int{}
	reasons := map[model.DeadLetterReason]int{}
	for i, l := range lines {
		counts[l.Kind]++
		item, dl := ingest.Decoder{}.Decode(l.Value, model.Origin{})
		if l.Kind == simulate.LineBad {
			if dl == nil {
				t.Fatalf("line %d: bad line accepted: %s", i+1, l.Value)
			}
			if dl.Reason != l.Reason {
				t.Fatalf("line %d: refused as %s, want %s: %s", i+1, dl.Reason, l.Reason, l.Value)
			}
			reasons[dl.Reason]++
			continue
		}
		if dl != nil {
			t.Fatalf("line %d: %s: %s", i+1, dl.Detail, l.Value)
		}
		h, dup := seen[item.Record.ID]
		switch l.Kind {
		case simulate.LineValid:
			if dup {
				t.Fatalf("line %d: id %s reused by a valid line", i+1, item.Record.ID)
			}
			seen[item.Record.ID] = item.Record.Hash
		case simulate.LineDuplicate:
			if !dup || h != item.Record.Hash {
				t.Fatalf("line %d: duplicate is not an exact resend", i+1)
			}
		case simulate.LineConflict:
			if !dup || h == item.Record.Hash {
				t.Fatalf("line %d: conflict does not reuse an id with other content", i+1)
			}
		}
		if string(l.Key) != string(item.Record.USCC) {
			t.Fatalf("line %d: key %s, uscc %s", i+1, l.Key, item.Record.USCC)
		}
	}
	if counts[simulate.LineValid] != truth.ValidUniqueEvents || counts[simulate.LineDuplicate] != truth.DuplicateLines ||
		counts[simulate.LineConflict] != truth.ConflictLines || counts[simulate.LineBad] != truth.BadLines ||
		len(lines) != truth.Lines {
		t.Fatalf("counts %v do not match truth %+v", counts, truth)
	}
	for _, r := range []model.DeadLetterReason{model.ReasonMalformedJSON, model.ReasonInvalidUSCC,
		model.ReasonUnknownType, model.ReasonMissingField} {
		if reasons[r] == 0 || reasons[r] != truth.BadReasons[r] {
			t.Errorf("reason %s: %d lines, truth says %d", r, reasons[r], truth.BadReasons[r])
		}
	}
	if truth.DuplicateLines == 0 || truth.ConflictLines == 0 {
		t.Errorf("no duplicates or conflicts: %+v", truth)
	}
}

// wire is the part of an event the statistics tests read.
type wire struct {
	ID         string    `json:"id"`
	Type       string    `json:"type"`
	USCC       string    `json:"uscc"`
	Source     string    `json:"source"`
	OccurredAt time.Time `json:"occurred_at"`
	Data       struct {
		Region   string `json:"region"`
		Cluster  string `json:"cluster"`
		Result   string `json:"result"`
		Severity string `json:"severity"`
		Verified *bool  `json:"verified"`
		Serious  *bool  `json:"serious"`
		RetestOf string `json:"retest_of"`
		CheckID  string `json:"check_id"`
	} `json:"data"`
}

func events(t *testing.T, lines []simulate.Line) []wire {
	t.Helper()
	var out []wire
	for _, l := range lines {
		if l.Kind != simulate.LineValid {
			continue
		}
		var w wire
		if err := json.Unmarshal(l.Value, &w); err != nil {
			t.Fatal(err)
		}
		out = append(out, w)
	}
	return out
}

var huaian = []string{"320803", "320804", "320812", "320813", "320826", "320830", "320831", "320871",
	"320802", "320811", "320829"}

func TestFirmsAreHuaianAndRegisteredFirst(t *testing.T) {
	lines, _ := run(t, simulate.Config{Enterprises: 1500, Years: 3, Seed: 2, End: end})
	evs := events(t, lines)
	registered := map[string]time.Time{}
	start := end.AddDate(-3, 0, 0)
	for i, e := range evs {
		if r := (model.USCCPolicy{}).Check(e.USCC); !r.Valid() {
			t.Fatalf("invalid USCC %s", e.USCC)
		}
		if !contains(huaian, e.USCC[2:8]) {
			t.Fatalf("USCC %s not issued in Huai'an", e.USCC)
		}
		if i > 0 && e.OccurredAt.Before(evs[i-1].OccurredAt) {
			t.Fatalf("event %d out of time order", i)
		}
		if e.OccurredAt.Before(start) || e.OccurredAt.After(end.Add(24*time.Hour)) {
			t.Fatalf("event %s at %s outside the period", e.ID, e.OccurredAt)
		}
		if e.Type == "enterprise.registered" {
			registered[e.USCC] = e.OccurredAt
			continue
		}
		if _, ok := registered[e.USCC]; !ok {
			t.Fatalf("%s: %s before the firm registered", e.ID, e.Type)
		}
	}
	if len(registered) != 1500 {
		t.Fatalf("%d firms registered, want 1500", len(registered))
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestPassRateAndPlantedTruth(t *testing.T) {
	lines, truth := run(t, simulate.Config{Enterprises: 6000, Years: 3, Seed: 3, End: end})
	evs := events(t, lines)
	if len(truth.BadEnterprises) < 6 || len(truth.RisingClusters) == 0 {
		t.Fatalf("truth plants too little: %+v", truth)
	}
	perFirm := float64(len(evs)) / 6000
	if perFirm < 15 || perFirm > 30 {
		t.Errorf("%.1f events per firm, want 15–30", perFirm)
	}
	bad := map[string]bool{}
	for _, u := range truth.BadEnterprises {
		bad[string(u)] = true
	}
	clusterOf := map[string]string{}
	var checks, fails, badNeg, otherNeg int
	lastYear := end.AddDate(-1, 0, 0)
	rising := map[bool][2]int{} // last year? → checks, fails
	for _, e := range evs {
		switch e.Type {
		case "enterprise.registered":
			clusterOf[e.USCC] = e.Data.Cluster
		case "spot_check.completed":
			checks++
			fail := e.Data.Result == "fail"
			if fail {
				fails++
			}
			if clusterOf[e.USCC] == truth.RisingClusters[0].Cluster {
				c := rising[e.OccurredAt.After(lastYear)]
				c[0]++
				if fail {
					c[1]++
				}
				rising[e.OccurredAt.After(lastYear)] = c
			}
		}
		if negative(e) {
			if bad[e.USCC] {
				badNeg++
			} else {
				otherNeg++
			}
		}
	}
	if rate := 1 - float64(fails)/float64(checks); rate < 0.90 || rate > 0.95 {
		t.Errorf("pass rate %.3f, want 0.90–0.95", rate)
	}
	perBad, perOther := float64(badNeg)/float64(len(bad)), float64(otherNeg)/float64(6000-len(bad))
	if perBad < 10*perOther {
		t.Errorf("planted bad firms have %.1f negatives each, others %.2f", perBad, perOther)
	}
	before, last := rising[false], rising[true]
	rb, rl := float64(before[1])/float64(before[0]), float64(last[1])/float64(last[0])
	if rb > 0.12 || rl < 0.2 || last[0] < 30 {
		t.Errorf("rising cluster failure rate %.2f before, %.2f (of %d) last year", rb, rl, last[0])
	}
	if clean := countClean(evs); truth.CleanEnterprisesCount != clean || clean == 0 || truth.Enterprises != 6000 {
		t.Errorf("truth says %d clean of %d, the file %d clean", truth.CleanEnterprisesCount, truth.Enterprises, clean)
	}
}

// countClean counts registered firms without a negative record.
func countClean(evs []wire) int {
	firms, dirty := map[string]bool{}, map[string]bool{}
	for _, e := range evs {
		firms[e.USCC] = true
		if negative(e) {
			dirty[e.USCC] = true
		}
	}
	return len(firms) - len(dirty)
}

func negative(e wire) bool {
	switch e.Type {
	case "spot_check.completed", "equipment.inspected":
		return e.Data.Result == "fail"
	case "penalty.decided", "licence.revoked", "equipment.accident", "certification.withdrawn":
		return true
	case "complaint.closed":
		return e.Data.Verified != nil && *e.Data.Verified
	case "equipment.hazard_found":
		return e.Data.Serious != nil && *e.Data.Serious
	}
	return false
}

func TestEventsSizesAndStopsTheRun(t *testing.T) {
	// given a target of 30,000 lines, when generated, then exactly that many are written
	lines, truth := run(t, simulate.Config{Events: 30000, Years: 3, Seed: 4, End: end, BadRate: 0.01})
	if len(lines) != 30000 || truth.Lines != 30000 {
		t.Fatalf("%d lines, truth says %d; want 30000", len(lines), truth.Lines)
	}
	if truth.End != "2026-06-30" {
		t.Fatalf("end %s", truth.End)
	}
	last := events(t, lines)
	if at := last[len(last)-1].OccurredAt; at.Before(end.AddDate(0, 0, -7)) {
		t.Errorf("sized run ends at %s: the cut dropped more than the last days", at)
	}
}

func TestSizedRunIsPrefixOfBiggerRun(t *testing.T) {
	// given a run of 300 firms and one of 600, when planned, then the smaller one's firms are the bigger one's first
	small, _ := run(t, simulate.Config{Enterprises: 300, Years: 2, Seed: 5, End: end})
	big, _ := run(t, simulate.Config{Enterprises: 600, Years: 2, Seed: 5, End: end})
	firms := map[string]string{}
	for _, e := range events(t, big) {
		if e.Type == "enterprise.registered" {
			firms[e.USCC] = e.Data.Region
		}
	}
	for _, e := range events(t, small) {
		if _, ok := firms[e.USCC]; !ok {
			t.Fatalf("firm %s of the small run is not in the big run", e.USCC)
		}
	}
}

func TestTruthListsTheAccidentsWritten(t *testing.T) {
	// given a run with resends and conflicts mixed in, when its valid
	// equipment.accident lines are read back, then the truth lists exactly
	// them, with their ids, firms, times and grades
	lines, truth := run(t, simulate.Config{Enterprises: 3000, Years: 3, Seed: 11, End: end, BadRate: 0.02})
	var want []simulate.Accident
	for _, l := range lines {
		if l.Kind != simulate.LineValid {
			continue
		}
		var e struct {
			ID, Type, USCC string
			OccurredAt     string `json:"occurred_at"`
			Data           struct{ Grade string }
		}
		if err := json.Unmarshal(l.Value, &e); err != nil {
			t.Fatal(err)
		}
		if e.Type == string(model.EventEquipmentAccident) {
			want = append(want, simulate.Accident{EventID: e.ID, USCC: model.USCC(e.USCC), OccurredAt: e.OccurredAt, Grade: e.Data.Grade})
		}
	}
	if len(want) == 0 {
		t.Fatal("no accident in 3,000 firms over 3 years")
	}
	got, _ := json.Marshal(truth.Accidents)
	exp, _ := json.Marshal(want)
	if !bytes.Equal(got, exp) {
		t.Errorf("truth accidents\n %s\nwant\n %s", got, exp)
	}
}
