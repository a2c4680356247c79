package planning_test

import (
	"encoding/json"
	"testing"

	"github.com/qcredit/qcredit/planning"
)

func TestParseDecimal(t *testing.T) {
	tests := []struct{ in, want string }{
		{"0.3", "0.3"}, {"0.30", "0.3"}, {"0.073973", "0.073973"}, {"1", "1"}, {"1.000000", "1"}, {"0", "0"},
		{"12.5", "12.5"},
	}
	for _, tt := range tests {
		// given a plain decimal, when parsed and printed, then its shortest form
		d, err := planning.ParseDecimal(tt.in)
		if err != nil || d.String() != tt.want {
			t.Errorf("ParseDecimal(%q) = %s, %v; want %s", tt.in, d, err, tt.want)
		}
	}
	for _, bad := range []string{"", "1e-3", "-0.1", ".5", "5.", "0.1234567", " 0.1", "0x1", "1,5", "+1"} {
		// given another spelling, when parsed, then refused: a published value has one form
		if d, err := planning.ParseDecimal(bad); err == nil {
			t.Errorf("ParseDecimal(%q) = %s, want an error", bad, d)
		}
	}
	var d planning.Decimal
	if err := json.Unmarshal([]byte("1e-6"), &d); err == nil {
		t.Error("a JSON number with an exponent was accepted")
	}
}

func TestRatio(t *testing.T) {
	tests := []struct {
		num, den int64
		want     string
	}{{1, 3, "0.333333"}, {2, 3, "0.666667"}, {1, 2_000_000, "0.000001"}, {1, 2_000_001, "0"}, {47, 48, "0.979167"}, {5, 5, "1"}}
	for _, tt := range tests {
		// given a fraction, when shown to six decimals, then rounded half up
		if got := planning.Ratio(tt.num, tt.den).String(); got != tt.want {
			t.Errorf("Ratio(%d, %d) = %s, want %s", tt.num, tt.den, got, tt.want)
		}
	}
}

func TestCeil(t *testing.T) {
	for _, tt := range []struct {
		n, want int64
	}{{0, 0}, {1, 1}, {10, 1}, {11, 2}, {100, 10}, {101, 11}} {
		// given N firms, when ⌈0.1 × N⌉, then exact
		if got := planning.Decimal(100_000).Ceil(tt.n); got != tt.want {
			t.Errorf("⌈0.1 × %d⌉ = %d, want %d", tt.n, got, tt.want)
		}
	}
}
