package api

import (
	"slices"
	"testing"
)

func TestSplitEvents(t *testing.T) {
	cases := []struct {
		body string
		want []string
		bad  bool
	}{
		{`[{"a":"x,]}"},{"b":[1,2]} , 7]`, []string{`{"a":"x,]}"}`, `{"b":[1,2]}`, `7`}, false},
		{` [ ] `, nil, false},
		{`[{"q":"say \"hi\", ]"}]`, []string{`{"q":"say \"hi\", ]"}`}, false},
		{"{\"a\":1}\r\n\n  {\"b\":2}", []string{`{"a":1}`, `{"b":2}`}, false},
		{`[{"a":1},]`, nil, true},
		{`[{"a":1}`, nil, true},
		{`[{"a":"1}]`, nil, true},
		{`[1] [2]`, nil, true},
		{`[}]`, nil, true},
		{``, nil, true},
	}
	for _, c := range cases {
		got, err := splitEvents([]byte(c.body), 10)
		if (err != nil) != c.bad {
			t.Errorf("%q: err %v", c.body, err)
			continue
		}
		var s []string
		for _, g := range got {
			s = append(s, string(g))
		}
		if !slices.Equal(s, c.want) {
			t.Errorf("%q: got %q, want %q", c.body, s, c.want)
		}
	}
	if _, err := splitEvents([]byte(`[1,2,3]`), 2); err == nil {
		t.Error("3 items with a limit of 2")
	}
}
