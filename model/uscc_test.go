package model

import (
	"strings"
	"testing"
)

func TestUSCCCheckAcceptsPublishedCodes(t *testing.T) {
	for _, code := range []string{
		"91110000600037341L", // published code, Beijing
		"91320214745555318W", // published code, Wuxi
		"121200004013590816", // public institution, Tianjin
	} {
		if r := (USCCPolicy{}).Check(code); !r.Valid() {
			t.Errorf("%s: want valid, got %v", code, r.Problems)
		}
	}
}

func TestUSCCCheckReportsWhatIsWrong(t *testing.T) {
	tests := []struct {
		code     string
		kind     USCCProblemKind
		expected string
	}{
		{"91110000600037341N", USCCProblemCheck, "L"},
		{"123456789012345678", USCCProblemOrgCheck, "8"},
		{"9111000060003734", USCCProblemLength, ""},
		{"91110000600037341I", USCCProblemCharacter, ""},
		{"91110000600037341l", USCCProblemCharacter, ""},
		{string(CompleteUSCC("9199000060003734")), USCCProblemRegion, ""},
	}
	for _, tt := range tests {
		r := (USCCPolicy{}).Check(tt.code)
		if r.Valid() {
			t.Errorf("%s: want invalid", tt.code)
			continue
		}
		p := r.Problems[0]
		if p.Kind != tt.kind || p.Expected != tt.expected {
			t.Errorf("%s: got %s (expected %q): %s; want %s expected %q", tt.code, p.Kind, p.Expected, p.Detail, tt.kind, tt.expected)
		}
	}
}

func TestUSCCOrgCheckDigitOfExampleCode(t *testing.T) {
	r := (USCCPolicy{}).Check("123456789012345678")
	if !strings.Contains(r.Err().Error(), "expected") {
		t.Fatalf("reason should name the expected digit: %v", r.Err())
	}
}

func TestUSCCPolicyAcceptsPilotCheckFailuresOnlyWhenAsked(t *testing.T) {
	good := string(CompleteUSCC("9135021100000000"))
	bad := good[:17] + string(usccAlphabet[(strings.IndexByte(usccAlphabet, good[17])+1)%31])
	if (USCCPolicy{}).Check(bad).Valid() {
		t.Fatal("strict policy accepted a wrong check character")
	}
	if r := (USCCPolicy{AcceptCheckFailures: true}).Check(bad); !r.Valid() {
		t.Fatalf("lenient policy rejected it: %v", r.Problems)
	}
}

func TestUSCCRegionsOfHuaianAreKnown(t *testing.T) {
	for _, region := range []string{"320800", "320803", "320804", "320812", "320813", "320826",
		"320830", "320831", "320871", "320802", "320811", "320829"} {
		code := string(CompleteUSCC("91" + region + "MA1XY312"))
		r := (USCCPolicy{}).Check(code)
		if !r.Valid() || len(r.Warnings) > 0 || r.Region.Code != region {
			t.Errorf("%s (%s): problems %v warnings %v", code, region, r.Problems, r.Warnings)
		}
	}
}

func TestUSCCUnknownRegionIsAWarning(t *testing.T) {
	code := string(CompleteUSCC("91320899MA1XY312")) // 3208 prefix, no such county
	r := (USCCPolicy{}).Check(code)
	if !r.Valid() || len(r.Warnings) != 1 || r.Warnings[0].Kind != USCCProblemRegionNote {
		t.Fatalf("got problems %v warnings %v", r.Problems, r.Warnings)
	}
}

func FuzzUSCCCheckNeverPanics(f *testing.F) {
	f.Add("91110000600037341L")
	f.Add("中文中文中文中文中文中文中文中文中文")
	f.Fuzz(func(t *testing.T, s string) {
		r := (USCCPolicy{}).Check(s)
		if r.Valid() && string(CompleteUSCC(s[:16])) != s {
			t.Fatalf("valid code %s does not round-trip", s)
		}
	})
}
