package model

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// ParseListEntry reads an entry's JSON (its canonical form, or any JSON
// object with its fields; unknown fields are skipped). It gives what
// encoding/json.Unmarshal gives, by hand: the read model and the lists job
// read 100,000 entries at a time, and reflection cost most of that.
func ParseListEntry(b []byte) (ListEntry, error) {
	p := jsonParser{b: b}
	var e ListEntry
	err := p.entry(&e)
	if err == nil {
		err = p.end()
	}
	return e, err
}

// ParseListChange reads a change's JSON, as ParseListEntry an entry's.
func ParseListChange(b []byte) (ListChange, error) {
	p := jsonParser{b: b}
	var c ListChange
	err := p.object(func(key string) error {
		var err error
		switch key {
		case "entry":
			return p.entry(&c.Entry)
		case "key":
			c.Key, err = p.str()
		case "op":
			var s string
			s, err = p.str()
			c.Op = ListOp(s)
		case "uscc":
			var s string
			s, err = p.str()
			c.USCC = USCC(s)
		default:
			err = p.skip()
		}
		return err
	})
	if err == nil {
		err = p.end()
	}
	return c, err
}

// jsonParser reads the little JSON the list types are made of.
type jsonParser struct {
	b []byte
	i int
}

var errSyntax = errors.New("list JSON: syntax error")

func (p *jsonParser) fail(what string) error {
	return fmt.Errorf("%w at byte %d: %s", errSyntax, p.i, what)
}

func (p *jsonParser) ws() {
	for p.i < len(p.b) && (p.b[p.i] == ' ' || p.b[p.i] == '\n' || p.b[p.i] == '\t' || p.b[p.i] == '\r') {
		p.i++
	}
}

func (p *jsonParser) end() error {
	p.ws()
	if p.i != len(p.b) {
		return p.fail("text after the value")
	}
	return nil
}

// peek is the next non-space byte (0 at the end).
func (p *jsonParser) peek() byte {
	p.ws()
	if p.i == len(p.b) {
		return 0
	}
	return p.b[p.i]
}

func (p *jsonParser) literal(lit string) bool {
	if p.peek() != lit[0] || len(p.b)-p.i < len(lit) || string(p.b[p.i:p.i+len(lit)]) != lit {
		return false
	}
	p.i += len(lit)
	return true
}

// object calls field for each key, with the parser at its value.
func (p *jsonParser) object(field func(key string) error) error {
	if p.literal("null") {
		return nil
	}
	if p.peek() != '{' {
		return p.fail("want an object")
	}
	p.i++
	if p.peek() == '}' {
		p.i++
		return nil
	}
	for {
		key, err := p.str()
		if err != nil {
			return err
		}
		if p.peek() != ':' {
			return p.fail("want a colon")
		}
		p.i++
		if err := field(key); err != nil {
			return err
		}
		switch p.peek() {
		case ',':
			p.i++
		case '}':
			p.i++
			return nil
		default:
			return p.fail("want a comma or the object's end")
		}
	}
}

func (p *jsonParser) entry(e *ListEntry) error {
	return p.object(func(key string) error {
		if key == "dates_estimated" {
			switch {
			case p.literal("true"):
				e.DatesEstimated = true
			case p.literal("false"), p.literal("null"):
			default:
				return p.fail("dates_estimated must be true or false")
			}
			return nil
		}
		var err error
		switch key {
		case "events":
			e.Events, err = p.strs()
			return err
		case "measures":
			e.Measures, err = p.strs()
			return err
		}
		dst := entryField(e, key)
		if dst == nil {
			return p.skip()
		}
		if p.literal("null") {
			return nil
		}
		*dst, err = p.str()
		return err
	})
}

// entryField is the string field of e that key names, or nil.
func entryField(e *ListEntry, key string) *string {
	switch key {
	case "authority":
		return &e.Authority
	case "authority_code":
		return &e.AuthorityCode
	case "basis":
		return &e.Basis
	case "expires_at":
		return &e.ExpiresAt
	case "key":
		return &e.Key
	case "list":
		return (*string)(&e.List)
	case "listed_at":
		return &e.ListedAt
	case "name":
		return &e.Name
	case "notice_ends":
		return &e.NoticeEnds
	case "reason":
		return &e.Reason
	case "removed_at":
		return &e.RemovedAt
	case "removed_by":
		return &e.RemovedBy
	case "removed_by_code":
		return &e.RemovedByCode
	case "removed_reason":
		return (*string)(&e.RemovedReason)
	case "repair_possible_from":
		return &e.RepairPossibleFrom
	case "rule":
		return &e.Rule
	case "state":
		return (*string)(&e.State)
	case "triggered_at":
		return &e.TriggeredAt
	case "uscc":
		return (*string)(&e.USCC)
	}
	return nil
}

// strs reads an array of strings; null is nil, [] an empty slice.
func (p *jsonParser) strs() ([]string, error) {
	if p.literal("null") {
		return nil, nil
	}
	if p.peek() != '[' {
		return nil, p.fail("want an array of strings")
	}
	p.i++
	out := []string{}
	if p.peek() == ']' {
		p.i++
		return out, nil
	}
	for {
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
		switch p.peek() {
		case ',':
			p.i++
		case ']':
			p.i++
			return out, nil
		default:
			return nil, p.fail("want a comma or the array's end")
		}
	}
}

// str reads a string, decoding escapes as encoding/json does (a lone
// surrogate or invalid UTF-8 becomes U+FFFD).
func (p *jsonParser) str() (string, error) {
	if p.peek() != '"' {
		return "", p.fail("want a string")
	}
	p.i++
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		if c == '"' {
			s := p.b[start:p.i]
			p.i++
			if utf8.Valid(s) {
				return string(s), nil
			}
			return string([]rune(string(s))), nil // invalid bytes become U+FFFD, as encoding/json does
		}
		if c == '\\' {
			return p.escaped(start)
		}
		if c < 0x20 {
			return "", p.fail("a control character in a string")
		}
		p.i++
	}
	return "", p.fail("an unterminated string")
}

// escaped finishes a string that has escapes, from start (after its quote).
func (p *jsonParser) escaped(start int) (string, error) {
	out := append([]byte(nil), p.b[start:p.i]...)
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			if !utf8.Valid(out) {
				return string([]rune(string(out))), nil
			}
			return string(out), nil
		case c < 0x20:
			return "", p.fail("a control character in a string")
		case c != '\\':
			out = append(out, c)
			p.i++
			continue
		}
		if p.i+1 >= len(p.b) {
			return "", p.fail("an unterminated escape")
		}
		e := p.b[p.i+1]
		p.i += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", p.fail("a bad \\u escape")
			}
			if utf16.IsSurrogate(r) {
				r2 := utf8.RuneError
				if save := p.i; p.i+1 < len(p.b) && p.b[p.i] == '\\' && p.b[p.i+1] == 'u' {
					p.i += 2
					if lo, ok := p.hex4(); ok && utf16.DecodeRune(r, lo) != utf8.RuneError {
						r2 = utf16.DecodeRune(r, lo)
					} else {
						p.i = save
					}
				}
				r = r2
			}
			out = utf8.AppendRune(out, r)
		default:
			return "", p.fail("an unknown escape")
		}
	}
	return "", p.fail("an unterminated string")
}

func (p *jsonParser) hex4() (rune, bool) {
	if p.i+4 > len(p.b) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(p.b[p.i:p.i+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	p.i += 4
	return rune(n), true
}

// skip passes over any value (a field the types do not have).
func (p *jsonParser) skip() error {
	switch c := p.peek(); {
	case c == '"':
		_, err := p.str()
		return err
	case c == '{':
		return p.object(func(string) error { return p.skip() })
	case c == '[':
		p.i++
		if p.peek() == ']' {
			p.i++
			return nil
		}
		for {
			if err := p.skip(); err != nil {
				return err
			}
			switch p.peek() {
			case ',':
				p.i++
			case ']':
				p.i++
				return nil
			default:
				return p.fail("want a comma or the array's end")
			}
		}
	case p.literal("true"), p.literal("false"), p.literal("null"):
		return nil
	case c == '-' || (c >= '0' && c <= '9'):
		start := p.i
		for p.i < len(p.b) && (p.b[p.i] == '-' || p.b[p.i] == '+' || p.b[p.i] == '.' || p.b[p.i] == 'e' || p.b[p.i] == 'E' ||
			(p.b[p.i] >= '0' && p.b[p.i] <= '9')) {
			p.i++
		}
		if _, err := strconv.ParseFloat(string(p.b[start:p.i]), 64); err != nil {
			return p.fail("a bad number")
		}
		return nil
	}
	return p.fail("want a value")
}
