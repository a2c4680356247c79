package model

import (
	"regexp"
	"testing"
	"unicode"
)

var shapeSeeds = []string{
	"2025-03-01T09:30:00+08:00", "2025-03-01T09:30:00Z", "2025-03-01T09:30:00.125-05:30", "2025-03-01",
	"2025-03-01t09:30:00z", "2025-03-01 09:30:00Z", "2025-03-01T09:30:00.Z", "2025-03-01T09:30Z",
	"2025-13-01", "2025-00-10", "2025-01-32", "2025/04/01", "01-03-2027", "yesterday", "",
	"2025-03-01T24:00:00Z", "2025-03-01T23:60:00Z", "2025-03-01T23:59:60Z", "2025-03-01T09:30:00+24:00",
	"2025-03-01T09:30:00+08:60", "2025-03-01T09:30:00+0800", "2025-03-01T09:30:00,5Z", "02025-03-01",
	"2025-03-01T09:30:00+08:00\n", "２０２５-03-01",
}

// FuzzShapesMatchTheirPatterns holds the byte-by-byte shape checks to the
// regular expressions the JSON Schema publishes.
func FuzzShapesMatchTheirPatterns(f *testing.F) {
	for _, s := range shapeSeeds {
		f.Add(s)
	}
	date, ts := regexp.MustCompile(DatePattern), regexp.MustCompile(TimestampPattern)
	either := regexp.MustCompile(DateOrTimestampPattern)
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := isDate(s), date.MatchString(s); got != want {
			t.Errorf("isDate(%q) = %v, pattern says %v", s, got, want)
		}
		if got, want := isTimestamp(s), ts.MatchString(s); got != want {
			t.Errorf("isTimestamp(%q) = %v, pattern says %v", s, got, want)
		}
		if got, want := isDate(s) || isTimestamp(s), either.MatchString(s); got != want {
			t.Errorf("date or timestamp %q: %v, pattern says %v", s, got, want)
		}
	})
}

func FuzzIsBlankMatchesNonBlankPattern(f *testing.F) {
	for _, s := range []string{"", "   ", "\u3000\u3000", " a ", "\t\n", "名", "\u200b", "\ufeff", "\x85"} {
		f.Add(s)
	}
	nonBlank := regexp.MustCompile(NonBlankPattern)
	f.Fuzz(func(t *testing.T, s string) {
		if IsBlank(s) == nonBlank.MatchString(s) {
			t.Errorf("IsBlank(%q) = %v, and the pattern agrees it has a non-blank character", s, IsBlank(s))
		}
	})
}

func TestWhiteSpaceIsUnicodeWhiteSpace(t *testing.T) {
	// The spelled-out set must be exactly what unicode.IsSpace calls space.
	set := map[rune]bool{}
	for _, r := range WhiteSpaceRunes() {
		set[r] = true
	}
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if unicode.IsSpace(r) != set[r] {
			t.Errorf("U+%04X: unicode.IsSpace %v, in the set %v", r, unicode.IsSpace(r), set[r])
		}
	}
}

func TestParseTimestampAddsTheCalendar(t *testing.T) {
	for s, ok := range map[string]bool{
		"2024-02-29T09:30:00+08:00": true, "2025-02-29T09:30:00+08:00": false, "2025-04-31T00:00:00Z": false,
		"2025-03-01T09:30:00.123456789123Z": true, "2025-03-01": false,
	} {
		if _, err := ParseTimestamp(s); (err == nil) != ok {
			t.Errorf("ParseTimestamp(%q): err %v, want ok=%v", s, err, ok)
		}
	}
	for s, ok := range map[string]bool{"2025-04-01": true, "2025-02-30": false, "2025-04-01T00:00:00+08:00": true, "2025/04/01": false} {
		if _, err := ParseDate(s); (err == nil) != ok {
			t.Errorf("ParseDate(%q): err %v, want ok=%v", s, err, ok)
		}
	}
}
