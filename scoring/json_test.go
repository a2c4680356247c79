package scoring

import (
	"encoding/json"
	"testing"

	"github.com/qcredit/qcredit/model"
)

func TestAppendReasonsJSONMatchesEncodingJSON(t *testing.T) {
	// Given reasons with every field, empty fields and awkward strings, then
	// the hand-written encoder writes exactly what encoding/json writes.
	tests := []struct {
		name string
		rs   []model.Reason
	}{
		{"empty", []model.Reason{}},
		{"full", []model.Reason{{Rule: "spot_check.fail.major", Points: -85, Count: 3, Events: []string{"a", "b"},
			Basis: "产品质量法第15条", Windows: []int64{1, 0, 2}, Detail: "capped at -15.0"}}},
		{"omitted", []model.Reason{{Rule: "grade.a_evidence", Basis: "x"}, {Rule: "score.clamp", Points: 5, Basis: "y"}}},
		{"escapes", []model.Reason{{Rule: "r", Basis: "q\"uote\\ <tag> & \n\t\x01\b\f \u2028 \xff end", Events: []string{"id,with\"odd"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := json.Marshal(tt.rs)
			if err != nil {
				t.Fatal(err)
			}
			if got := AppendReasonsJSON(nil, tt.rs); string(got) != string(want) {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}
