package simulate_test

import (
	"testing"
	"time"

	"github.com/qcredit/qcredit/ingest"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/simulate"
)

func TestLiveBureausReportValidEventsOfTheCity(t *testing.T) {
	// Given a city of three firms, when the live bureaus report 5,000 times
	// at one instant, then every report is a valid v1 event occurring at that
	// instant, most of them about the city's firms, every kind of record
	// appears, and follow-ups refer to records reported before them: a
	// complaint is accepted or rejected once, after it was received, and
	// closed only once accepted; a hazard corrected after it was found.
	firms := []simulate.LiveFirm{
		{USCC: string(model.CompleteUSCC("91320830MA1AAA01")), Region: "320830", Industry: "C1361"},
		{USCC: string(model.CompleteUSCC("91320812MA1BBB02")), Region: "320812", Industry: "C3130"},
		{USCC: string(model.CompleteUSCC("9132080212345678")), Region: "320802", Industry: "C3311"},
	}
	known := map[model.USCC]bool{}
	for _, f := range firms {
		known[model.USCC(f.USCC)] = true
	}
	live := simulate.NewLive(1, "t", firms)
	now := time.Date(2026, 12, 1, 10, 30, 0, 0, model.Shanghai)
	dec := ingest.Decoder{}
	kinds := map[model.EventType]int{}
	opened := map[string]bool{}
	accepted, answered := map[string]bool{}, map[string]bool{}
	ofCity := 0
	for i := range 5000 {
		key, value := live.Next(now)
		it, dl := dec.Decode(value, model.Origin{Kind: "test", Position: "x"})
		if dl != nil {
			t.Fatalf("report %d is refused (%s: %s): %s", i, dl.Reason, dl.Detail, value)
		}
		r := it.Record
		if string(key) != string(r.USCC) || !r.OccurredAt.Equal(now) {
			t.Fatalf("report %d: key %s, uscc %s, occurred %v", i, key, r.USCC, r.OccurredAt)
		}
		kinds[r.Type]++
		if known[r.USCC] || r.Type == model.EventEnterpriseRegistered {
			ofCity++
		}
		switch r.Type {
		case model.EventEnterpriseRegistered:
			known[r.USCC] = true
		case model.EventComplaintReceived, model.EventEquipmentHazardFound:
			opened[r.Facets.Ref] = true
		case model.EventComplaintAccepted, model.EventComplaintRejected:
			if !opened[r.Facets.Ref] || answered[r.Facets.Ref] {
				t.Errorf("%s of %s: received %v, already accepted or rejected %v", r.Type, r.Facets.Ref,
					opened[r.Facets.Ref], answered[r.Facets.Ref])
			}
			answered[r.Facets.Ref] = true
			accepted[r.Facets.Ref] = r.Type == model.EventComplaintAccepted
		case model.EventComplaintClosed:
			if !accepted[r.Facets.Ref] {
				t.Errorf("%s of %s, never accepted", r.Type, r.Facets.Ref)
			}
		case model.EventEquipmentHazardFixed:
			if !opened[r.Facets.Ref] {
				t.Errorf("%s of %s, never opened", r.Type, r.Facets.Ref)
			}
		}
	}
	if ofCity != 5000 {
		t.Errorf("%d of 5000 reports concern firms of the city (or ones it registered)", ofCity)
	}
	for _, k := range []model.EventType{model.EventSpotCheckCompleted, model.EventEnterpriseRegistered, model.EventComplaintClosed,
		model.EventComplaintAccepted, model.EventComplaintRejected,
		model.EventEquipmentHazardFixed, model.EventPenaltyDecided, model.EventCertificationGranted} {
		if kinds[k] == 0 {
			t.Errorf("no %s in 5000 reports: %v", k, kinds)
		}
	}
	if kinds[model.EventEnterpriseRegistered] > 5000/10 || kinds[model.EventEquipmentAccident] > 5000/100 {
		t.Errorf("rare reports are not rare: %v", kinds)
	}
}
