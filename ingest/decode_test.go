package ingest

import (
	"strings"
	"testing"

	"github.com/qcredit/qcredit/model"
)

var firm = string(model.CompleteUSCC("91320830MA1AAA01"))

func TestDecodeRefusesEachKindOfBadInput(t *testing.T) {
	valid := `{"id":"320830-1","type":"spot_check.completed","uscc":"` + firm + `","source":"320830","occurred_at":"2025-03-01T09:00:00+08:00","data":{"check_id":"C1","product":"电线电缆","result":"pass"}}`
	tests := []struct {
		name   string
		raw    string
		reason model.DeadLetterReason
		field  string
	}{
		{"broken JSON", valid[:40], model.DeadLetterMalformedJSON, ""},
		{"not an object", `["a"]`, model.DeadLetterMalformedJSON, ""},
		{"id of wrong type", strings.Replace(valid, `"320830-1"`, `17`, 1), model.DeadLetterInvalidField, "id"},
		{"missing id", strings.Replace(valid, `"id":"320830-1",`, ``, 1), model.DeadLetterMissingField, "id"},
		{"unknown type", strings.Replace(valid, `spot_check.completed`, `spot_check.started`, 1), model.DeadLetterUnknownType, "type"},
		{"bad USCC", strings.Replace(valid, firm, firm[:17]+"0", 1), model.DeadLetterInvalidUSCC, "uscc"},
		{"missing USCC", strings.Replace(valid, `"uscc":"`+firm+`",`, ``, 1), model.DeadLetterMissingField, "uscc"},
		{"source outside Huai'an", strings.Replace(valid, `"source":"320830"`, `"source":"320100"`, 1), model.DeadLetterInvalidField, "source"},
		{"bad time", strings.Replace(valid, `2025-03-01T09:00:00+08:00`, `2025-03-01`, 1), model.DeadLetterInvalidField, "occurred_at"},
		{"missing time", strings.Replace(valid, `"occurred_at":"2025-03-01T09:00:00+08:00",`, ``, 1), model.DeadLetterMissingField, "occurred_at"},
		{"missing data field", strings.Replace(valid, `"product":"电线电缆",`, ``, 1), model.DeadLetterMissingField, "data.product"},
		{"bad enum", strings.Replace(valid, `"result":"pass"`, `"result":"ok"`, 1), model.DeadLetterInvalidField, "data.result"},
		{"fail without severity", strings.Replace(valid, `"result":"pass"`, `"result":"fail"`, 1), model.DeadLetterMissingField, "data.severity"},
		{"repeated data key", strings.Replace(valid, `"result":"pass"`, `"result":"pass","check_id":"C2"`, 1), model.DeadLetterInvalidField, "data.check_id"},
		{"data not an object", strings.Replace(valid, `{"check_id":"C1","product":"电线电缆","result":"pass"}`, `"x"`, 1), model.DeadLetterInvalidField, "data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			origin := model.Origin{Kind: "file", Name: "/in.jsonl", Position: "3"}
			_, dl := Decoder{}.Decode([]byte(tt.raw), origin)
			if dl == nil {
				t.Fatal("accepted bad input")
			}
			if dl.Reason != tt.reason || !strings.HasPrefix(dl.Detail, tt.field) {
				t.Errorf("got %s %q, want %s on %s", dl.Reason, dl.Detail, tt.reason, tt.field)
			}
			if string(dl.Raw) != tt.raw || dl.Origin != origin {
				t.Errorf("dead letter lost its raw bytes or origin: %+v", dl)
			}
		})
	}
	if _, dl := (Decoder{}).Decode([]byte(valid), model.Origin{}); dl != nil {
		t.Fatalf("valid event refused: %s", dl.Detail)
	}
}

func TestDecodeCanonicalisesDataSoKeyOrderIsNoConflict(t *testing.T) {
	a := `{"id":"x-1","type":"complaint.closed","uscc":"` + firm + `","source":"320830","occurred_at":"2025-03-01T09:00:00+08:00","data":{"complaint_id":"K1","verified":true}}`
	b := `{"data":{ "verified": true, "complaint_id":"K1"},"occurred_at":"2025-03-01T09:00:00+08:00","source":"320830","uscc":"` + firm + `","type":"complaint.closed","id":"x-1"}`
	ia, dla := Decoder{}.Decode([]byte(a), model.Origin{})
	ib, dlb := Decoder{}.Decode([]byte(b), model.Origin{})
	if dla != nil || dlb != nil {
		t.Fatalf("refused: %v %v", dla, dlb)
	}
	if ia.Record.Hash != ib.Record.Hash {
		t.Error("the same event with its keys reordered hashes differently")
	}
	if ia.Record.Facets.Ref != "K1" || ia.Record.Facets.Result != "verified" {
		t.Errorf("facets: %+v", ia.Record.Facets)
	}
}

func FuzzDecodeNeverPanics(f *testing.F) {
	f.Add([]byte(`{"id":"a","type":"award.granted","uscc":"` + firm + `","source":"320830","occurred_at":"2025-03-01T09:00:00+08:00"}`))
	f.Add([]byte(`{"data":{"x":[1,2,{}]}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		it, dl := Decoder{}.Decode(raw, model.Origin{})
		if (dl == nil) == (it.Record.ID == "") {
			t.Fatalf("exactly one of item and dead letter must be set: %+v %+v", it, dl)
		}
	})
}
