package simulate

import "bytes"

// envelope overrides what a line says about its event; the zero value of a
// field keeps the event's own. Bad lines and conflicts are made this way.
type envelope struct {
	id    eventID
	typ   string
	uscc  string
	shift int64  // seconds added to occurred_at
	omit  string // a top-level field left out, or "data" for the first data field
}

// appendEvent writes one v1 event as a JSON line (without the newline).
func (p *Plan) appendEvent(b []byte, e *event, env envelope) []byte {
	typ, uscc := string(e.typ), p.firms[e.firm].uscc
	if env.typ != "" {
		typ = env.typ
	}
	if env.uscc != "" {
		uscc = env.uscc
	}
	o := newObject(b)
	o.key("id")
	o.b = append(o.b, '"')
	o.b = env.id.append(o.b)
	o.b = append(o.b, '"')
	o.str("type", typ)
	if env.omit != "uscc" {
		o.str("uscc", uscc)
	}
	if env.omit != "source" {
		o.str("source", sourceCode(e.src))
	}
	at := e.at + env.shift
	if env.omit != "occurred_at" {
		o.key("occurred_at")
		o.b = append(o.b, '"')
		o.b = p.cal.appendTime(o.b, at)
		o.b = append(o.b, '"')
	}
	if e.rep > 0 {
		o.key("reported_at")
		o.b = append(o.b, '"')
		o.b = p.cal.appendTime(o.b, at+int64(e.rep))
		o.b = append(o.b, '"')
	}
	data := e.data
	if env.omit == "data" {
		data = dropFirstField(data)
	}
	o.raw("data", data)
	return o.end()
}

// dropFirstField removes the first field of an encoded data object. The
// simulator writes a type's leading required field first, always a string
// without escapes, so the value ends at the first `",`.
func dropFirstField(data []byte) []byte {
	i := bytes.Index(data, []byte(`",`))
	if i < 0 {
		return []byte("{}")
	}
	return append([]byte{'{'}, data[i+2:]...)
}
