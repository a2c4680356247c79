package lists_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/qcredit/qcredit/lists"
	"github.com/qcredit/qcredit/model"
)

// want is the part of an entry a rule test checks.
type want struct {
	rule, ref     string
	state         model.ListState
	listedAt      string
	removed       model.Removal
	removedAt, by string
}

func (w want) key() string { return lists.DishonestKey(firmA, w.rule, w.ref) }

func TestEvaluateRules(t *testing.T) {
	r := defaultRules(t)
	const heavyRule, repeat = "serious.heavy_penalty", "serious.repeat_violation"
	tests := []struct {
		name    string // given / when / then
		rec     lists.FirmRecords
		asOf    string
		want    []want
		reviews []lists.ReviewKind
	}{
		{name: "a heavy counterfeit penalty, evaluated the day after: pending (拟列入)",
			rec:  lists.FirmRecords{Penalties: []lists.Penalty{heavy()}},
			asOf: "2025-03-04", want: []want{{rule: heavyRule, ref: "盱市监罚2025-1", state: model.ListStatePending, listedAt: "2025-03-11"}}},
		{name: "a heavy penalty on the last day of the notice period: still pending",
			rec:  lists.FirmRecords{Penalties: []lists.Penalty{heavy()}},
			asOf: "2025-03-10", want: []want{{rule: heavyRule, ref: "盱市监罚2025-1", state: model.ListStatePending, listedAt: "2025-03-11"}}},
		{name: "a heavy penalty once the notice period ended: listed",
			rec:  lists.FirmRecords{Penalties: []lists.Penalty{heavy()}},
			asOf: "2025-03-11", want: []want{{rule: heavyRule, ref: "盱市监罚2025-1", state: model.ListStateListed, listedAt: "2025-03-11"}}},
		{name: "a heavy penalty evaluated before its decision day: nothing (records after as_of are ignored)",
			rec:  lists.FirmRecords{Penalties: []lists.Penalty{heavy()}},
			asOf: "2025-03-02"},
		{name: "a heavy penalty for false labelling and a general one for counterfeits: no serious rule met",
			rec: lists.FirmRecords{Penalties: []lists.Penalty{
				penalty("e1", "2025-03-03", "c1", "false_labeling", "heavy"),
				penalty("e2", "2025-03-04", "c2", "counterfeit", "general")}},
			asOf: "2025-06-01"},
		{name: "heavy penalties for each quality violation of the rule: one entry each",
			rec: lists.FirmRecords{Penalties: []lists.Penalty{
				penalty("e1", "2025-03-03", "c1", "substandard", "heavy"),
				penalty("e2", "2025-03-03", "c2", "unlicensed", "heavy"),
				penalty("e3", "2025-03-03", "c3", "special_equipment", "heavy"),
				penalty("e4", "2025-03-03", "c4", "obstruction", "heavy")}},
			asOf: "2025-06-01", want: []want{
				{rule: heavyRule, ref: "c1", state: model.ListStateListed, listedAt: "2025-03-11"},
				{rule: heavyRule, ref: "c2", state: model.ListStateListed, listedAt: "2025-03-11"},
				{rule: heavyRule, ref: "c3", state: model.ListStateListed, listedAt: "2025-03-11"},
				{rule: heavyRule, ref: "c4", state: model.ListStateListed, listedAt: "2025-03-11"}}},
		{name: "a licence revoked for fraud, for a violation, and for another reason: the first two listed",
			rec: lists.FirmRecords{LicenceRevocations: []lists.LicenceRevocation{
				{Source: src("e1", "320800", "2025-03-03"), LicenceNo: "XK-1", DecisionNo: "淮市监撤2025-1", Reason: "fraud"},
				{Source: src("e2", "320800", "2025-03-03"), LicenceNo: "XK-2", Reason: "violation"},
				{Source: src("e3", "320800", "2025-03-03"), LicenceNo: "XK-3", Reason: "other"}}},
			asOf: "2025-06-01", want: []want{
				{rule: "serious.licence_revoked", ref: "XK-1", state: model.ListStateListed, listedAt: "2025-03-11"},
				{rule: "serious.licence_revoked", ref: "XK-2", state: model.ListStateListed, listedAt: "2025-03-11"}}},
		{name: "accidents of grade larger, major and general: the larger and major listed",
			rec: lists.FirmRecords{Accidents: []lists.Accident{
				{Source: src("e1", "320830", "2025-03-03"), AccidentID: "SG1", Grade: "larger"},
				{Source: src("e2", "320830", "2025-03-03"), AccidentID: "SG2", Grade: "major"},
				{Source: src("e3", "320830", "2025-03-03"), AccidentID: "SG3", Grade: "general"}}},
			asOf: "2025-06-01", want: []want{
				{rule: "serious.accident", ref: "SG1", state: model.ListStateListed, listedAt: "2025-03-11"},
				{rule: "serious.accident", ref: "SG2", state: model.ListStateListed, listedAt: "2025-03-11"}}},
		{name: "the same violation penalised twice, 36 months apart: the repetition is listed, keyed by the first case",
			rec: lists.FirmRecords{Penalties: []lists.Penalty{
				penalty("e1", "2022-03-03", "c1", "substandard", "general"),
				penalty("e2", "2025-03-03", "c2", "substandard", "light")}},
			asOf: "2025-06-01", want: []want{{rule: repeat, ref: "c1", state: model.ListStateListed, listedAt: "2025-03-11"}}},
		{name: "the same violation penalised twice, 36 months and a day apart: not a repetition",
			rec: lists.FirmRecords{Penalties: []lists.Penalty{
				penalty("e1", "2022-03-02", "c1", "substandard", "general"),
				penalty("e2", "2025-03-03", "c2", "substandard", "general")}},
			asOf: "2025-06-01"},
		{name: "the same violation penalised twice, 37 months apart: not a repetition",
			rec: lists.FirmRecords{Penalties: []lists.Penalty{
				penalty("e1", "2022-02-03", "c1", "substandard", "general"),
				penalty("e2", "2025-03-03", "c2", "substandard", "general")}},
			asOf: "2025-06-01"},
		{name: "two different violations within a year, and two cases of other: no repetition",
			rec: lists.FirmRecords{Penalties: []lists.Penalty{
				penalty("e1", "2024-06-03", "c1", "substandard", "general"),
				penalty("e2", "2025-03-03", "c2", "metrology", "general"),
				penalty("e3", "2024-06-03", "c3", "other", "general"),
				penalty("e4", "2025-03-03", "c4", "other", "general")}},
			asOf: "2025-06-01"},
		{name: "an objection upheld in the notice period: never listed",
			rec: lists.FirmRecords{Penalties: []lists.Penalty{heavy()},
				Objections: []lists.Objection{{Source: src("o1", "320830", "2025-03-05"), ObjectionID: "SB-1",
					Key: lists.DishonestKey(firmA, heavyRule, "盱市监罚2025-1")}},
				ObjectionDecisions: []lists.ObjectionDecision{{Source: src("o2", "320830", "2025-03-07"), ObjectionID: "SB-1",
					Outcome: lists.OutcomeUpheld}}},
			asOf: "2025-06-01", want: []want{{rule: heavyRule, ref: "盱市监罚2025-1", state: model.ListStateNotListed,
				removed: model.RemovalObjectionUpheld, removedAt: "2025-03-07", by: "320830"}}},
		{name: "an objection rejected: listed when the notice period ends",
			rec: lists.FirmRecords{Penalties: []lists.Penalty{heavy()},
				Objections: []lists.Objection{{Source: src("o1", "320830", "2025-03-05"), ObjectionID: "SB-1",
					Key: lists.DishonestKey(firmA, heavyRule, "盱市监罚2025-1")}},
				ObjectionDecisions: []lists.ObjectionDecision{{Source: src("o2", "320830", "2025-03-07"), ObjectionID: "SB-1",
					Outcome: lists.OutcomeRejected}}},
			asOf: "2025-06-01", want: []want{{rule: heavyRule, ref: "盱市监罚2025-1", state: model.ListStateListed, listedAt: "2025-03-11"}}},
		{name: "an objection still undecided when the notice period ends: listed, and flagged",
			rec: lists.FirmRecords{Penalties: []lists.Penalty{heavy()},
				Objections: []lists.Objection{{Source: src("o1", "320830", "2025-03-05"), ObjectionID: "SB-1",
					Key: lists.DishonestKey(firmA, heavyRule, "盱市监罚2025-1")}}},
			asOf: "2025-03-11", want: []want{{rule: heavyRule, ref: "盱市监罚2025-1", state: model.ListStateListed, listedAt: "2025-03-11"}},
			reviews: []lists.ReviewKind{lists.ReviewObjectionUndecided}},
		{name: "an objection upheld after listing: withdrawn that day",
			rec: lists.FirmRecords{Penalties: []lists.Penalty{heavy()},
				Objections: []lists.Objection{{Source: src("o1", "320830", "2025-03-05"), ObjectionID: "SB-1",
					Key: lists.DishonestKey(firmA, heavyRule, "盱市监罚2025-1")}},
				ObjectionDecisions: []lists.ObjectionDecision{{Source: src("o2", "320800", "2025-04-01"), ObjectionID: "SB-1",
					Outcome: lists.OutcomeUpheld}}},
			asOf: "2025-06-01", want: []want{{rule: heavyRule, ref: "盱市监罚2025-1", state: model.ListStateRemoved, listedAt: "2025-03-11",
				removed: model.RemovalWithdrawn, removedAt: "2025-04-01", by: "320800"}}},
		{name: "an objection naming no listing of the firm: flagged, nothing else",
			rec: lists.FirmRecords{Objections: []lists.Objection{{Source: src("o1", "320830", "2025-03-05"), ObjectionID: "SB-9",
				Key: lists.DishonestKey(firmA, heavyRule, "no-such-case")}}},
			asOf: "2025-06-01", reviews: []lists.ReviewKind{lists.ReviewObjectionUnmatched}},
		{name: "a listing on the day before it expires: listed",
			rec:  lists.FirmRecords{Penalties: []lists.Penalty{heavy()}},
			asOf: "2028-03-10", want: []want{{rule: heavyRule, ref: "盱市监罚2025-1", state: model.ListStateListed, listedAt: "2025-03-11"}}},
		{name: "a listing on its expiry day (3 years after listing): removed as expired by the publisher",
			rec:  lists.FirmRecords{Penalties: []lists.Penalty{heavy()}},
			asOf: "2028-03-11", want: []want{{rule: heavyRule, ref: "盱市监罚2025-1", state: model.ListStateRemoved, listedAt: "2025-03-11",
				removed: model.RemovalExpired, removedAt: "2028-03-11", by: "320800"}}},
		{name: "credit repair before repair is possible (1 year listed): nothing removed, flagged",
			rec: lists.FirmRecords{Penalties: []lists.Penalty{heavy()},
				Repairs: []lists.Repair{{Source: src("r1", "320830", "2026-03-10"), CaseNo: "盱市监罚2025-1"}}},
			asOf: "2026-06-01", want: []want{{rule: heavyRule, ref: "盱市监罚2025-1", state: model.ListStateListed, listedAt: "2025-03-11"}},
			reviews: []lists.ReviewKind{lists.ReviewEarlyRepair}},
		{name: "credit repair on the first day repair is possible: removed as repaired",
			rec: lists.FirmRecords{Penalties: []lists.Penalty{heavy()},
				Repairs: []lists.Repair{{Source: src("r1", "320830", "2026-03-11"), CaseNo: "盱市监罚2025-1"}}},
			asOf: "2026-06-01", want: []want{{rule: heavyRule, ref: "盱市监罚2025-1", state: model.ListStateRemoved, listedAt: "2025-03-11",
				removed: model.RemovalRepaired, removedAt: "2026-03-11", by: "320830"}}},
		{name: "the penalty revoked after listing: withdrawn on the revocation day by the revoking bureau",
			rec: lists.FirmRecords{Penalties: []lists.Penalty{heavy()},
				PenaltyRevocations: []lists.PenaltyRevocation{{Source: src("v1", "320800", "2025-05-06"), CaseNo: "盱市监罚2025-1"}}},
			asOf: "2025-05-07", want: []want{{rule: heavyRule, ref: "盱市监罚2025-1", state: model.ListStateRemoved, listedAt: "2025-03-11",
				removed: model.RemovalWithdrawn, removedAt: "2025-05-06", by: "320800"}}},
		{name: "the penalty revoked in the notice period: never listed",
			rec: lists.FirmRecords{Penalties: []lists.Penalty{heavy()},
				PenaltyRevocations: []lists.PenaltyRevocation{{Source: src("v1", "320800", "2025-03-06"), CaseNo: "盱市监罚2025-1"}}},
			asOf: "2025-05-07", want: []want{{rule: heavyRule, ref: "盱市监罚2025-1", state: model.ListStateNotListed,
				removed: model.RemovalWithdrawn, removedAt: "2025-03-06", by: "320800"}}},
		{name: "a licence revocation annulled by a penalty.revoked of its decision number: withdrawn",
			rec: lists.FirmRecords{
				LicenceRevocations: []lists.LicenceRevocation{{Source: src("e1", "320800", "2025-03-03"), LicenceNo: "XK-1",
					DecisionNo: "淮市监撤2025-1", Reason: "violation"}},
				PenaltyRevocations: []lists.PenaltyRevocation{{Source: src("v1", "320800", "2025-04-01"), CaseNo: "淮市监撤2025-1"}}},
			asOf: "2025-06-01", want: []want{{rule: "serious.licence_revoked", ref: "XK-1", state: model.ListStateRemoved,
				listedAt: "2025-03-11", removed: model.RemovalWithdrawn, removedAt: "2025-04-01", by: "320800"}}},
		{name: "the first of two same-violation penalties revoked before the second: no repetition ever met",
			rec: lists.FirmRecords{Penalties: []lists.Penalty{
				penalty("e1", "2024-03-04", "c1", "substandard", "general"),
				penalty("e2", "2025-03-03", "c2", "substandard", "general")},
				PenaltyRevocations: []lists.PenaltyRevocation{{Source: src("v1", "320800", "2024-06-03"), CaseNo: "c1"}}},
			asOf: "2025-06-01"},
		{name: "the second of two same-violation penalties revoked after listing: the repetition is withdrawn",
			rec: lists.FirmRecords{Penalties: []lists.Penalty{
				penalty("e1", "2024-03-04", "c1", "substandard", "general"),
				penalty("e2", "2025-03-03", "c2", "substandard", "general")},
				PenaltyRevocations: []lists.PenaltyRevocation{{Source: src("v1", "320800", "2025-05-06"), CaseNo: "c2"}}},
			asOf: "2025-06-01", want: []want{{rule: repeat, ref: "c1", state: model.ListStateRemoved, listedAt: "2025-03-11",
				removed: model.RemovalWithdrawn, removedAt: "2025-05-06", by: "320800"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := evaluate(t, r, tt.rec, tt.asOf)
			if len(st.Entries) != len(tt.want) {
				t.Fatalf("%d entries, want %d: %+v", len(st.Entries), len(tt.want), st.Entries)
			}
			for i, w := range tt.want {
				e := st.Entries[i]
				got := want{rule: e.Rule, ref: w.ref, state: e.State, listedAt: e.ListedAt, removed: e.RemovedReason,
					removedAt: e.RemovedAt, by: e.RemovedByCode}
				if e.Key != w.key() || got != w {
					t.Errorf("entry %d = %s %+v, want %s %+v", i, e.Key, got, w.key(), w)
				}
			}
			var kinds []lists.ReviewKind
			for _, rv := range st.Reviews {
				kinds = append(kinds, rv.Kind)
			}
			if !slices.Equal(kinds, tt.reviews) {
				t.Errorf("reviews %v, want %v: %+v", kinds, tt.reviews, st.Reviews)
			}
			wantListed := slices.ContainsFunc(tt.want, func(w want) bool { return w.state == model.ListStateListed })
			if st.Listed() != wantListed || (len(st.ScoreReasons()) > 0) != wantListed {
				t.Errorf("Listed() = %v with %d score reasons, want listed %v", st.Listed(), len(st.ScoreReasons()), wantListed)
			}
		})
	}
}

func TestNoticePeriodCountsWorkingDays(t *testing.T) {
	r := defaultRules(t)
	tests := []struct {
		name                 string // given / when / then
		decided              string
		noticeEnds, listedAt string
		estimated            bool
	}{
		{"a Monday decision: five working days Tue–Mon, listed on Tuesday", "2025-03-03", "2025-03-10", "2025-03-11", false},
		{"a decision on the eve of National Day 2025 (10-01–10-08 off, Saturday 10-11 worked)", "2025-09-30", "2025-10-14", "2025-10-15", false},
		{"a decision before Spring Festival 2026 (02-15–02-23 off, Saturday 02-14 worked)", "2026-02-12", "2026-02-26", "2026-02-27", false},
		{"a decision on a Friday before the 2026 New Year holiday (01-01–01-03 off, Sunday 01-04 worked)", "2025-12-26", "2026-01-05", "2026-01-06", false},
		{"a decision at the end of 2026, beyond the calendar's data: counted Monday to Friday and said so", "2026-12-28", "2027-01-04", "2027-01-05", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := lists.FirmRecords{Penalties: []lists.Penalty{penalty("e1", tt.decided, "c1", "counterfeit", "heavy")}}
			st := evaluate(t, r, rec, tt.decided)
			if len(st.Entries) != 1 {
				t.Fatalf("%d entries, want 1", len(st.Entries))
			}
			e := st.Entries[0]
			if e.State != model.ListStatePending || e.NoticeEnds != tt.noticeEnds || e.ListedAt != tt.listedAt || e.DatesEstimated != tt.estimated {
				t.Errorf("state %s, notice ends %s, listed %s, estimated %v; want pending, %s, %s, %v",
					e.State, e.NoticeEnds, e.ListedAt, e.DatesEstimated, tt.noticeEnds, tt.listedAt, tt.estimated)
			}
		})
	}
}

func TestEntryCarriesWhyAndByWhom(t *testing.T) {
	// given a heavy counterfeit penalty decided by 盱眙县, when listed, then the entry names the reason in
	// Chinese, the legal basis, the deciding bureau, its source event, its dates and its measures
	r := defaultRules(t)
	rec := lists.FirmRecords{Name: "盱眙某某龙虾食品有限公司", Penalties: []lists.Penalty{heavy()}}
	st := evaluate(t, r, rec, "2025-06-01")
	e := st.Entries[0]
	checks := []struct{ field, got, want string }{
		{"reason", e.Reason, "2025年3月3日因生产、销售假冒产品被盱眙县市场监督管理局处以较重行政处罚（盱市监罚2025-1）"},
		{"authority", e.Authority, "盱眙县市场监督管理局"},
		{"authority_code", e.AuthorityCode, "320830"},
		{"name", e.Name, "盱眙某某龙虾食品有限公司"},
		{"events", strings.Join(e.Events, ","), "320830-1"},
		{"triggered_at", e.TriggeredAt, "2025-03-03"},
		{"expires_at", e.ExpiresAt, "2028-03-11"},
		{"repair_possible_from", e.RepairPossibleFrom, "2026-03-11"},
		{"measures", strings.Join(e.Measures, ","), "focus_supervision,restricted_procurement,restricted_bidding,no_promise_approval,no_honours"},
		{"list", string(e.List), "dishonest"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
		}
	}
	if !strings.Contains(e.Basis, "总局令第44号") {
		t.Errorf("basis %q does not cite order 44", e.Basis)
	}
	reasons := st.ScoreReasons()
	if len(reasons) != 1 || reasons[0].Rule != "serious.heavy_penalty" || !slices.Equal(reasons[0].Events, e.Events) {
		t.Errorf("score reasons %+v, want the listing's rule and events", reasons)
	}
}

func TestEvaluateRefusesIncompleteRecords(t *testing.T) {
	// given a penalty without a case number, when evaluated, then an error names the missing field
	r := defaultRules(t)
	p := heavy()
	p.CaseNo = ""
	_, err := r.Evaluate(lists.FirmRecords{USCC: firmA, Penalties: []lists.Penalty{p}}, at("2025-06-01"))
	if err == nil || !strings.Contains(err.Error(), "case_no is required") {
		t.Fatalf("err = %v, want case_no is required", err)
	}
}
