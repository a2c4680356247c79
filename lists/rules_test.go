package lists_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/qcredit/qcredit/lists"
)

func TestRulesVersionIsTheHashOfTheirBytes(t *testing.T) {
	// given the embedded rules and an edited copy, when parsed, then each version is "ls-" and the first
	// 12 hex digits of the SHA-256 of its bytes, and the edit shows in the rules
	def := lists.DefaultYAML()
	sum := sha256.Sum256(def)
	r := defaultRules(t)
	if want := "ls-" + hex.EncodeToString(sum[:])[:12]; r.Version != want {
		t.Errorf("version %s, want %s", r.Version, want)
	}
	edited := bytes.Replace(def, []byte("notice_working_days: 5"), []byte("notice_working_days: 7"), 1)
	r2, err := lists.Parse(edited)
	if err != nil {
		t.Fatal(err)
	}
	if r2.Version == r.Version || r2.NoticeWorkingDays != 7 {
		t.Errorf("edited rules: version %s (default %s), notice %d", r2.Version, r.Version, r2.NoticeWorkingDays)
	}
}

func TestParseSaysWhatIsWrong(t *testing.T) {
	def := string(lists.DefaultYAML())
	tests := []struct {
		name     string // given / when / then
		old, new string
		want     string
	}{
		{"a violation the contract does not have", "violations: [counterfeit, substandard, unlicensed, special_equipment, obstruction]",
			"violations: [counterfeit, fake]", `"fake" is not one of`},
		{"a listing period longer than the NDRC maximum", "listing_months: 36", "listing_months: 60",
			"listing_months 60 is outside the serious period"},
		{"repair allowed before the NDRC minimum", "repair_after_months: 12", "repair_after_months: 6",
			"before the serious period's minimum of 12 months"},
		{"an unknown placeholder in a reason", "（{accident_id}）", "（{accident_no}）", "placeholder {accident_no}"},
		{"a measure that is not defined", "measures: [focus_supervision, no_honours]", "measures: [focus_supervision, no_fun]",
			`"no_fun" is not a measure`},
		{"two rules with one id", "id: serious.accident", "id: serious.heavy_penalty", "must be unique"},
		{"an unknown field", "publisher: \"320800\"", "publisher: \"320800\"\npublishr: x", "field publishr not found"},
		{"a publisher outside Huai'an", "publisher: \"320800\"", "publisher: \"110000\"", "is not the city bureau"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(def, tt.old) {
				t.Fatalf("default rules no longer contain %q", tt.old)
			}
			_, err := lists.Parse([]byte(strings.Replace(def, tt.old, tt.new, 1)))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to say %q", err, tt.want)
			}
		})
	}
}
