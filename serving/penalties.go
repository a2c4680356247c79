package serving

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// PenaltyPeriods are how long an administrative penalty is published
// (行政处罚信息公示期), in months from its decision, by the contract's
// severity. The defaults are the maxima of the NDRC credit-repair draft
// (2025) that DOMAIN.md cites: minor 3 months, general 1 year, serious
// 3 years ("publication stops at the maximum"); lists/default.yaml uses
// the same classes for listings.
type PenaltyPeriods struct {
	Light, General, Heavy int
}

// DefaultPenaltyPeriods are the NDRC draft's maxima.
var DefaultPenaltyPeriods = PenaltyPeriods{Light: 3, General: 12, Heavy: 36}

func (p PenaltyPeriods) withDefaults() PenaltyPeriods {
	d := DefaultPenaltyPeriods
	return PenaltyPeriods{Light: cmpOr(p.Light, d.Light), General: cmpOr(p.General, d.General), Heavy: cmpOr(p.Heavy, d.Heavy)}
}

func cmpOr(a, b int) int {
	if a > 0 {
		return a
	}
	return b
}

// months is the period of a severity; 0 for one outside the contract.
func (p PenaltyPeriods) months(severity string) int {
	switch severity {
	case "light":
		return p.Light
	case "general":
		return p.General
	case "heavy":
		return p.Heavy
	}
	return 0
}

// PenaltySource streams stored events of some types ingested after a time
// (both backends: EventsOfTypes).
type PenaltySource interface {
	EventsOfTypes(ctx context.Context, types []model.EventType, after time.Time, fn func(warehouse.IngestedEvent) error) error
}

// penaltyTypes are the events that decide what of a penalty is published.
var penaltyTypes = []model.EventType{model.EventPenaltyDecided, model.EventPenaltyRevoked,
	model.EventCreditRepaired, model.EventRetracted}

// Penalty is the public record (公示信息) of one administrative penalty:
// no event id, no inspector, no complainant.
type Penalty struct {
	DecidedOn string // YYYY-MM-DD, +08:00
	// DecisionNo is the decision's number (行政处罚决定书文号, the
	// contract's case_no), published by law with the decision.
	DecisionNo string
	Authority  string // the deciding bureau's GB/T 2260 code (the event's source)
	Violation  string // the contract's violation enum
	Severity   string // light, general, heavy
	FineYuan   *float64
	// PublishedUntil is the first day it is no longer published.
	PublishedUntil string
}

// PublishedOn reports whether the penalty is published on day (YYYY-MM-DD).
func (p Penalty) PublishedOn(day string) bool { return p.DecidedOn <= day && day < p.PublishedUntil }

// penaltyRow is one penalty in the index: 48 bytes, its number in the arena.
type penaltyRow struct {
	uscc      [usccLen]byte
	severity  uint8
	violation uint8 // index in violationEnum + 1; 0 for an unknown one
	caseLen   uint16
	caseOff   uint32
	decided   int32 // days since 1970-01-01 (+08:00)
	until     int32
	authority uint32  // the GB/T 2260 code as a number
	fine      float64 // NaN: none given
}

// penaltyIndex holds the penalties in publication, sorted by (USCC,
// decided, decision number): pointer-free, a few tens of bytes each.
type penaltyIndex struct {
	rows  []penaltyRow // by USCC, then decision
	arena []byte
	index usccIndex // a USCC's first row
	// cursor is the greatest ingested_at read; seen the ids read in the
	// overlap before it (a ClickHouse replica may commit below it late).
	cursor time.Time
	seen   map[string]time.Time
}

// penaltyOverlap is re-read at each refresh (see complaintOverlap in api).
const penaltyOverlap = time.Minute

var (
	violationEnum = contractEnum(model.EventPenaltyDecided, "violation")
	severityEnum  = contractEnum(model.EventPenaltyDecided, "severity")
)

func contractEnum(t model.EventType, field string) []string {
	for _, f := range model.EventSpecs[t].Fields {
		if f.Name == field {
			return f.Enum
		}
	}
	return nil
}

// penaltyEvent is the data of the penalty types this index reads.
type penaltyEvent struct {
	CaseNo    string   `json:"case_no"`
	Violation string   `json:"violation"`
	Severity  string   `json:"severity"`
	FineYuan  *float64 `json:"fine_yuan"`
	EventID   string   `json:"event_id"`
}

// loadPenalties reads every penalty event and keeps the penalties still in
// publication on today: decided, not revoked, not repaired (credit repair
// ends publication), none of those events retracted.
func loadPenalties(ctx context.Context, src PenaltySource, periods PenaltyPeriods, today string) (*penaltyIndex, error) {
	type decided struct {
		id string
		e  model.Event
		d  penaltyEvent
	}
	var penalties []decided
	ended := map[string][]string{} // uscc + case_no → ids of the revocations and repairs
	retracted := map[string]bool{}
	idx := &penaltyIndex{seen: map[string]time.Time{}}
	err := src.EventsOfTypes(ctx, penaltyTypes, time.Time{}, func(e warehouse.IngestedEvent) error {
		idx.note(e)
		var d penaltyEvent
		if json.Unmarshal(e.Data, &d) != nil {
			return nil // stored events passed the contract; nothing to show of one that did not
		}
		switch e.Type {
		case model.EventPenaltyDecided:
			penalties = append(penalties, decided{id: e.ID, e: e.Event, d: d})
		case model.EventPenaltyRevoked, model.EventCreditRepaired:
			k := string(e.USCC) + "\n" + d.CaseNo
			ended[k] = append(ended[k], e.ID)
		case model.EventRetracted:
			retracted[d.EventID] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read model: penalties: %w", err)
	}
	for _, p := range penalties {
		if retracted[p.id] || len(p.e.USCC) != usccLen || slices.ContainsFunc(ended[string(p.e.USCC)+"\n"+p.d.CaseNo],
			func(id string) bool { return !retracted[id] }) {
			continue
		}
		idx.add(p.e, p.d, periods, today)
	}
	slices.SortFunc(idx.rows, func(a, b penaltyRow) int {
		if c := strings.Compare(string(a.uscc[:]), string(b.uscc[:])); c != 0 {
			return c
		}
		if a.decided != b.decided {
			return int(a.decided - b.decided)
		}
		return strings.Compare(idx.caseNo(a), idx.caseNo(b))
	})
	idx.rows = slices.Clip(idx.rows)
	idx.index = newUSCCIndex(len(idx.rows), idx.key)
	idx.prune()
	return idx, nil
}

// note advances the cursor over e.
func (x *penaltyIndex) note(e warehouse.IngestedEvent) {
	if e.IngestedAt.After(x.cursor) {
		x.cursor = e.IngestedAt
	}
	x.seen[e.ID] = e.IngestedAt
}

// prune forgets the ids read before the overlap.
func (x *penaltyIndex) prune() {
	maps.DeleteFunc(x.seen, func(_ string, at time.Time) bool { return at.Before(x.cursor.Add(-penaltyOverlap)) })
}

// add keeps the penalty when it is in publication on or after today.
func (x *penaltyIndex) add(e model.Event, d penaltyEvent, periods PenaltyPeriods, today string) {
	months := periods.months(d.Severity)
	day := e.OccurredAt.In(model.Shanghai)
	decidedOn := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC)
	until := decidedOn.AddDate(0, months, 0)
	if months == 0 || until.Format(time.DateOnly) <= today || len(d.CaseNo) > math.MaxUint16 {
		return
	}
	r := penaltyRow{decided: int32(decidedOn.Unix() / 86400), until: int32(until.Unix() / 86400),
		severity: uint8(slices.Index(severityEnum, d.Severity)), violation: uint8(slices.Index(violationEnum, d.Violation) + 1),
		caseOff: uint32(len(x.arena)), caseLen: uint16(len(d.CaseNo))}
	copy(r.uscc[:], e.USCC)
	if code, err := strconv.ParseUint(e.Source, 10, 32); err == nil {
		r.authority = uint32(code)
	}
	r.fine = math.NaN()
	if d.FineYuan != nil {
		r.fine = *d.FineYuan
	}
	x.arena = append(x.arena, d.CaseNo...)
	x.rows = append(x.rows, r)
}

func (x *penaltyIndex) caseNo(r penaltyRow) string {
	return string(x.arena[r.caseOff : r.caseOff+uint32(r.caseLen)])
}

// of is uscc's penalties in decision order.
func (x *penaltyIndex) of(uscc model.USCC) []Penalty {
	if x == nil || len(uscc) != usccLen {
		return nil
	}
	i := x.index.find(string(uscc), x.key)
	if i < 0 {
		return nil
	}
	var out []Penalty
	for ; i < len(x.rows) && string(x.rows[i].uscc[:]) == string(uscc); i++ {
		r := x.rows[i]
		p := Penalty{DecidedOn: dayString(r.decided), PublishedUntil: dayString(r.until), DecisionNo: x.caseNo(r),
			Authority: fmt.Sprintf("%06d", r.authority), Severity: severityEnum[r.severity]}
		if r.violation > 0 {
			p.Violation = violationEnum[r.violation-1]
		}
		if !math.IsNaN(r.fine) {
			f := r.fine
			p.FineYuan = &f
		}
		out = append(out, p)
	}
	return out
}

func (x *penaltyIndex) key(i int) []byte { return x.rows[i].uscc[:] }

func dayString(days int32) string {
	return time.Unix(int64(days)*86400, 0).UTC().Format(time.DateOnly)
}

func (x *penaltyIndex) bytes() int64 {
	if x == nil {
		return 0
	}
	return int64(cap(x.rows)*int(unsafe.Sizeof(penaltyRow{})) + cap(x.arena) + x.index.bytes())
}

// changedSince reports whether penalty events were ingested after the
// index was read (the overlap re-read, ids already seen skipped).
func (x *penaltyIndex) changedSince(ctx context.Context, src PenaltySource) (bool, error) {
	if x == nil {
		return true, nil
	}
	changed := false
	err := src.EventsOfTypes(ctx, penaltyTypes, x.cursor.Add(-penaltyOverlap), func(e warehouse.IngestedEvent) error {
		_, seen := x.seen[e.ID]
		changed = changed || !seen
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("read model: penalties: %w", err)
	}
	return changed, nil
}
