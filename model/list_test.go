package model_test

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/qcredit/qcredit/model"
)

// tricky are strings encoding/json treats specially.
var tricky = []string{"", "plain", "淮安市市场监督管理局", `quote " and \ backslash`, "line\nbreak\ttab\rreturn",
	"\b\f\x00\x01\x1f\x7f", "<html> & 'amp'", "\u2028\u2029", "bad \xff\xfe utf-8", "é\u00e9\u0301", "🙂 emoji"}

func randomEntry(r *rand.Rand) model.ListEntry {
	s := func() string { return tricky[r.IntN(len(tricky))] + tricky[r.IntN(len(tricky))] }
	list := func() []string {
		var out []string
		for range r.IntN(3) {
			out = append(out, s())
		}
		return out
	}
	e := model.ListEntry{Authority: s(), AuthorityCode: s(), Basis: s(), DatesEstimated: r.IntN(2) == 0, Events: list(),
		ExpiresAt: s(), Key: s(), List: model.List(s()), ListedAt: s(), Measures: list(), Name: s(), NoticeEnds: s(),
		Reason: s(), RemovedAt: s(), RemovedBy: s(), RemovedByCode: s(), RemovedReason: model.Removal(s()),
		RepairPossibleFrom: s(), Rule: s(), State: model.ListState(s()), TriggeredAt: s(), USCC: model.USCC(s())}
	if e.Measures == nil {
		e.Measures = []string{} // canonical: measures is always an array
	}
	return e
}

func TestCanonicalIsEncodingJSON(t *testing.T) {
	// given random entries and changes full of characters encoding/json escapes, when each is written in
	// canonical form, then the bytes are encoding/json's (no HTML escaping) and a nil measures list is []
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		e := randomEntry(r)
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(&e); err != nil {
			t.Fatal(err)
		}
		if got := e.AppendCanonical(nil); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("entry\n got %q\nwant %q", got, want.Bytes())
		}
		c := model.ListChange{Entry: e, Key: e.Key, Op: model.ListOpModify, USCC: e.USCC}
		want.Reset()
		if err := enc.Encode(&c); err != nil {
			t.Fatal(err)
		}
		if got := c.AppendCanonical(nil); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("change\n got %q\nwant %q", got, want.Bytes())
		}
	}
	nilMeasures := model.ListEntry{Key: "k"}
	if got := string(nilMeasures.AppendCanonical(nil)); !strings.Contains(got, `"measures":[]`) {
		t.Errorf("nil measures: %s", got)
	}
}

func TestListEntryFieldsAreInJSONOrder(t *testing.T) {
	// given the entry and change types, then their fields are declared in the order of their JSON names, so
	// encoding/json writes the canonical key order the hand-written encoder follows
	for _, typ := range []reflect.Type{reflect.TypeFor[model.ListEntry](), reflect.TypeFor[model.ListChange]()} {
		prev := ""
		for i := range typ.NumField() {
			name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
			if name <= prev {
				t.Errorf("%s: field %s (%q) after %q", typ, typ.Field(i).Name, name, prev)
			}
			prev = name
		}
	}
}

func TestListedOn(t *testing.T) {
	// given entries in each state, then ListedOn follows their own dates: from listed_at until removal, or
	// until expiry when not removed, and never for pending entries
	listed := model.ListEntry{State: model.ListStateListed, ListedAt: "2025-03-11", ExpiresAt: "2028-03-11"}
	removed := listed
	removed.State, removed.RemovedAt = model.ListStateRemoved, "2025-06-01"
	pending := listed
	pending.State = model.ListStatePending
	for _, c := range []struct {
		e    model.ListEntry
		day  string
		want bool
	}{
		{listed, "2025-03-10", false}, {listed, "2025-03-11", true}, {listed, "2028-03-10", true}, {listed, "2028-03-11", false},
		{removed, "2025-05-31", true}, {removed, "2025-06-01", false}, {pending, "2025-04-01", false},
	} {
		if got := c.e.ListedOn(c.day); got != c.want {
			t.Errorf("%s entry on %s: %v, want %v", c.e.State, c.day, got, c.want)
		}
	}
}

func TestParseIsEncodingJSON(t *testing.T) {
	// given random entries and changes full of escapes, invalid UTF-8 and surrogates, when their canonical lines
	// (and encoding/json's own output, and a line with fields it does not know) are parsed, then the values are
	// what encoding/json.Unmarshal gives
	r := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		e := randomEntry(r)
		if r.IntN(3) == 0 {
			e.Measures = nil
		}
		c := model.ListChange{Entry: e, Key: e.Key, Op: model.ListOpRemove, USCC: e.USCC}
		line := c.AppendCanonical(nil)
		var want model.ListChange
		if err := json.Unmarshal(line, &want); err != nil {
			t.Fatal(err)
		}
		got, err := model.ParseListChange(line)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("change %s:\n got %+v %v\nwant %+v", line, got, err, want)
		}
		plain, _ := json.Marshal(e) // HTML-escaped, other key order
		var wantE model.ListEntry
		json.Unmarshal(plain, &wantE)
		if gotE, err := model.ParseListEntry(plain); err != nil || !reflect.DeepEqual(gotE, wantE) {
			t.Fatalf("entry %s:\n got %+v %v\nwant %+v", plain, gotE, err, wantE)
		}
	}
	odd := []byte(`{"key":"k","future":{"a":[1,-2.5e3,true,null,"x\u00e9"]},"name":"\ud83d\ude42 \ud800 x","measures":null,"dates_estimated":true}`)
	var want model.ListEntry
	if err := json.Unmarshal(odd, &want); err != nil {
		t.Fatal(err)
	}
	if got, err := model.ParseListEntry(odd); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("odd:\n got %+v %v\nwant %+v", got, err, want)
	}
	for _, bad := range []string{``, `{`, `{"key":}`, `{"key":"a"`, `{"key":"a"} x`, `{"events":["a",]}`, `{"key":"\x01"}`, `{"key":"\q"}`} {
		if _, err := model.ParseListEntry([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
