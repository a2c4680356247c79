package lists_test

import (
	"bytes"
	"encoding/json"
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
	history []lists.Version
}

// run evaluates the firms as of the day, publishes at 02:00 the next
// morning (the nightly slot) and reports whether a new version appeared.
func (p *publisher) run(asOf string, firms ...lists.FirmRecords) bool {
	p.t.Helper()
	var entries []model.ListEntry
	for _, f := range firms {
		entries = append(entries, evaluate(p.t, p.r, f, asOf).Entries...)
	}
	return p.publish(asOf, entries)
}

func (p *publisher) publish(asOf string, entries []model.ListEntry) bool {
	p.t.Helper()
	var cur *lists.Version
	if len(p.history) > 0 {
		cur = &p.history[len(p.history)-1]
	}
	v, changed, err := p.r.Publish(lists.PublishInput{List: model.ListDishonest, Current: cur, Entries: entries,
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
	e := model.ListEntry{Authority: "盱眙县市场监督管理局", AuthorityCode: "320830", Basis: "总局令第44号 <第七条> & 第十二条",
		DatesEstimated: true, Events: []string{"a", "b"}, ExpiresAt: "2028-03-11", Key: "k", List: model.ListDishonest,
		ListedAt: "2025-03-11", Measures: []string{"no_honours"}, Name: "甲", NoticeEnds: "2025-03-10", Reason: "原因",
		RemovedAt: "2026-01-01", RemovedBy: "淮安市市场监督管理局", RemovedByCode: "320800", RemovedReason: model.RemovalRepaired,
		RepairPossibleFrom: "2026-03-11", Rule: "r", State: model.ListStateRemoved, TriggeredAt: "2025-03-03", USCC: firmA}
	line := e.AppendCanonical(nil)
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
	m := model.NewListManifest(nil)
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
	if cur := p.latest(); len(p.history) != 1 || cur.Number != 1 || cur.Manifest.Count != 1 {
		t.Errorf("%d versions, the latest %d with manifest %+v", len(p.history), cur.Number, cur.Manifest)
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
	if len(ch) != 1 || ch[0].Op != model.ListOpModify || ch[0].Key != key || ch[0].Entry.Name != "甲新材料公司" {
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
	if len(ch) != 1 || ch[0].Op != model.ListOpRemove || ch[0].Entry.RemovedReason != model.RemovalWithdrawn ||
		ch[0].Entry.RemovedAt != "2025-05-06" || ch[0].Entry.RemovedBy != "淮安市市场监督管理局" {
		t.Errorf("changes %+v", ch)
	}
	if p.latest().Manifest.Count != 0 {
		t.Errorf("manifest %+v after the removal", p.latest().Manifest)
	}
}

func TestApplyRefusesChangesThatDoNotFit(t *testing.T) {
	// given a snapshot without key k, when a modify of k is applied, then an error tells to pull a snapshot
	_, err := lists.Apply(nil, []model.ListChange{{Op: model.ListOpModify, Key: "k"}})
	if err == nil {
		t.Fatal("a modify of a missing key was applied")
	}
}
