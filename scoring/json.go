package scoring

import (
	"strconv"
	"unicode/utf8"

	"github.com/qcredit/qcredit/model"
)

// AppendReasonsJSON appends the reasons as a JSON array, the same document
// encoding/json would give (field order and omitempty included) but without
// reflection: a score run encodes millions of reasons, and this is several
// times faster. Strings are escaped as JSON requires; non-ASCII text stays
// UTF-8 (invalid bytes become U+FFFD, as with encoding/json).
func AppendReasonsJSON(b []byte, rs []model.Reason) []byte {
	b = append(b, '[')
	for i, r := range rs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"rule":`...)
		b = appendString(b, r.Rule)
		b = append(b, `,"points":`...)
		b = r.Points.AppendText(b)
		if r.Count != 0 {
			b = append(b, `,"count":`...)
			b = strconv.AppendInt(b, r.Count, 10)
		}
		if len(r.Events) > 0 {
			b = append(b, `,"events":[`...)
			for j, id := range r.Events {
				if j > 0 {
					b = append(b, ',')
				}
				b = appendString(b, id)
			}
			b = append(b, ']')
		}
		b = append(b, `,"basis":`...)
		b = appendString(b, r.Basis)
		if len(r.Windows) > 0 {
			b = append(b, `,"windows":[`...)
			for j, n := range r.Windows {
				if j > 0 {
					b = append(b, ',')
				}
				b = strconv.AppendInt(b, n, 10)
			}
			b = append(b, ']')
		}
		if r.Detail != "" {
			b = append(b, `,"detail":`...)
			b = appendString(b, r.Detail)
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

const hexDigits = "0123456789abcdef"

// appendString escapes like encoding/json with HTML escaping on.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
