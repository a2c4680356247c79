package model

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// JSONKind is the JSON type of a data value.
type JSONKind int

const (
	JSONNull JSONKind = iota
	JSONString
	JSONNumber
	JSONBool
	JSONArray
	JSONObject
)

// DataField is one member of an event's data object, already parsed by
// whoever read the JSON (ingest parses once per event; see ParseData for the
// plain encoding/json path).
type DataField struct {
	Name    string
	Kind    JSONKind
	Text    string   // for JSONString
	Number  float64  // for JSONNumber
	Bool    bool     // for JSONBool
	Strings []string // for a JSONArray whose items are all strings
	// StringsOnly reports that a JSONArray held only strings.
	StringsOnly bool
	// Raw is the value as compact JSON; canonical data is built from it.
	Raw []byte
}

// ParseData parses a data object with encoding/json. It is the simple path
// for callers outside ingest (tests, the simulator); ingest has a faster one.
func ParseData(raw json.RawMessage) ([]DataField, error) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 {
		return nil, nil
	}
	if bytes.Equal(t, []byte("null")) {
		return nil, invalid(DeadLetterInvalidField, "data", "is null: give an object or leave the field out")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(t, &m); err != nil {
		return nil, invalid(DeadLetterInvalidField, "data", "must be a JSON object")
	}
	fields := make([]DataField, 0, len(m))
	for k, v := range m {
		var c bytes.Buffer
		if err := json.Compact(&c, v); err != nil {
			return nil, invalid(DeadLetterInvalidField, "data."+k, "is not valid JSON")
		}
		f := DataField{Name: k, Raw: c.Bytes()}
		switch c.Bytes()[0] {
		case 'n':
			f.Kind = JSONNull
		case '"':
			f.Kind = JSONString
			json.Unmarshal(v, &f.Text)
		case 't', 'f':
			f.Kind, f.Bool = JSONBool, c.Bytes()[0] == 't'
		case '[':
			f.Kind = JSONArray
			f.StringsOnly = json.Unmarshal(v, &f.Strings) == nil
		case '{':
			f.Kind = JSONObject
		default:
			f.Kind = JSONNumber
			f.Number, _ = strconv.ParseFloat(c.String(), 64)
		}
		fields = append(fields, f)
	}
	return fields, nil
}

// canonicalData renders fields, sorted by name, as one compact JSON object,
// so the same data hashes the same whatever its key order or spacing.
func canonicalData(fields []DataField) []byte {
	n := 2
	for _, f := range fields {
		n += len(f.Name) + len(f.Raw) + 4
	}
	out := make([]byte, 0, n)
	out = append(out, '{')
	for i, f := range fields {
		if i > 0 {
			out = append(out, ',')
		}
		out = appendJSONKey(out, f.Name)
		out = append(out, ':')
		out = append(out, f.Raw...)
	}
	return append(out, '}')
}

func appendJSONKey(dst []byte, key string) []byte {
	for i := 0; i < len(key); i++ {
		if c := key[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			b, _ := json.Marshal(key)
			return append(dst, b...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, key...)
	return append(dst, '"')
}
