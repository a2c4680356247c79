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

// List names one published list.
type List string

const (
	ListDishonest List = "dishonest" // 严重违法失信名单, the serious dishonest list
	ListFocus     List = "focus"     // 重点监管名单, the focus-supervision list
)

// State is where an entry is in its life as of a run's as_of day.
type State string

const (
	StatePending   State = "pending"    // 拟列入: in the notice period
	StateListed    State = "listed"     // 列入: published to partners
	StateRemoved   State = "removed"    // 移出: was listed, no longer
	StateNotListed State = "not_listed" // ended in the notice period: objection upheld or penalty revoked
)

// Removal says why an entry left the list (移出原因), or never reached it.
type Removal string

const (
	RemovalExpired         Removal = "expired"          // the listing period ended
	RemovalRepaired        Removal = "repaired"         // credit repair (信用修复) once repair was possible
	RemovalWithdrawn       Removal = "withdrawn"        // the penalty it rests on was revoked, or an objection upheld after listing
	RemovalObjectionUpheld Removal = "objection_upheld" // the firm's statement (陈述申辩) was upheld in the notice period
	RemovalRegraded        Removal = "regraded"         // focus list: no longer graded C or D
)

// Entry is one listing of one firm. The same type is a run's output (every
// state, for analysts and the credit file), a published snapshot's row
// (state listed) and the entry of a change (a remove carries the removal).
//
// The fields are declared in the order of their JSON names, and hold only
// strings, string lists and a boolean, so encoding/json writes the
// canonical form (keys sorted) directly; TestEntryJSONKeysAreSorted keeps
// it so. Dates are YYYY-MM-DD, days in Asia/Shanghai.
type Entry struct {
	Authority     string `json:"authority"`      // 作出决定机关
	AuthorityCode string `json:"authority_code"` // its GB/T 2260 code
	Basis         string `json:"basis"`
	// DatesEstimated is true when the notice count went past the working-day
	// calendar's data (Monday to Friday assumed there).
	DatesEstimated     bool       `json:"dates_estimated,omitempty"`
	Events             []string   `json:"events,omitempty"`     // source event ids, ascending
	ExpiresAt          string     `json:"expires_at,omitempty"` // first day no longer listed
	Key                string     `json:"key"`
	List               List       `json:"list"`
	ListedAt           string     `json:"listed_at"` // 列入日期, the first day listed
	Measures           []string   `json:"measures"`
	Name               string     `json:"name"`
	NoticeEnds         string     `json:"notice_ends,omitempty"` // last day of the notice period
	Reason             string     `json:"reason"`                // 列入原因
	RemovedAt          string     `json:"removed_at,omitempty"`  // 移出日期
	RemovedBy          string     `json:"removed_by,omitempty"`  // 移出机关
	RemovedByCode      string     `json:"removed_by_code,omitempty"`
	RemovedReason      Removal    `json:"removed_reason,omitempty"` // 移出原因
	RepairPossibleFrom string     `json:"repair_possible_from,omitempty"`
	Rule               string     `json:"rule"`
	State              State      `json:"state"`
	TriggeredAt        string     `json:"triggered_at,omitempty"` // the day the rule was met
	USCC               model.USCC `json:"uscc"`
}

// DishonestKey is the stable key of a serious-list entry: the USCC, the
// rule and the first case it rests on. It does not change while the entry
// lives, so a changed entry is one modify, never a delete and an add.
func DishonestKey(uscc model.USCC, rule, ref string) string {
	return string(uscc) + ":" + rule + ":" + ref
}

// FocusKey is the key of a focus-list entry: a firm is on it at most once.
func FocusKey(uscc model.USCC) string { return string(uscc) }

// ListedOn reports whether the entry, by its own dates, is on its list on
// the day (YYYY-MM-DD). A published entry's expiry counts even when no
// later version has removed it yet: the partner was told when it ends.
func (e *Entry) ListedOn(day string) bool {
	if e.State != StateListed && e.State != StateRemoved {
		return false
	}
	end := e.RemovedAt
	if end == "" {
		end = e.ExpiresAt
	}
	return e.ListedAt <= day && (end == "" || day < end)
}

// AppendCanonical appends the entry's canonical line: compact JSON, keys
// sorted, UTF-8 unescaped (no HTML escaping), then LF. Manifests, change
// detection and run digests all hash these bytes.
func AppendCanonical(dst []byte, e *Entry) ([]byte, error) {
	var w canonicalWriter
	line, err := w.line(e)
	return append(dst, line...), err
}

// canonicalWriter writes canonical lines one after another, reusing its
// buffer: a 100,000-entry manifest writes 100,000 lines.
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

// compareKeys orders entries by key, the order of snapshots and changes.
func compareKeys(a, b Entry) int { return strings.Compare(a.Key, b.Key) }

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
// raised it.
type Review struct {
	Detail string     `json:"detail"`
	Event  string     `json:"event"`
	Key    string     `json:"key,omitempty"`
	Kind   ReviewKind `json:"kind"`
	USCC   model.USCC `json:"uscc"`
}

// compareReviews orders reviews by firm, key, kind and event.
func compareReviews(a, b Review) int {
	return cmp.Or(strings.Compare(string(a.USCC), string(b.USCC)), strings.Compare(a.Key, b.Key),
		strings.Compare(string(a.Kind), string(b.Kind)), strings.Compare(a.Event, b.Event))
}

// dateLayout is how entries write days.
const dateLayout = time.DateOnly
