// Package ingest turns raw input from every source (files, Kafka, HTTP) into
// warehouse batches through one decode-and-validate path, and sends whatever
// it refuses to the dead letters with the reason and where it came from.
package ingest

import (
	"errors"
	"fmt"
	"sync"
	"time"
	"unsafe"

	"github.com/valyala/fastjson"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// Decoder decodes and validates one v1 event. Its zero value applies the
// strict USCC policy.
type Decoder struct {
	Policy model.USCCPolicy
}

// Decode returns the item, or the dead letter that says why raw was refused.
// Exactly one of them is set.
func (d Decoder) Decode(raw []byte, origin model.Origin) (warehouse.Item, *model.DeadLetter) {
	rec, err := d.decode(raw)
	if err != nil {
		var ve *model.ValidationError
		if !errors.As(err, &ve) {
			ve = &model.ValidationError{Reason: model.DeadLetterMalformedJSON, Detail: err.Error()}
		}
		return warehouse.Item{}, &model.DeadLetter{
			Origin: origin, Reason: ve.Reason, Detail: ve.Error(), Raw: raw, EventID: rec.ID, Received: time.Now(),
		}
	}
	return warehouse.Item{Record: rec, Origin: origin, Raw: raw}, nil
}

// decodeState is what decoding one event needs and need not keep: fastjson
// parses each event once without reflection, and the data fields live only
// until validation has built the canonical data. States are reused across
// calls, which keeps decoding well ahead of the warehouse.
type decodeState struct {
	parser fastjson.Parser
	fields []model.DataField
	raw    []byte // the fields' raw JSON, one after another
}

var decodeStates = sync.Pool{New: func() any { return new(decodeState) }}

func (d Decoder) decode(raw []byte) (model.Record, error) {
	st := decodeStates.Get().(*decodeState)
	defer decodeStates.Put(st)
	v, err := st.parser.ParseBytes(raw)
	if err != nil {
		return model.Record{}, fmt.Errorf("broken JSON: %w", err)
	}
	if v.Type() != fastjson.TypeObject {
		return model.Record{}, fmt.Errorf("not a JSON object")
	}
	var e model.Event
	var fields []model.DataField
	var ferr error
	obj, _ := v.Object()
	obj.Visit(func(key []byte, v *fastjson.Value) {
		if ferr != nil {
			return
		}
		switch string(key) {
		case "id":
			e.ID, ferr = envelopeString(key, v)
		case "type":
			var t string
			t, ferr = envelopeLabel(key, v)
			e.Type = model.EventType(t)
		case "uscc":
			var u string
			u, ferr = envelopeString(key, v)
			e.USCC = model.USCC(u)
		case "source":
			e.Source, ferr = envelopeString(key, v)
		case "occurred_at":
			e.OccurredAt, ferr = envelopeTime(key, v)
		case "reported_at":
			var t time.Time
			if t, ferr = envelopeTime(key, v); ferr == nil && !t.IsZero() {
				e.ReportedAt = &t
			}
		case "data":
			fields, ferr = st.dataFields(v, len(raw))
		}
	})
	if ferr != nil {
		return idOnly(e.ID), ferr
	}
	rec, err := d.Policy.ValidateFields(e, fields)
	if err != nil {
		return idOnly(e.ID), err
	}
	return rec, nil
}

func envelopeString(key []byte, v *fastjson.Value) (string, error) {
	switch v.Type() {
	case fastjson.TypeString:
		return string(v.GetStringBytes()), nil
	case fastjson.TypeNull:
		return "", nil
	}
	return "", &model.ValidationError{Reason: model.DeadLetterInvalidField, Field: string(key), Detail: "must be a JSON string"}
}

// envelopeLabel is envelopeString for values from a small known set (the
// event type): those come back without a copy.
func envelopeLabel(key []byte, v *fastjson.Value) (string, error) {
	if v.Type() == fastjson.TypeString {
		return label(v.GetStringBytes()), nil
	}
	return envelopeString(key, v)
}

func envelopeTime(key []byte, v *fastjson.Value) (time.Time, error) {
	switch v.Type() {
	case fastjson.TypeNull:
		return time.Time{}, nil
	case fastjson.TypeString:
	default:
		return time.Time{}, &model.ValidationError{Reason: model.DeadLetterInvalidField, Field: string(key), Detail: "must be a JSON string"}
	}
	b := v.GetStringBytes()
	if len(b) == 0 {
		return time.Time{}, nil
	}
	// The parser's bytes are only read here, not kept: no copy is needed.
	t, err := time.Parse(time.RFC3339, unsafe.String(unsafe.SliceData(b), len(b)))
	if err != nil {
		return time.Time{}, &model.ValidationError{Reason: model.DeadLetterInvalidField, Field: string(key),
			Detail: fmt.Sprintf("%q is not an RFC 3339 time", string(b))}
	}
	return t, nil
}

// labels are the strings the contract itself names: event types, data field
// names and enum values. Decoding maps input onto them instead of copying
// the same few words for every event.
var labels = func() map[string]string {
	m := map[string]string{}
	for t, spec := range model.EventSpecs {
		m[string(t)] = string(t)
		for _, f := range spec.Fields {
			m[f.Name] = f.Name
			for _, v := range f.Enum {
				m[v] = v
			}
		}
	}
	return m
}()

// label returns the contract's own copy of b, or a new string.
func label(b []byte) string {
	if s, ok := labels[string(b)]; ok { // the lookup does not allocate
		return s
	}
	return string(b)
}

// dataFields turns the data object into the model's parsed fields, in st's
// memory: valid until st is used again. The fields' raw JSON shares one
// buffer, grown beforehand to the size of the whole event (rawLen).
func (st *decodeState) dataFields(v *fastjson.Value, rawLen int) ([]model.DataField, error) {
	switch v.Type() {
	case fastjson.TypeNull:
		return nil, nil
	case fastjson.TypeObject:
	default:
		return nil, &model.ValidationError{Reason: model.DeadLetterInvalidField, Field: "data", Detail: "must be a JSON object"}
	}
	obj, _ := v.Object()
	fields := st.fields[:0]
	if cap(st.raw) < rawLen {
		st.raw = make([]byte, 0, 2*rawLen)
	}
	buf := st.raw[:0]
	obj.Visit(func(key []byte, v *fastjson.Value) {
		start := len(buf)
		buf = v.MarshalTo(buf)
		f := model.DataField{Name: label(key), Raw: buf[start:len(buf):len(buf)]}
		switch v.Type() {
		case fastjson.TypeString:
			f.Kind, f.Text = model.JSONString, label(v.GetStringBytes())
		case fastjson.TypeNumber:
			f.Kind, f.Number = model.JSONNumber, v.GetFloat64()
		case fastjson.TypeTrue, fastjson.TypeFalse:
			f.Kind, f.Bool = model.JSONBool, v.GetBool()
		case fastjson.TypeArray:
			f.Kind, f.StringsOnly = model.JSONArray, true
			for _, item := range v.GetArray() {
				if item.Type() != fastjson.TypeString {
					f.StringsOnly = false
					break
				}
				f.Strings = append(f.Strings, string(item.GetStringBytes()))
			}
		case fastjson.TypeObject:
			f.Kind = model.JSONObject
		default:
			f.Kind = model.JSONNull
		}
		fields = append(fields, f)
	})
	st.fields, st.raw = fields, buf
	return fields, nil
}

// idOnly carries the event id of refused input, so its dead letter names it.
func idOnly(id string) model.Record {
	var r model.Record
	r.ID = id
	return r
}
