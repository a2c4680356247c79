package api

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/qcredit/qcredit/model"
)

func TestCheckResponseIsWhatEncodingJSONWrites(t *testing.T) {
	// given a check response with listed and unlisted firms, versions with and without a publication time and
	// text JSON escapes, when written by hand, then the bytes are encoding/json's (without HTML escaping)
	at := time.Date(2025, 3, 12, 2, 0, 0, 123000000, model.Shanghai)
	e := model.ListEntry{Key: "k", USCC: "91320830MA1AAA018A", Name: `淮安"<甲>"公司`, Reason: "原因\n第二行", Measures: []string{"no_honours"},
		Events: []string{"e1"}, List: model.ListDishonest, State: model.ListStateListed, ListedAt: "2025-03-12"}
	r := CheckResponse{AsOf: "2025-06-30", Measures: map[string]model.ListMeasure{"no_honours": {Name: "不予授予荣誉称号", NameEN: "no honours", Basis: "总局令第44号"}},
		Results: []CheckResult{
			{USCC: e.USCC, Listed: true, Lists: []ListStatus{{List: model.ListDishonest, Version: 3, PublishedAt: &at, Listed: true, Entries: []model.ListEntry{e}},
				{List: model.ListFocus, Version: 0, Entries: []model.ListEntry{}}}},
			{USCC: "91320812MA1BBB025H", Lists: []ListStatus{}},
		}}
	got, err := r.appendJSON(nil)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	enc := json.NewEncoder(&want)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, bytes.TrimSuffix(want.Bytes(), []byte("\n"))) {
		t.Errorf("\n got %s\nwant %s", got, want.Bytes())
	}
}
