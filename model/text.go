package model

import (
	"errors"
	"strings"
	"time"
)

// The shapes of contract v1's times and dates, as regular expressions: the
// JSON Schema publishes them as patterns, and ParseTimestamp and ParseDate
// check exactly these shapes (a test holds them to the expressions) before
// time.Parse adds the calendar (no 30 February). The shape is RFC 3339's with
// an upper-case T and Z, seconds 00–59 (Go has no leap seconds), an optional
// fraction after a dot and an offset of at most ±23:59.
const (
	DatePattern      = `^` + datePart + `$`
	TimestampPattern = `^` + datePart + timePart + `$`
	// DateOrTimestampPattern is a data date: YYYY-MM-DD or a whole timestamp.
	DateOrTimestampPattern = `^` + datePart + `(` + timePart + `)?$`

	datePart = `[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])`
	timePart = `T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])`
)

var errShape = errors.New("wrong shape")

// ParseTimestamp reads an RFC 3339 time of the shape TimestampPattern.
func ParseTimestamp(s string) (time.Time, error) {
	if !isTimestamp(s) {
		return time.Time{}, errShape
	}
	return time.Parse(time.RFC3339, s)
}

// ParseDate reads YYYY-MM-DD (midnight UTC) or an RFC 3339 time, of the
// shape DateOrTimestampPattern.
func ParseDate(s string) (time.Time, error) {
	if len(s) == 10 && isDate(s) {
		return time.Parse(time.DateOnly, s)
	}
	return ParseTimestamp(s)
}

// isDate checks datePart: YYYY-MM-DD with a month 01–12 and a day 01–31.
func isDate(s string) bool {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' || !digits(s[:4]) || !digits(s[5:7]) || !digits(s[8:10]) {
		return false
	}
	m, d := num2(s[5:7]), num2(s[8:10])
	return m >= 1 && m <= 12 && d >= 1 && d <= 31
}

// isTimestamp checks TimestampPattern byte by byte: decoding runs it twice
// per event, where a regular expression would cost a microsecond each time.
func isTimestamp(s string) bool {
	if len(s) < 20 || !isDate(s[:10]) || s[10] != 'T' || !isClock(s[11:19]) {
		return false
	}
	rest := s[19:]
	if rest[0] == '.' {
		n := 1
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n == 1 {
			return false
		}
		rest = rest[n:]
	}
	switch {
	case rest == "Z":
		return true
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		h, m := rest[1:3], rest[4:6]
		return digits(h) && digits(m) && num2(h) <= 23 && num2(m) <= 59
	}
	return false
}

// isClock checks hh:mm:ss with hh 00–23, mm and ss 00–59.
func isClock(s string) bool {
	if len(s) != 8 || s[2] != ':' || s[5] != ':' {
		return false
	}
	h, m, sec := s[0:2], s[3:5], s[6:8]
	return digits(h) && digits(m) && digits(sec) && num2(h) <= 23 && num2(m) <= 59 && num2(sec) <= 59
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// num2 is the value of two ASCII digits.
func num2(s string) int { return int(s[0]-'0')*10 + int(s[1]-'0') }

// whiteSpace is every character Unicode calls white space (the set of
// unicode.IsSpace), spelled out so that the JSON Schema's pattern names the
// same set whatever regular-expression engine reads it: a name of three
// full-width spaces (U+3000) is as blank as "".
const whiteSpace = "\t\n\v\f\r \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"

// NonBlankPattern matches a string with at least one character that is not
// white space.
const NonBlankPattern = "[^\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"

// WhiteSpaceRunes are the characters of NonBlankPattern's class; the schema
// writes them as JSON escapes so the document stays readable.
func WhiteSpaceRunes() []rune { return []rune(whiteSpace) }

// IsBlank reports whether s is empty or white space only.
func IsBlank(s string) bool { return strings.Trim(s, whiteSpace) == "" }
