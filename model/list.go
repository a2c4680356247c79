package model

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"time"
)

// List names one published list.
type List string

const (
	ListDishonest List = "dishonest" // 严重违法失信名单, the serious dishonest list
	ListFocus     List = "focus"     // 重点监管名单, the focus-supervision list
)

// Lists are every list, in the order outputs and responses give them.
var Lists = []List{ListDishonest, ListFocus}

// Valid reports whether l is one of Lists.
func (l List) Valid() bool { return slices.Contains(Lists, l) }

// ListState is where an entry is in its life as of a lists run's as_of day.
type ListState string

const (
	ListStatePending   ListState = "pending"    // 拟列入: in the notice period
	ListStateListed    ListState = "listed"     // 列入: published to partners
	ListStateRemoved   ListState = "removed"    // 移出: was listed, no longer
	ListStateNotListed ListState = "not_listed" // ended in the notice period: objection upheld or penalty revoked
)

// Removal says why an entry left its list (移出原因), or never reached it.
type Removal string

const (
	RemovalExpired         Removal = "expired"          // the listing period ended
	RemovalRepaired        Removal = "repaired"         // credit repair (信用修复) once repair was possible
	RemovalWithdrawn       Removal = "withdrawn"        // the penalty it rests on was revoked, or an objection upheld after listing
	RemovalObjectionUpheld Removal = "objection_upheld" // the firm's statement (陈述申辩) was upheld in the notice period
	RemovalRegraded        Removal = "regraded"         // focus list: no longer graded C or D
)

// ListEntry is one listing of one firm. The same type is a lists run's
// output (every state, for analysts and the credit file), a published
// snapshot's row (state listed) and the entry of a change (a remove
// carries the removal). Dates are YYYY-MM-DD, days in Asia/Shanghai.
//
// Its canonical form (AppendCanonical) is what manifests hash: compact
// JSON, object keys sorted, UTF-8 unescaped, as encoding/json writes this
// struct (its fields are declared in the order of their JSON names), except
// that measures is always an array.
type ListEntry struct {
	Authority     string `json:"authority"`      // 作出决定机关
	AuthorityCode string `json:"authority_code"` // its GB/T 2260 code
	Basis         string `json:"basis"`          // the rule it rests on
	// DatesEstimated is true when the notice count went past the working-day
	// calendar's data (Monday to Friday assumed there).
	DatesEstimated     bool      `json:"dates_estimated,omitempty"`
	Events             []string  `json:"events,omitempty"`     // source event ids, ascending
	ExpiresAt          string    `json:"expires_at,omitempty"` // first day no longer listed
	Key                string    `json:"key"`
	List               List      `json:"list"`
	ListedAt           string    `json:"listed_at"` // 列入日期, the first day listed
	Measures           []string  `json:"measures"`  // ids of the measures it triggers (联合惩戒措施)
	Name               string    `json:"name"`
	NoticeEnds         string    `json:"notice_ends,omitempty"` // last day of the notice period
	Reason             string    `json:"reason"`                // 列入原因
	RemovedAt          string    `json:"removed_at,omitempty"`  // 移出日期
	RemovedBy          string    `json:"removed_by,omitempty"`  // 移出机关
	RemovedByCode      string    `json:"removed_by_code,omitempty"`
	RemovedReason      Removal   `json:"removed_reason,omitempty"` // 移出原因
	RepairPossibleFrom string    `json:"repair_possible_from,omitempty"`
	Rule               string    `json:"rule"`
	State              ListState `json:"state"`
	TriggeredAt        string    `json:"triggered_at,omitempty"` // the day the rule was met
	USCC               USCC      `json:"uscc"`
}

// ListedOn reports whether the entry, by its own dates, is on its list on
// the day (YYYY-MM-DD). A published entry's expiry counts even when no
// later version has removed it yet: the partner was told when it ends.
func (e *ListEntry) ListedOn(day string) bool {
	if e.State != ListStateListed && e.State != ListStateRemoved {
		return false
	}
	end := e.RemovedAt
	if end == "" {
		end = e.ExpiresAt
	}
	return e.ListedAt != "" && e.ListedAt <= day && (end == "" || day < end)
}

// AppendCanonical appends the entry's canonical line (see ListEntry) and LF.
// It is written out by hand because a 100,000-entry snapshot is encoded
// whole for every manifest; TestCanonicalIsEncodingJSON keeps it equal to
// encoding/json.
func (e *ListEntry) AppendCanonical(dst []byte) []byte {
	return append(e.appendJSON(dst), '\n')
}

// AppendJSON appends the entry's canonical JSON object, without the LF.
func (e *ListEntry) AppendJSON(b []byte) []byte { return e.appendJSON(b) }

func (e *ListEntry) appendJSON(b []byte) []byte {
	b = append(b, `{"authority":`...)
	b = AppendJSONString(b, e.Authority, false)
	b = append(b, `,"authority_code":`...)
	b = AppendJSONString(b, e.AuthorityCode, false)
	b = append(b, `,"basis":`...)
	b = AppendJSONString(b, e.Basis, false)
	if e.DatesEstimated {
		b = append(b, `,"dates_estimated":true`...)
	}
	if len(e.Events) > 0 {
		b = append(b, `,"events":`...)
		b = appendJSONStrings(b, e.Events)
	}
	b = appendOptional(b, `,"expires_at":`, e.ExpiresAt)
	b = append(b, `,"key":`...)
	b = AppendJSONString(b, e.Key, false)
	b = append(b, `,"list":`...)
	b = AppendJSONString(b, string(e.List), false)
	b = append(b, `,"listed_at":`...)
	b = AppendJSONString(b, e.ListedAt, false)
	b = append(b, `,"measures":`...)
	b = appendJSONStrings(b, e.Measures)
	b = append(b, `,"name":`...)
	b = AppendJSONString(b, e.Name, false)
	b = appendOptional(b, `,"notice_ends":`, e.NoticeEnds)
	b = append(b, `,"reason":`...)
	b = AppendJSONString(b, e.Reason, false)
	b = appendOptional(b, `,"removed_at":`, e.RemovedAt)
	b = appendOptional(b, `,"removed_by":`, e.RemovedBy)
	b = appendOptional(b, `,"removed_by_code":`, e.RemovedByCode)
	b = appendOptional(b, `,"removed_reason":`, string(e.RemovedReason))
	b = appendOptional(b, `,"repair_possible_from":`, e.RepairPossibleFrom)
	b = append(b, `,"rule":`...)
	b = AppendJSONString(b, e.Rule, false)
	b = append(b, `,"state":`...)
	b = AppendJSONString(b, string(e.State), false)
	b = appendOptional(b, `,"triggered_at":`, e.TriggeredAt)
	b = append(b, `,"uscc":`...)
	b = AppendJSONString(b, string(e.USCC), false)
	return append(b, '}')
}

func appendOptional(b []byte, name, v string) []byte {
	if v == "" {
		return b
	}
	return AppendJSONString(append(b, name...), v, false)
}

func appendJSONStrings(b []byte, vs []string) []byte {
	b = append(b, '[')
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendJSONString(b, v, false)
	}
	return append(b, ']')
}

// CompareListEntries orders entries by key, the order of snapshots and changes.
func CompareListEntries(a, b ListEntry) int { return strings.Compare(a.Key, b.Key) }

// ListManifest lets a partner prove its copy of a version: the entry count
// and the SHA-256 (lowercase hex) of the canonical snapshot — the entries'
// canonical lines sorted by key, each ending with LF — whatever format the
// entries were served in.
type ListManifest struct {
	Count  int    `json:"count"`
	SHA256 string `json:"sha256"`
}

// NewListManifest is the manifest of a snapshot (sorted by key when it is not).
func NewListManifest(entries []ListEntry) ListManifest {
	if !slices.IsSortedFunc(entries, CompareListEntries) {
		entries = slices.Clone(entries)
		slices.SortFunc(entries, CompareListEntries)
	}
	h := sha256.New()
	var line []byte
	for i := range entries {
		line = entries[i].AppendCanonical(line[:0])
		h.Write(line)
	}
	return ListManifest{Count: len(entries), SHA256: hex.EncodeToString(h.Sum(nil))}
}

// ListOp is what one change does to a snapshot.
type ListOp string

const (
	ListOpAdd    ListOp = "add"
	ListOpRemove ListOp = "remove" // the entry carries its removal (移出原因, 移出日期, 移出机关)
	ListOpModify ListOp = "modify" // the entry is the new one, under the same key
)

// ListChange is one step from one version's snapshot towards another's.
// Fields are declared in the order of their JSON names.
type ListChange struct {
	Entry ListEntry `json:"entry"`
	Key   string    `json:"key"`
	Op    ListOp    `json:"op"`
	USCC  USCC      `json:"uscc"`
}

// AppendCanonical appends the change as one compact JSON line (keys
// sorted) and LF.
func (c *ListChange) AppendCanonical(dst []byte) []byte {
	dst = append(dst, `{"entry":`...)
	dst = c.Entry.appendJSON(dst)
	dst = append(dst, `,"key":`...)
	dst = AppendJSONString(dst, c.Key, false)
	dst = append(dst, `,"op":`...)
	dst = AppendJSONString(dst, string(c.Op), false)
	dst = append(dst, `,"uscc":`...)
	dst = AppendJSONString(dst, string(c.USCC), false)
	return append(dst, '}', '\n')
}

// ListMeasure is one restriction a listing triggers (联合惩戒措施).
type ListMeasure struct {
	Name   string `json:"name"`
	NameEN string `json:"name_en"`
	Basis  string `json:"basis"`
}

// ListVersion is one published version of a list: the list's own number
// (1, 2, …; a run that changes nothing publishes none), when it was
// published, the as_of and rules of the run that published it, and the
// manifest of its snapshot.
type ListVersion struct {
	List         List         `json:"list"`
	Number       int64        `json:"version"`
	PublishedAt  time.Time    `json:"published_at,omitzero"` // the finish of the run that published it
	AsOf         string       `json:"as_of"`
	RulesVersion string       `json:"rules_version"`
	Manifest     ListManifest `json:"manifest"`
	// Measures name the measures its entries refer to by id.
	Measures map[string]ListMeasure `json:"measures,omitempty"`
}

// The lists job's run outputs. Every key starts with a kind prefix, so one
// prefix reads one kind of output; within a kind, keys follow the list and
// the entry key.
const (
	// ListKeyChange: c/<list>/<entry key>, a change of the version the run
	// published; label the op, payload the ListChange.
	ListKeyChange = "c/"
	// ListKeyEntry: e/<list>/<entry key>, an entry as of the run (dishonest:
	// every state; focus: listed ones, removals being changes); label the
	// state, payload the ListEntry.
	ListKeyEntry = "e/"
	// ListKeyReview: r/<uscc>/<n>, a record the rules could not settle
	// alone; payload the review.
	ListKeyReview = "r/"
	// ListKeyVersion: v/<list>, the version the run published; value its
	// number, payload the ListVersion (published_at is the run's finish).
	ListKeyVersion = "v/"
)

// ListOutputKey is the output key of kind (a ListKey prefix) for the list
// and an entry key ("" for a version).
func ListOutputKey(kind string, l List, key string) string {
	if key == "" {
		return kind + string(l)
	}
	return kind + string(l) + "/" + key
}

// ListCountVersion names the lists run count holding the list's version in
// force after the run (0: none yet), and ListCountPublished the count that
// is 1 when the run published that version.
func ListCountVersion(l List) string   { return "version_" + string(l) }
func ListCountPublished(l List) string { return "published_" + string(l) }
