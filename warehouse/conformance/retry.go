package conformance

import (
	"testing"
	"time"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

func testRetryAfterPartialWrite(t *testing.T, open Opener) {
	// Given a batch of which a crashed attempt stored only a part (a prefix of
	// its events, none of its dead letters), when the whole batch is written
	// again, then the rest is stored, the part counts as duplicates and every
	// conflict and dead letter is stored exactly once.
	s := open(t)
	defer s.Close()
	stored := spotCheck(t, "320830-20", FirmA, t0, "pass")
	write(t, s, warehouse.Batch{Items: []warehouse.Item{stored}})

	var items []warehouse.Item
	for i := range 10 {
		items = append(items, spotCheck(t, "320830-r"+string(rune('a'+i)), FirmB, t0.Add(time.Duration(i)*time.Hour), "pass"))
	}
	conflict := spotCheck(t, "320830-20", FirmA, t0, "fail")
	bad := model.DeadLetter{Origin: model.Origin{Kind: "kafka", Name: "events", Position: "0/17"},
		Reason: model.DeadLetterInvalidUSCC, Detail: "bad check digit", Raw: []byte(`{"uscc":"x"}`), Received: t0}
	batch := warehouse.Batch{Items: append(items, conflict), DeadLetters: []model.DeadLetter{bad}}

	write(t, s, warehouse.Batch{Items: items[:4]}) // what the crashed attempt got in
	checkResult(t, "retry", write(t, s, batch),
		warehouse.WriteResult{Stored: 6, Duplicates: 4, Conflicts: 1, DeadLettered: 2})
	checkResult(t, "second retry", write(t, s, batch),
		warehouse.WriteResult{Duplicates: 10, Conflicts: 1, DeadLetterRepeats: 2})
	st := stats(t, s)
	if st.Events.Total != 11 || st.DeadLetters.Total != 2 || st.DeadLetters.ByReason[string(model.DeadLetterConflict)] != 1 {
		t.Errorf("stats: %+v", st)
	}
}
