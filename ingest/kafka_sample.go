package ingest

import (
	"fmt"
	"strconv"
	"time"

	"github.com/qcredit/qcredit/model"
)

// SampleEvent is the n-th of a deterministic series of small valid events
// (complaints received by the city bureau about 50,000 enterprises), keyed by
// USCC: what `qcredit bench ingest`, the dev broker's trickle and the Kafka
// tests publish when they need volume rather than realism (simulate/ is for
// realism). prefix keeps the ids of separate series apart.
func SampleEvent(prefix string, n int) Message {
	uscc := model.CompleteUSCC(fmt.Sprintf("91320804%08d", n%50_000))
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Second).Format(time.RFC3339)
	id := prefix + "-" + strconv.Itoa(n)
	v := `{"id":"` + id + `","type":"complaint.received","uscc":"` + string(uscc) +
		`","source":"320800","occurred_at":"` + at + `","data":{"complaint_id":"` + id + `","channel":"12365"}}`
	return Message{Key: []byte(uscc), Value: []byte(v)}
}
