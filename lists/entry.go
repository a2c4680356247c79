package lists

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/qcredit/qcredit/model"
)

// DishonestKey is the stable key of a serious-list entry: the USCC, the
// rule and the first case it rests on. It does not change while the entry
// lives, so a changed entry is one modify, never a delete and an add.
func DishonestKey(uscc model.USCC, rule, ref string) string {
	return string(uscc) + ":" + rule + ":" + ref
}

// FocusKey is the key of a focus-list entry: a firm is on it at most once.
func FocusKey(uscc model.USCC) string { return string(uscc) }

// canonicalWriter writes a review's line (compact JSON, keys sorted by
// field order, no HTML escaping), reusing its buffer.
type canonicalWriter struct {
	buf bytes.Buffer
	enc *json.Encoder
}

// line is v's canonical line, valid until the next call.
func (w *canonicalWriter) line(v any) ([]byte, error) {
	if w.enc == nil {
		w.enc = json.NewEncoder(&w.buf)
		w.enc.SetEscapeHTML(false)
	}
	w.buf.Reset()
	if err := w.enc.Encode(v); err != nil { // Encode ends the line with LF
		return nil, fmt.Errorf("encode %T: %w", v, err)
	}
	return w.buf.Bytes(), nil
}

// AppendReview appends the review's line: compact JSON, keys sorted, LF.
func AppendReview(dst []byte, r *Review) ([]byte, error) {
	var w canonicalWriter
	line, err := w.line(r)
	return append(dst, line...), err
}

// ReviewKind says why a record needs an analyst's look.
type ReviewKind string

const (
	// ReviewEarlyRepair: a credit.repaired names a listing before its repair
	// was possible; it removes nothing.
	ReviewEarlyRepair ReviewKind = "early_repair"
	// ReviewObjectionUndecided: the notice period ended with an objection
	// still undecided; the firm was listed.
	ReviewObjectionUndecided ReviewKind = "objection_undecided"
	// ReviewObjectionUnmatched: an objection or its decision names no
	// listing of the firm.
	ReviewObjectionUnmatched ReviewKind = "objection_unmatched"
)

// Review is a record the rules could not settle alone, with the event that
// raised it. Fields are in the order of their JSON names.
type Review struct {
	Detail string     `json:"detail"`
	Event  string     `json:"event"`
	Key    string     `json:"key,omitempty"`
	Kind   ReviewKind `json:"kind"`
	USCC   model.USCC `json:"uscc"`
}

// CompareReviews orders reviews by firm, key, kind and event.
func CompareReviews(a, b Review) int {
	return cmp.Or(strings.Compare(string(a.USCC), string(b.USCC)), strings.Compare(a.Key, b.Key),
		strings.Compare(string(a.Kind), string(b.Kind)), strings.Compare(a.Event, b.Event))
}

// dateLayout is how entries write days.
const dateLayout = time.DateOnly
