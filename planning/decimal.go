package planning

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Decimal is a non-negative decimal number with at most six decimals (a
// probability, a rate, a factor), held exactly as a count of millionths.
//
// Why not float64: k_g = floor(p × N + 1/2) sits exactly on .5 for ordinary
// inputs (p = 0.145, N = 100 gives 15; float64 gives 14), and a third party
// recomputing a draw must get the same k. Why not a decimal library: every
// value the rules publish has at most six decimals, so integer millionths are
// the exact value, the arithmetic is a few integer operations a verifier can
// redo in any language (Python int, JavaScript BigInt), and there is no
// library-wide setting (shopspring/decimal's DivisionPrecision) that could
// change a result.
//
// Counts multiplied by a Decimal must stay below MaxCount so that the
// intermediate 2 × millionths × count fits in an int64.
type Decimal int64

const (
	// DecimalOne is 1 (10⁶ millionths).
	DecimalOne Decimal = 1_000_000
	// MaxCount bounds the counts (firms, checks, batches) a Decimal multiplies.
	MaxCount = 1_000_000_000_000
	decimals = 6
)

// ParseDecimal reads a decimal in plain notation: digits, optionally a point
// and one to six digits ("0.3", "0.073973", "1"). Signs, exponents, spaces
// and more than six decimals are refused, so a published value has one meaning.
func ParseDecimal(s string) (Decimal, error) {
	whole, frac, hasPoint := strings.Cut(s, ".")
	switch {
	case whole == "" || !allDigits(whole):
		return 0, fmt.Errorf("decimal %q: want digits with an optional point and up to %d decimals", s, decimals)
	case hasPoint && (frac == "" || !allDigits(frac)):
		return 0, fmt.Errorf("decimal %q: want digits after the point", s)
	case len(frac) > decimals:
		return 0, fmt.Errorf("decimal %q: more than %d decimals", s, decimals)
	case len(whole) > 12:
		return 0, fmt.Errorf("decimal %q: too large", s)
	}
	w, _ := strconv.ParseInt(whole, 10, 64) // digits only and at most 12 of them: cannot fail
	f := int64(0)
	if frac != "" {
		f, _ = strconv.ParseInt(frac+strings.Repeat("0", decimals-len(frac)), 10, 64)
	}
	return Decimal(w*int64(DecimalOne) + f), nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// String is the shortest plain form: no trailing zeros, no point for whole
// numbers ("0", "1", "0.3", "0.073973"). It is the canonical encoding used in
// hashes and published JSON.
func (d Decimal) String() string { return string(d.AppendText(nil)) }

// AppendText appends the canonical form.
func (d Decimal) AppendText(b []byte) []byte {
	if d < 0 { // never produced here; printed rather than hidden
		b, d = append(b, '-'), -d
	}
	b = strconv.AppendInt(b, int64(d/DecimalOne), 10)
	frac := int64(d % DecimalOne)
	if frac == 0 {
		return b
	}
	digits := strconv.FormatInt(frac+int64(DecimalOne), 10)[1:] // zero-padded to six
	return append(append(b, '.'), strings.TrimRight(digits, "0")...)
}

// MarshalJSON writes a JSON number in the canonical form.
func (d Decimal) MarshalJSON() ([]byte, error) {
	if d < 0 {
		return nil, fmt.Errorf("decimal %s is negative", d)
	}
	return d.AppendText(nil), nil
}

// UnmarshalJSON reads a JSON number with at most six decimals.
func (d *Decimal) UnmarshalJSON(b []byte) error {
	v, err := ParseDecimal(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// UnmarshalYAML reads a plain scalar, exactly as written (0.95 stays 0.95,
// never a float).
func (d *Decimal) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a decimal number", n.Line)
	}
	v, err := ParseDecimal(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = v
	return nil
}

// RoundHalfUp is floor(d × n + 1/2), the rule that turns a draw's probability
// into its number of firms: exact halves round up.
func (d Decimal) RoundHalfUp(n int64) int64 {
	return (2*int64(d)*n + int64(DecimalOne)) / (2 * int64(DecimalOne))
}

// Ceil is ⌈d × n⌉, the re-check's "at least" rule.
func (d Decimal) Ceil(n int64) int64 {
	return (int64(d)*n + int64(DecimalOne) - 1) / int64(DecimalOne)
}

// Ratio is num/den rounded half up to six decimals; den must be positive.
// Both are non-negative counts below MaxCount.
func Ratio(num, den int64) Decimal {
	return Decimal((2*num*int64(DecimalOne) + den) / (2 * den))
}

// Exceeds reports whether num/den > d, exactly (no rounding of the ratio):
// 95 % must not be read as "above 95 %" because 0.9500004 rounded to 0.95.
func (d Decimal) Exceeds(num, den int64) bool { return num*int64(DecimalOne) > int64(d)*den }

// Undercuts reports whether num/den < d, exactly.
func (d Decimal) Undercuts(num, den int64) bool { return num*int64(DecimalOne) < int64(d)*den }

// Percent formats the decimal as a percentage for reasons' details ("95%",
// "97.9167%"): at most four decimals of a percent are exact in millionths.
func (d Decimal) Percent() string {
	pc := Decimal(int64(d) * 100)
	return pc.String() + "%"
}

var errNegativeCount = errors.New("counts must not be negative")

// checkCount says why n cannot be multiplied by a Decimal exactly.
func checkCount(name string, n int64) error {
	switch {
	case n < 0:
		return fmt.Errorf("%s %d: %w", name, n, errNegativeCount)
	case n >= MaxCount:
		return fmt.Errorf("%s %d: must be below %d", name, n, int64(MaxCount))
	}
	return nil
}
