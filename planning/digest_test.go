package planning_test

import (
	"bytes"
	"slices"
	"testing"

	"github.com/qcredit/qcredit/planning"
)

func TestDigest(t *testing.T) {
	rows := []planning.OutputRow{{Key: "b", Payload: []byte(`{"x":1}`)}, {Key: "a", Payload: []byte(`{"x":2}`)}}
	d := planning.Digest(rows)
	t.Run("row order does not matter", func(t *testing.T) {
		// given the same rows in another order, when digested, then the same digest
		if got := planning.Digest([]planning.OutputRow{rows[1], rows[0]}); got != d {
			t.Errorf("reordered rows digest to %s, want %s", got, d)
		}
	})
	t.Run("a payload does", func(t *testing.T) {
		// given one payload changed, when digested, then another digest
		changed := slices.Clone(rows)
		changed[0].Payload = []byte(`{"x":3}`)
		if planning.Digest(changed) == d {
			t.Error("a changed payload kept the digest")
		}
	})
}

func TestOutputRows(t *testing.T) {
	t.Run("a repeated key is refused", func(t *testing.T) {
		// given two overdue entries with one key, when cut into rows, then refused
		o := planning.OverdueComplaint{ComplaintID: "c1", County: huaian, Stage: planning.ComplaintStageDecision}
		rep := planning.ComplaintReport{Counties: []planning.CountyComplaints{{County: huaian, Overdue: []planning.OverdueComplaint{o, o}}}}
		if _, err := rep.Rows(); err == nil {
			t.Error("a repeated key was accepted")
		}
	})
	t.Run("a draw's row carries its canonical rules", func(t *testing.T) {
		// given a drawn draw, when stored as a row, then the compact document holds the exact bytes rules_sha256 hashes
		d, _, _ := readPublished(t, exampleDir)
		rows, err := d.Rows()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || rows[0].Key != d.ID || !bytes.Contains(rows[0].Payload, d.Rules.Canonical()) {
			t.Errorf("rows %s, want one keyed %s containing %s", rows, d.ID, d.Rules.Canonical())
		}
	})
	t.Run("the equipment report", func(t *testing.T) {
		// given units and overdue hazards, when cut into rows, then hazards then units, each keyed by its id
		hs := unitHazards(t, firmUSCC(huaian, 1), 1, 0, 1)
		hs[1].Serious, hs[1].Deadline = true, day(t, "2026-01-10")
		rep, err := planning.SelfCorrection(planning.EquipmentInput{AsOf: day(t, "2026-02-01"), Hazards: hs, Rules: planning.DefaultEquipmentRules()})
		if err != nil {
			t.Fatal(err)
		}
		rows, err := rep.Rows()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2 || rows[0].Key != "hazard/"+hs[1].HazardID || rows[1].Key != "unit/"+string(hs[0].USCC) {
			t.Errorf("keys %v %v", rows[0].Key, rows[len(rows)-1].Key)
		}
	})
}
