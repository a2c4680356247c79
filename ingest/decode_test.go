package ingest

import (
	"strings"
	"testing"
	"time"

	"github.com/qcredit/qcredit/model"
)

var firm = string(model.CompleteUSCC("91320830MA1AAA01"))

func TestDecodeRefusesEachKindOfBadInput(t *testing.T) {
	now := time.Date(2025, 6, 1, 10, 0, 0, 0, model.Shanghai)
	decoder := Decoder{Now: func() time.Time { return now }}
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
		{"data null", strings.Replace(valid, `{"check_id":"C1","product":"电线电缆","result":"pass"}`, `null`, 1), model.DeadLetterInvalidField, "data"},
		{"data field null", strings.Replace(valid, `"result":"pass"`, `"result":"pass","severity":null`, 1), model.DeadLetterInvalidField, "data.severity"},
		{"unknown top-level field", strings.Replace(valid, `"source"`, `"extra_field":1,"source"`, 1), model.DeadLetterUnknownField, "extra_field"},
		{"repeated top-level key", strings.Replace(valid, `"source":"320830"`, `"source":"320830","source":"320826"`, 1), model.DeadLetterInvalidField, "source"},
		{"id of 129 characters", strings.Replace(valid, `"320830-1"`, `"`+strings.Repeat("号", 129)+`"`, 1), model.DeadLetterInvalidField, "id"},
		{"future occurred_at", strings.Replace(valid, `2025-03-01T09:00:00+08:00`, `2025-06-02T10:00:01+08:00`, 1), model.DeadLetterInvalidField, "occurred_at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			origin := model.Origin{Kind: "file", Name: "/in.jsonl", Position: "3"}
			_, dl := decoder.Decode([]byte(tt.raw), origin)
			if dl == nil {
				t.Fatal("accepted bad input")
			}
			if dl.Reason != tt.reason || !strings.HasPrefix(dl.Detail, tt.field) {
				t.Errorf("got %s %q, want %s on %s", dl.Reason, dl.Detail, tt.reason, tt.field)
			}
			if string(dl.Raw) != tt.raw || dl.Origin != origin || !dl.Received.Equal(now) {
				t.Errorf("dead letter lost its raw bytes, origin or time: %+v", dl)
			}
		})
	}
	for name, raw := range map[string]string{
		"valid":                    valid,
		"id of 128 characters":     strings.Replace(valid, `"320830-1"`, `"`+strings.Repeat("号", 128)+`"`, 1),
		"occurred_at within a day": strings.Replace(valid, `2025-03-01T09:00:00+08:00`, `2025-06-02T10:00:00+08:00`, 1),
	} {
		if _, dl := decoder.Decode([]byte(raw), model.Origin{}); dl != nil {
			t.Errorf("%s: refused: %s", name, dl.Detail)
		}
	}
}

func TestDeadLetterNamesTheEventsIDAndSource(t *testing.T) {
	// Given input refused before its id and source were checked (the
	// repeated key comes first), its dead letter still names both.
	raw := `{"type":"award.granted","type":"x","source":"320826","id":"320826-7"}`
	_, dl := Decoder{}.Decode([]byte(raw), model.Origin{})
	if dl == nil || dl.EventID != "320826-7" || dl.Source != "320826" {
		t.Fatalf("dead letter %+v, want id 320826-7 and source 320826", dl)
	}
}

func TestFutureToleranceIsConfigurable(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, model.Shanghai)
	raw := `{"id":"320830-1","type":"award.granted","uscc":"` + firm + `","source":"320830","occurred_at":"2025-06-01T13:00:00+08:00"}`
	strict := Decoder{Now: func() time.Time { return now }, FutureTolerance: 30 * time.Minute}
	if _, dl := strict.Decode([]byte(raw), model.Origin{}); dl == nil || !strings.Contains(dl.Detail, "30m0s in the future") {
		t.Errorf("an hour ahead with 30 minutes' tolerance: %+v", dl)
	}
	if _, dl := (Decoder{Now: strict.Now}).Decode([]byte(raw), model.Origin{}); dl != nil {
		t.Errorf("an hour ahead with the default tolerance: refused: %s", dl.Detail)
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
