package conformance

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

func testKeyRecords(t *testing.T, open Opener) {
	// Given a key created, revoked and created again under its name, and one
	// bound to a county with an expiry, when the records are read back, then
	// they are what was stored (times to the microsecond) and resolve to the
	// same keys.
	s := open(t)
	defer s.Close()
	at := t0.Add(123456 * time.Microsecond)
	recs := []warehouse.KeyRecord{
		{Name: "portal", Action: warehouse.KeyActionCreate, ID: "k1", Hash: "h1", Scope: "analyst", At: at},
		{Name: "huaiyin", Action: warehouse.KeyActionCreate, ID: "k2", Hash: "h2", Scope: "ingest", Source: "320804",
			ExpiresAt: at.AddDate(1, 0, 0), At: at.Add(time.Second)},
		{Name: "portal", Action: warehouse.KeyActionRevoke, At: at.Add(2 * time.Second)},
		{Name: "portal", Action: warehouse.KeyActionCreate, ID: "k3", Hash: "h3", Scope: "analyst", At: at.Add(3 * time.Second)},
	}
	for _, r := range recs {
		if err := s.AppendKeyRecord(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AppendKeyRecord(t.Context(), warehouse.KeyRecord{Name: "x", Action: warehouse.KeyActionCreate, At: at}); err == nil {
		t.Error("a create without id and hash was stored")
	}
	got, err := s.KeyRecords(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(recs) {
		t.Fatalf("read %d records, want %d", len(got), len(recs))
	}
	for i := range recs {
		if !sameKeyRecord(got[i], recs[i]) {
			t.Errorf("record %d:\n got %+v\nwant %+v", i, got[i], recs[i])
		}
	}
	keys := warehouse.ResolveKeys(got)
	var lines []string
	for _, k := range keys {
		lines = append(lines, fmt.Sprintf("%s %s active=%v", k.Name, k.ID, k.Active(at.Add(time.Hour))))
	}
	want := []string{"huaiyin k2 active=true", "portal k1 active=false", "portal k3 active=true"}
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("resolved %q, want %q", lines, want)
	}
}

func sameKeyRecord(a, b warehouse.KeyRecord) bool {
	return a.Name == b.Name && a.Action == b.Action && a.ID == b.ID && a.Hash == b.Hash && a.Scope == b.Scope &&
		a.Source == b.Source && a.ExpiresAt.Equal(b.ExpiresAt) && a.At.Equal(b.At)
}

func testAudit(t *testing.T, open Opener) {
	// Given audit records of two keys, one flushed twice, when they are read
	// by time window, key and route, then each call comes once, oldest first.
	s := open(t)
	defer s.Close()
	var recs []warehouse.AuditRecord
	for i := range 5 {
		key, route := "a", "/api/v1/scores"
		if i%2 == 1 {
			key, route = "b", "/api/v1/enterprises/:uscc"
		}
		recs = append(recs, warehouse.AuditRecord{ID: fmt.Sprintf("r%d", i), At: t0.Add(time.Duration(i) * time.Minute),
			Key: key, Scope: "analyst", Method: "GET", Route: route, Params: `{"limit":"10"}`, Status: 200, Items: i,
			Detail: `{}`, DurationMS: int64(i)})
	}
	if err := s.AppendAudit(t.Context(), recs[:3]); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendAudit(t.Context(), recs[2:]); err != nil { // r2 again: a retried flush
		t.Fatal(err)
	}
	ids := func(q warehouse.AuditQuery) []string {
		t.Helper()
		got, err := s.Audit(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, r := range got {
			out = append(out, r.ID)
		}
		return out
	}
	cases := []struct {
		q    warehouse.AuditQuery
		want []string
	}{
		{warehouse.AuditQuery{}, []string{"r0", "r1", "r2", "r3", "r4"}},
		{warehouse.AuditQuery{Key: "b"}, []string{"r1", "r3"}},
		{warehouse.AuditQuery{Route: "/api/v1/scores", Since: t0.Add(time.Minute)}, []string{"r2", "r4"}},
		{warehouse.AuditQuery{Since: t0.Add(time.Minute), Until: t0.Add(3 * time.Minute)}, []string{"r1", "r2"}},
		{warehouse.AuditQuery{Limit: 2}, []string{"r0", "r1"}},
	}
	for _, c := range cases {
		if got := ids(c.q); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%+v: got %v, want %v", c.q, got, c.want)
		}
	}
	got, err := s.Audit(t.Context(), warehouse.AuditQuery{Key: "b", Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	r := got[0]
	if r.Params != `{"limit":"10"}` || r.Status != 200 || r.Items != 1 || r.Method != "GET" || r.Route != "/api/v1/enterprises/:uscc" ||
		!r.At.Equal(t0.Add(time.Minute)) || r.DurationMS != 1 || r.Scope != "analyst" {
		t.Errorf("read back %+v", r)
	}
}

func testResentIsTold(t *testing.T, open Opener) {
	// Given two stored events, when a batch resends one exactly, reuses the
	// other's id with different content and adds a new one, then Resent is
	// told of the two stored ids (the second as a conflict) and not of the
	// new one or of a repeat within the batch.
	s := open(t)
	defer s.Close()
	a := spotCheck(t, "320830-r1", FirmA, t0, "pass")
	b := spotCheck(t, "320830-r2", FirmA, t0.Add(time.Hour), "pass")
	write(t, s, warehouse.Batch{Items: []warehouse.Item{a, b}})
	changed := spotCheck(t, "320830-r2", FirmA, t0.Add(time.Hour), "fail")
	fresh := spotCheck(t, "320830-r3", FirmA, t0.Add(2*time.Hour), "pass")
	told := map[string]bool{}
	res := write(t, s, warehouse.Batch{Items: []warehouse.Item{a, changed, fresh, fresh}, Resent: func(id string, conflict bool) {
		if _, twice := told[id]; twice {
			t.Errorf("told of %s twice", id)
		}
		told[id] = conflict
	}})
	checkResult(t, "write", res, warehouse.WriteResult{Stored: 1, Duplicates: 2, Conflicts: 1, DeadLettered: 1})
	if !reflect.DeepEqual(told, map[string]bool{"320830-r1": false, "320830-r2": true}) {
		t.Errorf("told %v", told)
	}
}

func testEventsOfTypes(t *testing.T, open Opener) {
	// Given complaints and checks written in two batches, when complaint
	// events are read after nothing and after the first batch's time, then
	// only complaints come, in ingestion order, the second read only the
	// second batch's.
	s := open(t)
	defer s.Close()
	complaint := func(id string, typ model.EventType, data map[string]any) warehouse.Item {
		data["complaint_id"] = "W-" + id[len(id)-1:]
		return Event(t, id, typ, FirmA, t0, data)
	}
	write(t, s, warehouse.Batch{Items: []warehouse.Item{
		complaint("320830-c1", model.EventComplaintReceived, map[string]any{"kind": "complaint", "text": "电梯异响"}),
		spotCheck(t, "320830-s1", FirmA, t0, "pass"),
	}})
	first, err := s.Watermark(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	write(t, s, warehouse.Batch{Items: []warehouse.Item{
		complaint("320830-c2", model.EventComplaintAccepted, map[string]any{}),
		spotCheck(t, "320830-s2", FirmA, t0, "pass"),
	}})
	types := []model.EventType{model.EventComplaintReceived, model.EventComplaintAccepted, model.EventComplaintClosed}
	read := func(after time.Time) []string {
		var ids []string
		err := s.EventsOfTypes(t.Context(), types, after, func(e warehouse.IngestedEvent) error {
			if e.IngestedAt.IsZero() || e.USCC != FirmA || len(e.Data) == 0 {
				t.Errorf("event %+v", e)
			}
			ids = append(ids, e.ID)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	if got := read(time.Time{}); !reflect.DeepEqual(got, []string{"320830-c1", "320830-c2"}) {
		t.Errorf("all: %v", got)
	}
	if got := read(first); !reflect.DeepEqual(got, []string{"320830-c2"}) {
		t.Errorf("after the first batch: %v", got)
	}
}
