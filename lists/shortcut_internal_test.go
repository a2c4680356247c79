package lists

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/qcredit/qcredit/model"
)

func TestTheShortcutSkipsOnlyFirmsWithNothing(t *testing.T) {
	// given random firms with penalties of every violation and severity, revocations, repairs, licences and
	// accidents, when Evaluate's shortcut says a firm can meet no rule, then the full evaluation gives it no
	// entry and no review either
	r, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(5, 6))
	pick := func(xs []string) string { return xs[rnd.IntN(len(xs))] }
	asOf := time.Date(2026, 6, 30, 0, 0, 0, 0, model.Shanghai)
	skipped, met := 0, 0
	for i := range 20000 {
		f := FirmRecords{USCC: model.CompleteUSCC(fmt.Sprintf("913208%010d", i)), Name: "甲"}
		src := func(n int) Source {
			return Source{EventID: fmt.Sprintf("e%d-%d", i, n), Bureau: "320830", At: asOf.AddDate(0, 0, -rnd.IntN(1500)).Add(10 * time.Hour)}
		}
		for n := range rnd.IntN(4) {
			f.Penalties = append(f.Penalties, Penalty{Source: src(n), CaseNo: fmt.Sprintf("c%d", n),
				Violation: pick(contractEnum(model.EventPenaltyDecided, "violation")), Severity: pick(contractEnum(model.EventPenaltyDecided, "severity"))})
		}
		if rnd.IntN(20) == 0 {
			f.LicenceRevocations = append(f.LicenceRevocations, LicenceRevocation{Source: src(9), LicenceNo: "XK", Reason: pick(contractEnum(model.EventLicenceRevoked, "reason"))})
		}
		if rnd.IntN(20) == 0 {
			f.Accidents = append(f.Accidents, Accident{Source: src(8), AccidentID: "SG", Grade: pick(contractEnum(model.EventEquipmentAccident, "grade"))})
		}
		if len(f.Penalties) > 0 && rnd.IntN(5) == 0 {
			f.PenaltyRevocations = append(f.PenaltyRevocations, PenaltyRevocation{Source: src(7), CaseNo: f.Penalties[0].CaseNo})
			f.Repairs = append(f.Repairs, Repair{Source: src(6), CaseNo: f.Penalties[0].CaseNo})
		}
		if f.empty() || r.mayMeet(&f) {
			met++
			continue
		}
		skipped++
		st, err := r.evaluate(f, asOf)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Entries) > 0 || len(st.Reviews) > 0 {
			t.Fatalf("the shortcut skipped %+v, which has %+v", f, st)
		}
	}
	if skipped == 0 || met == 0 {
		t.Fatalf("skipped %d, evaluated %d: the test exercised little", skipped, met)
	}
}
