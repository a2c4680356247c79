package serving_test

import (
	"testing"

	"github.com/qcredit/qcredit/serving"
	"github.com/qcredit/qcredit/warehouse"
	"github.com/qcredit/qcredit/warehouse/conformance"
	"github.com/qcredit/qcredit/warehouse/duckdb/duckdbtest"
)

func TestOutputsHeldWhole(t *testing.T) {
	// Given a kpi run's outputs and a part loader holding them whole, when
	// the model loads, then an output reads back by key with every field,
	// a prefix lists exactly its outputs in key order, a missing key is
	// absent; when a newer run appears, a refresh serves it.
	s := duckdbtest.Open(t)
	register(t, s, "e-a", conformance.FirmA, "盱眙龙虾食品有限公司", "320830", "C1361")
	run(t, s, "score", "2025-06-30")
	run(t, s, "kpi", "2025-06-30",
		warehouse.OutputRow{Key: "complaint/320830/K1/decision", USCC: string(conformance.FirmA), Label: "decision", Value: 3, Payload: []byte(`{"a":1}`)},
		warehouse.OutputRow{Key: "kpi/320812/2025-06", Label: "320812", Payload: []byte(`{"m":"06"}`)},
		warehouse.OutputRow{Key: "kpi/320830/2025-05", Label: "320830", Payload: []byte(`{"m":"05"}`)},
		warehouse.OutputRow{Key: "kpi/320830/2025-06", Label: "320830", Payload: []byte(`{"m":"06"}`)},
		warehouse.OutputRow{Key: "kpi/3208300/x", Label: "none", Payload: []byte(`{}`)})
	st, err := serving.NewStore(s, quiet, serving.Options{Parts: []serving.PartLoader{serving.OutputsLoader("kpi")}})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	o := st.Current().Outputs("kpi")
	if o == nil || o.Len() != 5 || o.Run().Job != "kpi" || o.Bytes() == 0 {
		t.Fatalf("kpi part: %+v", o)
	}
	c, ok := o.Get("complaint/320830/K1/decision")
	if !ok || c.USCC != string(conformance.FirmA) || c.Label != "decision" || c.Value != 3 || string(c.Payload) != `{"a":1}` {
		t.Errorf("complaint: %+v %v", c, ok)
	}
	if _, ok := o.Get("kpi/320830"); ok {
		t.Error("a key's prefix was found as a key")
	}
	var months []string
	o.Prefix("kpi/320830/", func(r warehouse.OutputRow) bool { months = append(months, string(r.Payload)); return true })
	if len(months) != 2 || months[0] != `{"m":"05"}` || months[1] != `{"m":"06"}` {
		t.Errorf("kpi/320830/: %v", months)
	}
	if st.Current().Outputs("score") != nil || st.Current().Outputs("lottery") != nil {
		t.Error("a job not held whole has outputs")
	}
	next := run(t, s, "kpi", "2025-06-30", warehouse.OutputRow{Key: "kpi/320830/2025-06", Label: "320830", Payload: []byte(`{"m":"new"}`)})
	if _, err := st.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if o := st.Current().Outputs("kpi"); o.Run().ID != next.ID || o.Len() != 1 {
		t.Errorf("after a new run: %s with %d outputs", o.Run().ID, o.Len())
	}
}
