package api

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/qcredit/qcredit/model"
)

func complaintEvent(t *testing.T, typ model.EventType, uscc, source string, at time.Time, data map[string]any) model.Event {
	t.Helper()
	raw, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	return model.Event{Type: typ, USCC: model.USCC(uscc), Source: source, OccurredAt: at, Data: raw}
}

// complaintEvents are three complaints' events: A closed (verified) before
// it is received in the feed, B rejected with a tracking code, C received.
func complaintEvents(t *testing.T, code string) []model.Event {
	day := time.Date(2025, 3, 10, 9, 0, 0, 0, model.Shanghai)
	return []model.Event{
		complaintEvent(t, model.EventComplaintClosed, "91320830MA1AAA018A", "320830", day.AddDate(0, 0, 9),
			map[string]any{"complaint_id": "A", "verified": true, "outcome": "责令整改", "answer": "已责令整改"}),
		complaintEvent(t, model.EventComplaintReceived, "91320830MA1AAA018A", "320830", day,
			map[string]any{"complaint_id": "A", "kind": "complaint", "category": "quality", "channel": "12365", "text": "漏水", "contact": "13800000000"}),
		complaintEvent(t, model.EventComplaintReceived, "91320812MA1BBB025H", "320812", day.AddDate(0, 0, 1),
			map[string]any{"complaint_id": "B", "kind": "report", "category": "quality", "channel": "web", "tracking_hash": trackingHash(code)}),
		complaintEvent(t, model.EventComplaintRejected, "91320812MA1BBB025H", "320812", day.AddDate(0, 0, 3),
			map[string]any{"complaint_id": "B", "reason": "不属于本部门职责"}),
		complaintEvent(t, model.EventComplaintReceived, "91320812MA1BBB025H", "320812", day.AddDate(0, 0, 1),
			map[string]any{"complaint_id": "C", "kind": "complaint", "category": "quality", "channel": "letter"}),
	}
}

func ids(cs []complaint) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

func TestComplaintBookFoldsEventsInAnyOrderAndFilters(t *testing.T) {
	// given three complaints' events, one closed before its receipt arrives, applied twice over, also with
	// every id hashing alike, when listed and looked up, then each complaint is whole, newest first (then by
	// id), the filters select as they say and applying again takes no room
	const code = "ABCD-EFGH-JKLM-NPQR"
	for name, hash := range map[string]func(string) uint64{"hashed": nil, "colliding": func(string) uint64 { return 7 }} {
		t.Run(name, func(t *testing.T) {
			b := newComplaintBook(nil, time.Now)
			if hash != nil {
				b.hashID = hash
			}
			for _, e := range complaintEvents(t, code) {
				b.apply(e)
			}
			size := b.sizeLocked()
			for _, e := range complaintEvents(t, code) {
				b.apply(e)
			}
			if got := b.sizeLocked(); got != size || b.recs.len() != 3 {
				t.Fatalf("applying again: %d records, %d bytes, want 3 and %d", b.recs.len(), got, size)
			}
			all := b.get(b.find(complaintFilter{}))
			if got := ids(all); !reflect.DeepEqual(got, []string{"B", "C", "A"}) {
				t.Fatalf("order %v, want B C A", got)
			}
			a := all[2]
			if a.status() != ComplaintStatusClosed || a.Verified == nil || !*a.Verified || a.Outcome != "责令整改" ||
				a.Answer != "已责令整改" || a.Text != "漏水" || a.Contact != "13800000000" || a.Channel != "12365" ||
				a.USCC != "91320830MA1AAA018A" || a.Source != "320830" || a.Trackable || !a.received ||
				!a.ReceivedAt.Equal(time.Date(2025, 3, 10, 9, 0, 0, 0, model.Shanghai)) || !a.AcceptedAt.IsZero() {
				t.Fatalf("A is %+v", a)
			}
			for _, c := range []struct {
				f    complaintFilter
				want []string
			}{
				{complaintFilter{status: ComplaintStatusRejected}, []string{"B"}},
				{complaintFilter{status: ComplaintStatusReceived}, []string{"C"}},
				{complaintFilter{kind: "complaint"}, []string{"C", "A"}},
				{complaintFilter{region: "320830"}, []string{"A"}},
				{complaintFilter{region: "320800"}, []string{"B", "C", "A"}},
				{complaintFilter{uscc: "91320812MA1BBB025H"}, []string{"B", "C"}},
				{complaintFilter{since: time.Date(2025, 3, 11, 0, 0, 0, 0, model.Shanghai)}, []string{"B", "C"}},
			} {
				if got := ids(b.get(b.find(c.f))); !reflect.DeepEqual(got, c.want) {
					t.Errorf("%+v: %v, want %v", c.f, got, c.want)
				}
			}
			got, ok := b.byTrackingCode("abcd efgh jklm npqr")
			if !ok || got.ID != "B" || got.status() != ComplaintStatusRejected || got.RejectReason != "不属于本部门职责" || !got.Trackable {
				t.Fatalf("by tracking code: %+v, %v", got, ok)
			}
			if _, ok := b.byTrackingCode("ABCD-EFGH-JKLM-NPQS"); ok {
				t.Fatal("another code found a complaint")
			}
		})
	}
}

func TestComplaintBookChangesAFieldAndKeepsNoPointers(t *testing.T) {
	// given a complaint closed, then closed again with another answer and without verified, when read, then it
	// says the second; and the record type holds no pointer for the collector to mark
	b := newComplaintBook(nil, time.Now)
	at := time.Date(2025, 3, 10, 9, 0, 0, 0, model.Shanghai)
	b.apply(complaintEvent(t, model.EventComplaintReceived, "91320830MA1AAA018A", "320830", at,
		map[string]any{"complaint_id": "A", "kind": "question", "category": "quality", "tracking_hash": "not-a-hash"}))
	b.apply(complaintEvent(t, model.EventComplaintClosed, "91320830MA1AAA018A", "320830", at.Add(time.Hour),
		map[string]any{"complaint_id": "A", "verified": false, "answer": "第一次"}))
	b.apply(complaintEvent(t, model.EventComplaintClosed, "91320830MA1AAA018A", "320830", at.Add(2*time.Hour),
		map[string]any{"complaint_id": "A", "answer": "第二次"}))
	got := b.get(b.find(complaintFilter{}))
	if len(got) != 1 || got[0].Answer != "第二次" || got[0].Verified != nil || !got[0].Trackable ||
		!got[0].ClosedAt.Equal(at.Add(2*time.Hour)) {
		t.Fatalf("got %+v", got)
	}
	if len(b.byTracking) != 0 {
		t.Fatal("a tracking hash that is no SHA-256 was indexed")
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[complaintRec](), reflect.TypeFor[uint64](), reflect.TypeFor[uint32](), reflect.TypeFor[[32]byte]()} {
		if hasPointers(typ) {
			t.Errorf("%v holds pointers", typ)
		}
	}
}

func hasPointers(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Struct:
		for i := range t.NumField() {
			if hasPointers(t.Field(i).Type) {
				return true
			}
		}
		return false
	case reflect.Array:
		return hasPointers(t.Elem())
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8,
		reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return false
	}
	return true
}
