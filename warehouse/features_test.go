package warehouse

import (
	"errors"
	"testing"

	"github.com/qcredit/qcredit/model"
)

func TestFeatureFolder(t *testing.T) {
	// Given rows of three firms in USCC order, one never registered, then the
	// registered two come out whole, each with its rows sorted, and an error
	// from fn stops the fold.
	var got []EnterpriseFeatures
	f := NewFeatureFolder(func(e EnterpriseFeatures) error { got = append(got, e); return nil })
	add := func(uscc model.USCC, kind, sub string) {
		if err := f.Add(uscc, FeatureRow{Kind: kind, Sub: sub}); err != nil {
			t.Fatal(err)
		}
	}
	add("A", string(model.FeatureRegistered), "")
	add("A", "spot_check", "minor")
	add("A", "penalty", "heavy")
	add("B", "spot_check", "pass") // never registered
	add("C", "complaint", "")
	add("C", string(model.FeatureRegistered), "")
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].USCC != "A" || got[1].USCC != "C" {
		t.Fatalf("got %+v", got)
	}
	if len(got[0].Rows) != 2 || got[0].Rows[0].Kind != "penalty" || got[0].Rows[1].Kind != "spot_check" {
		t.Errorf("rows of A not sorted or incomplete: %+v", got[0].Rows)
	}
	if len(got[1].Rows) != 1 {
		t.Errorf("rows of C: %+v", got[1].Rows)
	}

	stop := errors.New("stop")
	f = NewFeatureFolder(func(EnterpriseFeatures) error { return stop })
	f.Add("A", FeatureRow{Kind: string(model.FeatureRegistered)})
	if err := f.Add("B", FeatureRow{Kind: "award"}); !errors.Is(err, stop) {
		t.Errorf("want fn's error, got %v", err)
	}
}
