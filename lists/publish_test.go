package lists_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/qcredit/qcredit/lists"
	"github.com/qcredit/qcredit/model"
)

// publisher runs the dishonest list's publication run after run, keeping
// its history.
type publisher struct {
	t       *testing.T
	r       *lists.Rules
	history lists.History
}

// run evaluates the firms as of the day, publishes at 02:00 the next
// morning (the nightly slot) and reports whether a new version appeared.
func (p *publisher) run(asOf string, firms ...lists.FirmRecords) bool {
	p.t.Helper()
	var entries []lists.Entry
	for _, f := range firms {
		entries = append(entries, evaluate(p.t, p.r, f, asOf).Entries...)
	}
	return p.publish(asOf, entries)
}

func (p *publisher) publish(asOf string, entries []lists.Entry) bool {
	p.t.Helper()
	var cur *lists.Version
	if len(p.history) > 0 {
		cur = &p.history[len(p.history)-1]
	}
	v, changed, err := p.r.Publish(lists.PublishInput{List: lists.ListDishonest, Current: cur, Entries: entries,
		AsOf: at(asOf), PublishedAt: at(asOf).Add(16 * time.Hour)})
	if err != nil {
		p.t.Fatal(err)
	}
	if changed {
		p.history = append(p.history, v)
	}
	return changed
}

func (p *publisher) latest() *lists.Version { return &p.history[len(p.history)-1] }

func TestCanonicalLineHasSortedKeysAndRawUTF8(t *testing.T) {
	// given an entry with every field set and text with <, & and Chinese, when written canonically, then the
	// line is what a generic JSON encoder writes for the same object with sorted keys and no HTML escaping
	e := lists.Entry{Authority: "盱眙县市场监督管理局", AuthorityCode: "320830", Basis: "总局令第44号 <第七条> & 第十二条",
		DatesEstimated: true, Events: []string{"a", "b"}, ExpiresAt: "2028-03-11", Key: "k", List: lists.ListDishonest,
		ListedAt: "2025-03-11", Measures: []string{"no_honours"}, Name: "甲", NoticeEnds: "2025-03-10", Reason: "原因",
		RemovedAt: "2026-01-01", RemovedBy: "淮安市市场监督管理局", RemovedByCode: "320800", RemovedReason: lists.RemovalRepaired,
		RepairPossibleFrom: "2026-03-11", Rule: "r", State: lists.StateRemoved, TriggeredAt: "2025-03-03", USCC: firmA}
	line, err := lists.AppendCanonical(nil, &e)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(line, &m); err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	enc := json.NewEncoder(&want)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil { // encoding/json sorts map keys
		t.Fatal(err)
	}
	if !bytes.Equal(line, want.Bytes()) {
		t.Errorf("canonical line\n%s\nwant\n%s", line, want.Bytes())
	}
	if len(m) != 22 {
		t.Errorf("%d fields written, want all 22", len(m))
	}
}

func TestManifestOfAnEmptySnapshot(t *testing.T) {
	// given no entries, when the manifest is made, then it counts 0 and hashes no bytes
	m, err := lists.NewManifest(nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Count != 0 || m.SHA256 != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Errorf("manifest %+v", m)
	}
}

func TestPublishingTheSameEntriesTwicePublishesNothingNew(t *testing.T) {
	// given a published version, when a later run has the same entries, then no version is published and
	// the changes since the current version are empty
	p := &publisher{t: t, r: defaultRules(t)}
	firm := lists.FirmRecords{USCC: firmA, Name: "甲公司", Penalties: []lists.Penalty{heavy()}}
	if !p.run("2025-03-11", firm) {
		t.Fatal("first run published nothing")
	}
	if p.run("2025-03-11", firm) || p.run("2025-03-12", firm) {
		t.Fatal("a run without changes published a version")
	}
	cur := p.latest()
	changes, err := p.history.Changes(cur.Number, cur.Number)
	if err != nil {
		t.Fatal(err)
	}
	if cur.Number != 1 || changes == nil || len(changes) != 0 || cur.Manifest.Count != 1 {
		t.Errorf("version %d, changes %v, manifest %+v", cur.Number, changes, cur.Manifest)
	}
}

func TestTheFirstRunPublishesVersionOneEvenEmpty(t *testing.T) {
	// given no listed firm, when the first run publishes, then version 1 exists with an empty snapshot
	p := &publisher{t: t, r: defaultRules(t)}
	if !p.run("2025-03-11") || p.latest().Number != 1 || p.latest().Manifest.Count != 0 {
		t.Fatalf("history %+v", p.history)
	}
}

func TestAChangedEntryIsOneModify(t *testing.T) {
	// given a listed firm, when it is renamed, then the next version has one modify under the same key
	p := &publisher{t: t, r: defaultRules(t)}
	firm := lists.FirmRecords{USCC: firmA, Name: "甲公司", Penalties: []lists.Penalty{heavy()}}
	p.run("2025-03-11", firm)
	key := p.latest().Entries[0].Key
	firm.Name = "甲新材料公司"
	if !p.run("2025-03-12", firm) {
		t.Fatal("rename published nothing")
	}
	ch := p.latest().Changes
	if len(ch) != 1 || ch[0].Op != lists.OpModify || ch[0].Key != key || ch[0].Entry.Name != "甲新材料公司" {
		t.Errorf("changes %+v", ch)
	}
}

func TestARemovalCarriesWhyWhenAndByWhom(t *testing.T) {
	// given a listed firm, when its penalty is revoked, then the next version removes the entry, and the
	// remove says withdrawn, the day and the revoking bureau
	p := &publisher{t: t, r: defaultRules(t)}
	firm := lists.FirmRecords{USCC: firmA, Name: "甲公司", Penalties: []lists.Penalty{heavy()}}
	p.run("2025-03-11", firm)
	firm.PenaltyRevocations = []lists.PenaltyRevocation{{Source: src("v1", "320800", "2025-05-06"), CaseNo: "盱市监罚2025-1"}}
	p.run("2025-05-06", firm)
	ch := p.latest().Changes
	if len(ch) != 1 || ch[0].Op != lists.OpRemove || ch[0].Entry.RemovedReason != lists.RemovalWithdrawn ||
		ch[0].Entry.RemovedAt != "2025-05-06" || ch[0].Entry.RemovedBy != "淮安市市场监督管理局" {
		t.Errorf("changes %+v", ch)
	}
	if p.latest().Manifest.Count != 0 {
		t.Errorf("manifest %+v after the removal", p.latest().Manifest)
	}
}

func TestChangesSinceAVersionNotRetained(t *testing.T) {
	// given versions 1 and 2, when a partner asks for changes since version 7, then ErrNotRetained
	p := &publisher{t: t, r: defaultRules(t)}
	p.run("2025-03-11")
	p.run("2025-03-11", lists.FirmRecords{USCC: firmA, Name: "甲公司", Penalties: []lists.Penalty{heavy()}})
	if _, err := p.history.Changes(7, 2); !errors.Is(err, lists.ErrNotRetained) {
		t.Errorf("err = %v, want ErrNotRetained", err)
	}
}

func TestApplyRefusesChangesThatDoNotFit(t *testing.T) {
	// given a snapshot without key k, when a modify of k is applied, then an error tells to pull a snapshot
	_, err := lists.Apply(nil, []lists.Change{{Op: lists.OpModify, Key: "k"}})
	if err == nil {
		t.Fatal("a modify of a missing key was applied")
	}
}

func TestStatusAsPublishedOnADate(t *testing.T) {
	// given firm A listed from 2025-03-11 and withdrawn on 2025-05-06, firm B listed later, when a partner
	// asks about a day, then the answer is the version in force at the end of that day (+08:00), not today's
	p := &publisher{t: t, r: defaultRules(t)}
	a := lists.FirmRecords{USCC: firmA, Name: "甲公司", Penalties: []lists.Penalty{heavy()}}
	b := lists.FirmRecords{USCC: firmB, Name: "乙公司", Penalties: []lists.Penalty{penalty("e9", "2025-04-01", "c9", "substandard", "heavy")}}
	p.run("2025-03-10", a)    // pending: version 1, empty
	p.run("2025-03-11", a)    // version 2 lists A, published 2025-03-12 02:00
	p.run("2025-04-10", a, b) // B listed (notice over Qingming, 04-04 off)
	a.PenaltyRevocations = []lists.PenaltyRevocation{{Source: src("v1", "320800", "2025-05-06"), CaseNo: "盱市监罚2025-1"}}
	p.run("2025-05-06", a, b) // version 4 removes A, published 2025-05-07 02:00
	if got := len(p.history); got != 4 {
		t.Fatalf("%d versions, want 4", got)
	}
	// A later version published at 00:30 +08:00 on 05-08 is still 05-07 in UTC: the day is read in +08:00.
	p.history = append(p.history, p.history[3])
	p.history[4].Number, p.history[4].PublishedAt = 5, time.Date(2025, 5, 8, 0, 30, 0, 0, model.Shanghai)

	tests := []struct {
		day     string
		uscc    model.USCC
		version int64
		listed  bool
	}{
		{"2025-03-09", firmA, 0, false}, // nothing published yet
		{"2025-03-11", firmA, 1, false}, // the version in force was published before the listing
		{"2025-03-12", firmA, 2, true},
		{"2025-05-06", firmA, 3, true}, // withdrawn that day, but published the next morning
		{"2025-05-07", firmA, 4, false},
		{"2025-05-07", firmB, 4, true},
		{"2025-05-08", firmB, 5, true},
	}
	for _, tt := range tests {
		c := lists.CheckOn(tt.uscc, at(tt.day), p.history)
		if len(c.Lists) != 1 || c.Lists[0].Version != tt.version || c.Listed != tt.listed {
			t.Errorf("%s on %s: %+v, want version %d listed %v", tt.uscc, tt.day, c, tt.version, tt.listed)
			continue
		}
		if tt.listed && (c.Lists[0].Entries[0].ListedAt == "" || c.Lists[0].Entries[0].Authority == "") {
			t.Errorf("%s on %s: entry without since or by whom: %+v", tt.uscc, tt.day, c.Lists[0].Entries[0])
		}
	}
}
