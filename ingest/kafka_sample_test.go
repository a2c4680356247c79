package ingest

import (
	"testing"

	"github.com/qcredit/qcredit/model"
)

func TestSampleEventIsValid(t *testing.T) {
	for _, n := range []int{0, 1, 49_999, 50_000, 1_234_567} {
		m := SampleEvent("t", n)
		if _, dl := (Decoder{}).Decode(m.Value, model.Origin{Kind: "test"}); dl != nil {
			t.Fatalf("SampleEvent(%d) refused: %s: %s", n, dl.Reason, dl.Detail)
		}
	}
}
