package model

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func encodingJSON(t *testing.T, v any, escapeHTML bool) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(escapeHTML)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

func TestAppendJSONStringIsEncodingJSON(t *testing.T) {
	// given awkward strings (every ASCII control, HTML characters, invalid UTF-8, JavaScript line
	// terminators, Chinese) and random byte strings, when quoted with and without HTML escaping, then the
	// bytes are encoding/json's
	cases := []string{"", "淮安市清江浦区", "q\"uote\\ <tag> & \n\t\r\b\f\x01\x1f\x7f", "\u2028\u2029", "\xff\xfe ok \xe6\xb7", "end\\"}
	var ctl strings.Builder
	for c := range 0x20 {
		ctl.WriteByte(byte(c))
	}
	cases = append(cases, ctl.String())
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "<", ">", "&", "\"", "\\", "\n", "\x00", "\xff", "\u2028", "淮", "\xe6", "€", "\U0001F600"}
	for range 2000 {
		var sb strings.Builder
		for range r.IntN(12) {
			sb.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		cases = append(cases, sb.String())
	}
	for _, s := range cases {
		for _, html := range []bool{false, true} {
			if got, want := string(AppendJSONString(nil, s, html)), encodingJSON(t, s, html); got != want {
				t.Fatalf("%q (html %v): got %s, want %s", s, html, got, want)
			}
		}
	}
}

func TestAppendJSONFloatIsEncodingJSON(t *testing.T) {
	// given fines and the edges of the exponent form, when written, then the bytes are encoding/json's
	cases := []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 200, 5000.5, 1e-6, 9.99e-7, 1e-7, 1.5e-10, 1e20, 1e21, 1.2345e22,
		123456789.123, math.MaxFloat64, math.SmallestNonzeroFloat64, -3e-9}
	r := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		cases = append(cases, math.Float64frombits(r.Uint64()))
	}
	for _, f := range cases {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		if got, want := string(AppendJSONFloat(nil, f)), encodingJSON(t, f, true); got != want {
			t.Fatalf("%v: got %s, want %s", f, got, want)
		}
	}
}
