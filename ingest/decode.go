// Package ingest turns raw input from every source (files, Kafka, HTTP) into
// warehouse batches through one decode-and-validate path, and sends whatever
// it refuses to the dead letters with the reason and where it came from.
package ingest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/valyala/fastjson"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// Decoder decodes and validates one v1 event. Its zero value applies the
// strict USCC policy, the default future tolerance and the real clock.
type Decoder struct {
	Policy model.USCCPolicy
	// FutureTolerance is how far after now an occurred_at may lie: clocks
	// differ by minutes, a mistyped year by decades. 0 means
	// DefaultFutureTolerance.
	FutureTolerance time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// DefaultFutureTolerance is the default of ingest.future_tolerance.
const DefaultFutureTolerance = 24 * time.Hour

func (d Decoder) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// Decode returns the item, or the dead letter that says why raw was refused.
// Exactly one of them is set.
func (d Decoder) Decode(raw []byte, origin model.Origin) (warehouse.Item, *model.DeadLetter) {
	now := d.now()
	rec, err := d.decode(raw, now)
	if err != nil {
		var ve *model.ValidationError
		if !errors.As(err, &ve) {
			ve = &model.ValidationError{Reason: model.DeadLetterMalformedJSON, Detail: err.Error()}
		}
		return warehouse.Item{}, &model.DeadLetter{Origin: origin, Reason: ve.Reason, Detail: ve.Error(), Raw: raw,
			EventID: rec.ID, Source: rec.Source, Received: now}
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

// envelopeFields are the top-level fields of contract v1, in the order the
// README lists them. Any other top-level field is refused rather than
// dropped: data is where extra facts go.
var envelopeFields = [...]string{"id", "type", "uscc", "source", "occurred_at", "reported_at", "data"}

const (
	fieldID = iota
	fieldType
	fieldUSCC
	fieldSource
	fieldOccurredAt
	fieldReportedAt
	fieldData
)

func envelopeField(key []byte) int {
	for i, f := range envelopeFields {
		if string(key) == f {
			return i
		}
	}
	return -1
}

// decode returns the record, or an error and a record that holds the id and
// source when they could be read, for the dead letter.
func (d Decoder) decode(raw []byte, now time.Time) (model.Record, error) {
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
	var seen uint8
	obj, _ := v.Object()
	obj.Visit(func(key []byte, v *fastjson.Value) {
		k := envelopeField(key)
		// id and source are read even after an error: the dead letter names them.
		if (k == fieldID || k == fieldSource) && v.Type() == fastjson.TypeString {
			if k == fieldID {
				e.ID = string(v.GetStringBytes())
			} else {
				e.Source = string(v.GetStringBytes())
			}
		}
		if ferr != nil {
			return
		}
		if k < 0 {
			ferr = &model.ValidationError{Reason: model.DeadLetterUnknownField, Field: string(key),
				Detail: "is not a field of contract v1 (" + strings.Join(envelopeFields[:], ", ") + "); put other facts in data"}
			return
		}
		// fastjson keeps repeated keys; a reader that took the first and one
		// that took the last would see different events.
		if seen&(1<<k) != 0 {
			ferr = &model.ValidationError{Reason: model.DeadLetterInvalidField, Field: string(key), Detail: "appears more than once"}
			return
		}
		seen |= 1 << k
		switch k {
		case fieldID, fieldSource:
			ferr = mustBeString(key, v)
		case fieldType:
			var t string
			t, ferr = envelopeLabel(key, v)
			e.Type = model.EventType(t)
		case fieldUSCC:
			if ferr = mustBeString(key, v); ferr == nil {
				e.USCC = model.USCC(v.GetStringBytes())
			}
		case fieldOccurredAt:
			e.OccurredAt, ferr = envelopeTime(key, v)
		case fieldReportedAt:
			var t time.Time
			if t, ferr = envelopeTime(key, v); ferr == nil {
				e.ReportedAt = &t
			}
		case fieldData:
			fields, ferr = st.dataFields(v, len(raw))
		}
	})
	if ferr != nil {
		return partial(e), ferr
	}
	rec, err := d.Policy.ValidateFields(e, fields)
	if err != nil {
		return partial(e), err
	}
	if err := d.checkNotFuture(rec.OccurredAt, now); err != nil {
		return partial(e), err
	}
	return rec, nil
}

// checkNotFuture refuses an occurred_at beyond the tolerance: a fact dated
// 2099 would otherwise count in every run, and its grade would be the public one.
func (d Decoder) checkNotFuture(at, now time.Time) error {
	tol := d.FutureTolerance
	if tol <= 0 {
		tol = DefaultFutureTolerance
	}
	if !at.After(now.Add(tol)) {
		return nil
	}
	return &model.ValidationError{Reason: model.DeadLetterInvalidField, Field: "occurred_at",
		Detail: fmt.Sprintf("%s is more than %s in the future (received %s): check the date, or the sender's clock",
			at.Format(time.RFC3339), tol, now.In(model.Shanghai).Format(time.RFC3339))}
}

// mustBeString refuses every JSON value but a string, null included.
func mustBeString(key []byte, v *fastjson.Value) error {
	switch v.Type() {
	case fastjson.TypeString:
		return nil
	case fastjson.TypeNull:
		return &model.ValidationError{Reason: model.DeadLetterInvalidField, Field: string(key), Detail: "is null: give a string or leave the field out"}
	}
	return &model.ValidationError{Reason: model.DeadLetterInvalidField, Field: string(key), Detail: "must be a JSON string"}
}

// envelopeLabel reads a string from a small known set (the event type)
// without a copy.
func envelopeLabel(key []byte, v *fastjson.Value) (string, error) {
	if err := mustBeString(key, v); err != nil {
		return "", err
	}
	return label(v.GetStringBytes()), nil
}

// envelopeTime reads an RFC 3339 time.
func envelopeTime(key []byte, v *fastjson.Value) (time.Time, error) {
	if err := mustBeString(key, v); err != nil {
		return time.Time{}, err
	}
	b := v.GetStringBytes()
	// The parser's bytes are only read here, not kept: no copy is needed.
	t, err := model.ParseTimestamp(unsafe.String(unsafe.SliceData(b), len(b)))
	if err != nil {
		return time.Time{}, &model.ValidationError{Reason: model.DeadLetterInvalidField, Field: string(key),
			Detail: fmt.Sprintf("%q is not an RFC 3339 time such as 2025-03-01T09:30:00+08:00", string(b))}
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
	case fastjson.TypeObject:
	case fastjson.TypeNull:
		return nil, &model.ValidationError{Reason: model.DeadLetterInvalidField, Field: "data", Detail: "is null: give an object or leave the field out"}
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

// partial carries the id and source of refused input to its dead letter.
func partial(e model.Event) model.Record {
	var r model.Record
	r.ID, r.Source = e.ID, e.Source
	return r
}
