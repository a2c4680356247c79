package lists

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/qcredit/qcredit/model"
)

// Status is a firm's standing on the dishonest list at the end of an as_of
// day: every entry it has had, in any state, and what needs review.
type Status struct {
	USCC    model.USCC
	AsOf    string
	Entries []model.ListEntry // by key
	Reviews []Review
}

// Listed reports whether the firm is on the dishonest list: it grades D.
func (s *Status) Listed() bool {
	for i := range s.Entries {
		if s.Entries[i].State == model.ListStateListed {
			return true
		}
	}
	return false
}

// ScoreReasons are the reasons a score gives for grade D, one per listed
// entry (0 points: the listing decides the grade, not the points).
func (s *Status) ScoreReasons() []model.Reason {
	var out []model.Reason
	for i := range s.Entries {
		e := &s.Entries[i]
		if e.State != model.ListStateListed {
			continue
		}
		out = append(out, model.Reason{Rule: e.Rule, Count: int64(len(e.Events)), Events: slices.Clone(e.Events),
			Basis: e.Basis, Detail: "严重违法失信名单 " + e.Key + "：" + e.Reason})
	}
	return out
}

// Evaluate decides the firm's dishonest-list entries as of the end of the
// as_of day (Asia/Shanghai); records after it are ignored, so a run is a
// function of its records and as_of. The score job and the lists job both
// call it: a listed firm grades D, and both agree on repair and withdrawal.
//
// A firm that meets a rule is pending for the notice period, then listed
// until expiry; it leaves early when the penalty is revoked (withdrawn),
// when it is repaired once repair is possible, or when an objection is
// upheld (in the notice period: never listed).
func (r *Rules) Evaluate(rec FirmRecords, asOf time.Time) (Status, error) {
	if rec.empty() || !r.mayMeet(&rec) {
		return Status{USCC: rec.USCC, AsOf: dayOf(asOf).Format(dateLayout)}, nil // most firms: nothing to list, nothing to allocate
	}
	return r.evaluate(rec, asOf)
}

// evaluate is Evaluate without its shortcut.
func (r *Rules) evaluate(rec FirmRecords, asOf time.Time) (Status, error) {
	ev := evaluation{rules: r, asOf: dayOf(asOf)}
	st := Status{USCC: rec.USCC, AsOf: ev.asOf.Format(dateLayout)}
	if err := rec.Validate(); err != nil {
		return st, fmt.Errorf("evaluate %s: %w", rec.USCC, err)
	}
	ev.rec = ev.upToAsOf(&rec)
	ev.indexRevocations()
	lives := ev.lives()
	for _, l := range lives {
		e, reviews := ev.entry(l)
		st.Entries = append(st.Entries, e)
		st.Reviews = append(st.Reviews, reviews...)
	}
	slices.SortFunc(st.Entries, model.CompareListEntries)
	st.Reviews = append(st.Reviews, ev.unmatchedObjections(st.Entries)...)
	slices.SortFunc(st.Reviews, CompareReviews)
	return st, nil
}

// mayMeet reports whether the records could meet any rule, or raise a
// review, before dates and revocations are looked at: most firms with a
// penalty meet no rule, and a score run evaluates a million firms, so only
// those that might are evaluated in full. It errs on the side of yes.
func (r *Rules) mayMeet(rec *FirmRecords) bool {
	if len(rec.Objections) > 0 || len(rec.ObjectionDecisions) > 0 {
		return true // an objection naming no entry is a review
	}
	for i := range r.Dishonest.Rules {
		rule := &r.Dishonest.Rules[i]
		switch rule.Kind {
		case TriggerPenalty:
			if slices.ContainsFunc(rec.Penalties, func(p Penalty) bool { return in(rule.Severities, p.Severity) && in(rule.Violations, p.Violation) }) {
				return true
			}
		case TriggerLicenceRevoked:
			if slices.ContainsFunc(rec.LicenceRevocations, func(l LicenceRevocation) bool { return in(rule.LicenceReasons, l.Reason) }) {
				return true
			}
		case TriggerAccident:
			if slices.ContainsFunc(rec.Accidents, func(a Accident) bool { return in(rule.AccidentGrades, a.Grade) }) {
				return true
			}
		case TriggerRepeatPenalty:
			if repeats(rule, rec.Penalties) {
				return true
			}
		}
	}
	return false
}

// repeats reports whether at least rule.Min penalties the rule counts share
// a violation, whenever they were decided.
func repeats(rule *SeriousRule, ps []Penalty) bool {
	for i, p := range ps {
		if !in(rule.Severities, p.Severity) || !in(rule.Violations, p.Violation) {
			continue
		}
		n := 1
		for _, q := range ps[i+1:] {
			if q.Violation == p.Violation && in(rule.Severities, q.Severity) {
				n++
			}
		}
		if n >= rule.Min {
			return true
		}
	}
	return false
}

// dayOf is t's calendar day in Asia/Shanghai, at midnight there.
func dayOf(t time.Time) time.Time {
	y, m, d := t.In(model.Shanghai).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, model.Shanghai)
}

// chineseDate writes a day the way a 列入原因 does: 2024年3月5日.
func chineseDate(d time.Time) string {
	return strconv.Itoa(d.Year()) + "年" + strconv.Itoa(int(d.Month())) + "月" + strconv.Itoa(d.Day()) + "日"
}

type evaluation struct {
	rules *Rules
	asOf  time.Time
	rec   *FirmRecords
	// revokedOn is the earliest revocation of each case number.
	revokedOn map[string]PenaltyRevocation
	// cuts are the distinct revocation days, ascending: the days on which
	// what the rules see can change.
	cuts []time.Time
}

// upToAsOf is a copy of the records without those after the as_of day.
func (ev *evaluation) upToAsOf(rec *FirmRecords) *FirmRecords {
	upTo := func(s Source) bool { return !dayOf(s.At).After(ev.asOf) }
	return &FirmRecords{
		USCC:               rec.USCC,
		Name:               rec.Name,
		Penalties:          keep(rec.Penalties, func(p Penalty) bool { return upTo(p.Source) }),
		PenaltyRevocations: keep(rec.PenaltyRevocations, func(p PenaltyRevocation) bool { return upTo(p.Source) }),
		LicenceRevocations: keep(rec.LicenceRevocations, func(l LicenceRevocation) bool { return upTo(l.Source) }),
		Accidents:          keep(rec.Accidents, func(a Accident) bool { return upTo(a.Source) }),
		Repairs:            keep(rec.Repairs, func(r Repair) bool { return upTo(r.Source) }),
		Objections:         keep(rec.Objections, func(o Objection) bool { return upTo(o.Source) }),
		ObjectionDecisions: keep(rec.ObjectionDecisions, func(d ObjectionDecision) bool { return upTo(d.Source) }),
	}
}

func keep[T any](xs []T, ok func(T) bool) []T {
	var out []T
	for _, x := range xs {
		if ok(x) {
			out = append(out, x)
		}
	}
	return out
}

func (ev *evaluation) indexRevocations() {
	ev.revokedOn = map[string]PenaltyRevocation{}
	for _, rv := range ev.rec.PenaltyRevocations {
		if old, ok := ev.revokedOn[rv.CaseNo]; !ok || rv.At.Before(old.At) {
			ev.revokedOn[rv.CaseNo] = rv
		}
		ev.cuts = append(ev.cuts, dayOf(rv.At))
	}
	slices.SortFunc(ev.cuts, func(a, b time.Time) int { return a.Compare(b) })
	ev.cuts = slices.CompactFunc(ev.cuts, func(a, b time.Time) bool { return a.Equal(b) })
}

// life is one entry key over the revocation cuts: when its rule was first
// met, its latest trigger, and the day it stopped being met.
type life struct {
	on        time.Time
	last      trigger
	withdrawn *PenaltyRevocation // the revocation that ended it
	cut       time.Time          // the day it ended
}

// lives finds every entry key. Revoking a penalty removes it from the
// records the rules see from the revocation's day on: the triggers are
// found again after each revocation day, and a key that disappears was
// withdrawn that day. A key that appears only after a revocation (the
// same violation repeated, counted without the revoked case) is met from
// that day, not retroactively.
func (ev *evaluation) lives() []*life {
	byKey := map[string]*life{}
	var order []*life
	lastSeen := map[string]int{}
	for k := 0; k <= len(ev.cuts); k++ {
		var cut time.Time
		if k > 0 {
			cut = ev.cuts[k-1]
		}
		for _, t := range ev.triggers(cut) {
			l, ok := byKey[t.key]
			if !ok {
				on := t.on
				if k > 0 && on.Before(cut) {
					on = cut
				}
				l = &life{on: on}
				byKey[t.key] = l
				order = append(order, l)
			}
			l.last = t
			lastSeen[t.key] = k
		}
	}
	var out []*life
	for _, l := range order {
		if k := lastSeen[l.last.key]; k < len(ev.cuts) {
			l.cut = ev.cuts[k]
			if l.cut.Before(l.on) {
				continue // revoked before the rule was ever met
			}
			l.withdrawn = ev.revocationOf(l.last.refs, l.cut)
		}
		out = append(out, l)
	}
	return out
}

// revocationOf is the revocation on day cut that names one of refs; any
// revocation of that day when none does (the key fell away with another
// case).
func (ev *evaluation) revocationOf(refs []string, cut time.Time) *PenaltyRevocation {
	var fallback *PenaltyRevocation
	for i := range ev.rec.PenaltyRevocations {
		rv := &ev.rec.PenaltyRevocations[i]
		if !dayOf(rv.At).Equal(cut) {
			continue
		}
		if slices.Contains(refs, rv.CaseNo) {
			return rv
		}
		if fallback == nil || rv.EventID < fallback.EventID {
			fallback = rv
		}
	}
	return fallback
}

// trigger is one rule met by the records: the future entry's content.
type trigger struct {
	rule   *SeriousRule
	key    string
	on     time.Time // the day the rule was met
	refs   []string  // every case, licence or accident number it rests on
	events []string
	bureau string   // the deciding bureau (作出决定机关)
	fields []string // reason placeholders and values, in pairs
}

// excluded reports whether the case was revoked on or before cut (the zero
// cut excludes nothing).
func (ev *evaluation) excluded(ref string, cut time.Time) bool {
	rv, ok := ev.revokedOn[ref]
	return ok && !cut.IsZero() && !dayOf(rv.At).After(cut)
}

// triggers finds every rule the records meet once the cases revoked by cut
// are left out. Records that make the same key (a resent decision under a
// new event id) merge into one trigger.
func (ev *evaluation) triggers(cut time.Time) []trigger {
	var out []trigger
	for i := range ev.rules.Dishonest.Rules {
		rule := &ev.rules.Dishonest.Rules[i]
		switch rule.Kind {
		case TriggerPenalty:
			out = ev.penaltyTriggers(out, rule, cut)
		case TriggerLicenceRevoked:
			out = ev.licenceTriggers(out, rule, cut)
		case TriggerAccident:
			out = ev.accidentTriggers(out, rule)
		case TriggerRepeatPenalty:
			out = ev.repeatTriggers(out, rule, cut)
		}
	}
	return mergeTriggers(out)
}

func in(list []string, v string) bool { return len(list) == 0 || slices.Contains(list, v) }

func (ev *evaluation) penaltyTriggers(out []trigger, rule *SeriousRule, cut time.Time) []trigger {
	lb := &ev.rules.Labels
	for _, p := range ev.rec.Penalties {
		if !in(rule.Severities, p.Severity) || !in(rule.Violations, p.Violation) || ev.excluded(p.CaseNo, cut) {
			continue
		}
		on := dayOf(p.At)
		out = append(out, trigger{rule: rule, key: DishonestKey(ev.rec.USCC, rule.ID, p.CaseNo), on: on,
			refs: []string{p.CaseNo}, events: []string{p.EventID}, bureau: p.Bureau,
			fields: []string{"date", chineseDate(on), "authority", ev.rules.authority(p.Bureau), "case_no", p.CaseNo,
				"violation", lb.Violations[p.Violation], "severity", lb.Severities[p.Severity]}})
	}
	return out
}

// licenceTriggers keys a revoked licence by its licence number (a licence
// is revoked once; the decision number is optional). A penalty.revoked
// naming either number annuls it.
func (ev *evaluation) licenceTriggers(out []trigger, rule *SeriousRule, cut time.Time) []trigger {
	for _, l := range ev.rec.LicenceRevocations {
		refs := []string{l.LicenceNo}
		if l.DecisionNo != "" {
			refs = append(refs, l.DecisionNo)
		}
		if !in(rule.LicenceReasons, l.Reason) || slices.ContainsFunc(refs, func(ref string) bool { return ev.excluded(ref, cut) }) {
			continue
		}
		on := dayOf(l.At)
		out = append(out, trigger{rule: rule, key: DishonestKey(ev.rec.USCC, rule.ID, l.LicenceNo), on: on,
			refs: refs, events: []string{l.EventID}, bureau: l.Bureau,
			fields: []string{"date", chineseDate(on), "authority", ev.rules.authority(l.Bureau), "licence_no", l.LicenceNo,
				"decision_no", cmp.Or(l.DecisionNo, l.LicenceNo), "licence_reason", ev.rules.Labels.LicenceReasons[l.Reason]}})
	}
	return out
}

// accidentTriggers: an accident is a fact, not a decision, so no
// revocation annuls it; its deciding bureau is the one that reported it.
func (ev *evaluation) accidentTriggers(out []trigger, rule *SeriousRule) []trigger {
	for _, a := range ev.rec.Accidents {
		if !in(rule.AccidentGrades, a.Grade) {
			continue
		}
		on := dayOf(a.At)
		out = append(out, trigger{rule: rule, key: DishonestKey(ev.rec.USCC, rule.ID, a.AccidentID), on: on,
			refs: []string{a.AccidentID}, events: []string{a.EventID}, bureau: a.Bureau,
			fields: []string{"date", chineseDate(on), "authority", ev.rules.authority(a.Bureau), "accident_id", a.AccidentID,
				"grade", ev.rules.Labels.AccidentGrades[a.Grade]}})
	}
	return out
}

// repeatTriggers: each penalty that is the Min-th of its violation within
// WithinMonths (counting back to the first of them) is a repetition, met
// on its own decision day and keyed by that first case. Every repetition
// is its own entry, as every heavy penalty is; a repaired penalty still
// counts (repair ends publication, not the record of the violation).
func (ev *evaluation) repeatTriggers(out []trigger, rule *SeriousRule, cut time.Time) []trigger {
	byViolation := map[string][]Penalty{}
	for _, p := range ev.rec.Penalties {
		if in(rule.Severities, p.Severity) && in(rule.Violations, p.Violation) && !ev.excluded(p.CaseNo, cut) {
			byViolation[p.Violation] = append(byViolation[p.Violation], p)
		}
	}
	violations := make([]string, 0, len(byViolation))
	for v := range byViolation {
		violations = append(violations, v)
	}
	slices.Sort(violations)
	for _, v := range violations {
		ps := byViolation[v]
		slices.SortFunc(ps, func(a, b Penalty) int {
			return cmp.Or(dayOf(a.At).Compare(dayOf(b.At)), strings.Compare(a.CaseNo, b.CaseNo), strings.Compare(a.EventID, b.EventID))
		})
		for i := rule.Min - 1; i < len(ps); i++ {
			run := ps[i-rule.Min+1 : i+1]
			first, last := dayOf(run[0].At), dayOf(ps[i].At)
			if last.After(first.AddDate(0, rule.WithinMonths, 0)) {
				continue
			}
			out = append(out, ev.repeatTrigger(rule, run))
		}
	}
	return out
}

func (ev *evaluation) repeatTrigger(rule *SeriousRule, run []Penalty) trigger {
	last := run[len(run)-1]
	on := dayOf(last.At)
	t := trigger{rule: rule, key: DishonestKey(ev.rec.USCC, rule.ID, run[0].CaseNo), on: on, bureau: last.Bureau}
	for _, p := range run {
		t.refs = append(t.refs, p.CaseNo)
		t.events = append(t.events, p.EventID)
	}
	t.fields = []string{"date", chineseDate(on), "authority", ev.rules.authority(last.Bureau),
		"case_nos", strings.Join(t.refs, "、"), "violation", ev.rules.Labels.Violations[last.Violation],
		"count", strconv.Itoa(len(run)), "within_months", strconv.Itoa(rule.WithinMonths)}
	return t
}

// mergeTriggers folds triggers of the same key into the earliest, with the
// events and refs of all.
func mergeTriggers(ts []trigger) []trigger {
	if len(ts) < 2 {
		return ts
	}
	slices.SortStableFunc(ts, func(a, b trigger) int { return cmp.Or(strings.Compare(a.key, b.key), a.on.Compare(b.on)) })
	out := ts[:1]
	for _, t := range ts[1:] {
		last := &out[len(out)-1]
		if t.key != last.key {
			out = append(out, t)
			continue
		}
		last.events = append(last.events, t.events...)
		for _, ref := range t.refs {
			if !slices.Contains(last.refs, ref) {
				last.refs = append(last.refs, ref)
			}
		}
	}
	return out
}

// ending is what ends an entry: the day, why, who and which event.
type ending struct {
	on     time.Time
	reason model.Removal
	bureau string
}

// earlier says whether a ends the entry before b; on the same day a
// withdrawal outranks a repair, which outranks expiry.
func (a ending) earlier(b *ending) bool {
	if b == nil || a.on.Before(b.on) {
		return true
	}
	return a.on.Equal(b.on) && removalRank[a.reason] < removalRank[b.reason]
}

var removalRank = map[model.Removal]int{model.RemovalObjectionUpheld: 0, model.RemovalWithdrawn: 1, model.RemovalRepaired: 2, model.RemovalExpired: 3}

// schedule is an entry's dates, from the day its rule was met.
type schedule struct {
	on, noticeEnds, listed, expires, repairFrom time.Time
	estimated                                   bool
}

func (ev *evaluation) schedule(on time.Time) schedule {
	d := &ev.rules.Dishonest
	notice := ev.rules.Calendar.AddWorkingDays(on, ev.rules.NoticeWorkingDays)
	listed := ev.rules.Calendar.AddWorkingDays(notice.Date, 1)
	return schedule{on: on, noticeEnds: notice.Date, listed: listed.Date,
		expires:    listed.Date.AddDate(0, d.ListingMonths, 0),
		repairFrom: listed.Date.AddDate(0, d.RepairAfterMonths, 0),
		estimated:  notice.Estimated || listed.Estimated}
}

// entry builds the entry of one key as of the as_of day.
func (ev *evaluation) entry(l *life) (model.ListEntry, []Review) {
	t := &l.last
	s := ev.schedule(l.on)
	var end *ending
	consider := func(e ending) {
		if e.earlier(end) {
			end = &e
		}
	}
	if l.withdrawn != nil {
		consider(ending{on: l.cut, reason: model.RemovalWithdrawn, bureau: l.withdrawn.Bureau})
	}
	if !ev.asOf.Before(s.expires) {
		consider(ending{on: s.expires, reason: model.RemovalExpired, bureau: ev.rules.Publisher})
	}
	reviews := ev.objections(t.key, s, consider)
	for _, rp := range ev.rec.Repairs {
		day := dayOf(rp.At)
		if !slices.Contains(t.refs, rp.CaseNo) || day.Before(s.on) {
			continue // a repair of the penalty alone, before this listing existed
		}
		if day.Before(s.repairFrom) {
			reviews = append(reviews, Review{USCC: ev.rec.USCC, Key: t.key, Kind: ReviewEarlyRepair, Event: rp.EventID,
				Detail: fmt.Sprintf("credit repair on %s, before repair is possible from %s: nothing removed",
					day.Format(dateLayout), s.repairFrom.Format(dateLayout))})
			continue
		}
		consider(ending{on: day, reason: model.RemovalRepaired, bureau: rp.Bureau})
	}
	e := ev.newEntry(t, s)
	switch {
	case end != nil && end.on.Before(s.listed):
		e.State = model.ListStateNotListed
		e.ListedAt, e.ExpiresAt, e.RepairPossibleFrom = "", "", ""
	case end != nil:
		e.State = model.ListStateRemoved
	case ev.asOf.Before(s.listed):
		e.State = model.ListStatePending
	default:
		e.State = model.ListStateListed
	}
	if end != nil {
		e.RemovedAt, e.RemovedReason = end.on.Format(dateLayout), end.reason
		e.RemovedByCode, e.RemovedBy = end.bureau, ev.rules.authority(end.bureau)
		reviews = slices.DeleteFunc(reviews, func(r Review) bool { return r.Kind == ReviewObjectionUndecided })
	}
	return e, reviews
}

// objections applies the decisions on objections to the entry key: an
// upheld one ends it (in the notice period: never listed; later:
// withdrawn). One still undecided once the entry is due to be listed is
// flagged; the listing goes ahead.
func (ev *evaluation) objections(key string, s schedule, consider func(ending)) []Review {
	var reviews []Review
	for _, o := range ev.rec.Objections {
		if o.Key != key {
			continue
		}
		d, ok := ev.decision(o.ObjectionID)
		switch {
		case ok && d.Outcome == OutcomeUpheld:
			reason := model.RemovalObjectionUpheld
			if !dayOf(d.At).Before(s.listed) {
				reason = model.RemovalWithdrawn
			}
			consider(ending{on: dayOf(d.At), reason: reason, bureau: d.Bureau})
		case !ok && !ev.asOf.Before(s.listed):
			reviews = append(reviews, Review{USCC: ev.rec.USCC, Key: key, Kind: ReviewObjectionUndecided, Event: o.EventID,
				Detail: "objection " + o.ObjectionID + " undecided when the notice period ended on " + s.noticeEnds.Format(dateLayout)})
		}
	}
	return reviews
}

// decision is the latest decision on an objection (a correction is a new
// event, so the latest wins).
func (ev *evaluation) decision(objectionID string) (ObjectionDecision, bool) {
	var best ObjectionDecision
	found := false
	for _, d := range ev.rec.ObjectionDecisions {
		if d.ObjectionID == objectionID && (!found || d.At.After(best.At) || (d.At.Equal(best.At) && d.EventID > best.EventID)) {
			best, found = d, true
		}
	}
	return best, found
}

func (ev *evaluation) newEntry(t *trigger, s schedule) model.ListEntry {
	events := slices.Clone(t.events)
	slices.Sort(events)
	return model.ListEntry{
		Authority:          ev.rules.authority(t.bureau),
		AuthorityCode:      t.bureau,
		Basis:              t.rule.Basis,
		DatesEstimated:     s.estimated,
		Events:             slices.Compact(events),
		ExpiresAt:          s.expires.Format(dateLayout),
		Key:                t.key,
		List:               model.ListDishonest,
		ListedAt:           s.listed.Format(dateLayout),
		Measures:           slices.Clone(ev.rules.Dishonest.Measures),
		Name:               ev.rec.Name,
		NoticeEnds:         s.noticeEnds.Format(dateLayout),
		Reason:             fill(t.rule.Reason, t.fields),
		RepairPossibleFrom: s.repairFrom.Format(dateLayout),
		Rule:               t.rule.ID,
		TriggeredAt:        s.on.Format(dateLayout),
		USCC:               ev.rec.USCC,
	}
}

// fill replaces each {name} of a reason template by its value in fields
// (name, value pairs); an unknown name stays as it is. (A strings.Replacer
// per entry cost more than the rest of an evaluation.)
func fill(tmpl string, fields []string) string {
	var b strings.Builder
	b.Grow(len(tmpl) + 64)
	for {
		open := strings.IndexByte(tmpl, '{')
		end := strings.IndexByte(tmpl[max(open, 0):], '}')
		if open < 0 || end < 0 {
			b.WriteString(tmpl)
			return b.String()
		}
		name := tmpl[open+1 : open+end]
		b.WriteString(tmpl[:open])
		value, found := "", false
		for i := 0; i+1 < len(fields); i += 2 {
			if fields[i] == name {
				value, found = fields[i+1], true
				break
			}
		}
		if found {
			b.WriteString(value)
		} else {
			b.WriteString(tmpl[open : open+end+1])
		}
		tmpl = tmpl[open+end+1:]
	}
}

// unmatchedObjections flags objections and decisions that name no entry of
// the firm, so an analyst's mistyped key is not silently ignored.
func (ev *evaluation) unmatchedObjections(entries []model.ListEntry) []Review {
	var reviews []Review
	known := map[string]bool{}
	for _, o := range ev.rec.Objections {
		known[o.ObjectionID] = true
		_, found := slices.BinarySearchFunc(entries, o.Key, byKey)
		if !found {
			reviews = append(reviews, Review{USCC: ev.rec.USCC, Key: o.Key, Kind: ReviewObjectionUnmatched, Event: o.EventID,
				Detail: "objection " + o.ObjectionID + " names no listing of the firm"})
		}
	}
	for _, d := range ev.rec.ObjectionDecisions {
		if !known[d.ObjectionID] {
			reviews = append(reviews, Review{USCC: ev.rec.USCC, Kind: ReviewObjectionUnmatched, Event: d.EventID,
				Detail: "decision on objection " + d.ObjectionID + ", which was never received"})
		}
	}
	return reviews
}
