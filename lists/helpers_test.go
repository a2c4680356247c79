package lists_test

import (
	"testing"
	"time"

	"github.com/qcredit/qcredit/lists"
	"github.com/qcredit/qcredit/model"
)

// firmA and firmB are valid USCCs issued in 盱眙县 (320830).
var (
	firmA = model.CompleteUSCC("9132083012345678")
	firmB = model.CompleteUSCC("9132083087654321")
)

func defaultRules(t testing.TB) *lists.Rules {
	t.Helper()
	r, err := lists.Default()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// at is 10:00 in Asia/Shanghai on the day, the time of a day's decision.
func at(day string) time.Time {
	d, err := time.ParseInLocation(time.DateOnly, day, model.Shanghai)
	if err != nil {
		panic(err) // a typo in a test's literal date
	}
	return d.Add(10 * time.Hour)
}

func src(id, bureau, day string) lists.Source {
	return lists.Source{EventID: id, Bureau: bureau, At: at(day)}
}

func penalty(id, day, caseNo, violation, severity string) lists.Penalty {
	return lists.Penalty{Source: src(id, "320830", day), CaseNo: caseNo, Violation: violation, Severity: severity}
}

// heavy is a heavy counterfeit penalty decided by 盱眙县 on 2025-03-03, a
// Monday: notice Mar 4–10, listed from Mar 11 2025.
func heavy() lists.Penalty {
	return penalty("320830-1", "2025-03-03", "盱市监罚2025-1", "counterfeit", "heavy")
}

func evaluate(t testing.TB, r *lists.Rules, rec lists.FirmRecords, asOf string) lists.Status {
	t.Helper()
	if rec.USCC == "" {
		rec.USCC = firmA
	}
	if rec.Name == "" {
		rec.Name = "淮安某某食品有限公司"
	}
	st, err := r.Evaluate(rec, at(asOf))
	if err != nil {
		t.Fatal(err)
	}
	return st
}
