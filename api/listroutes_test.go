package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/qcredit/qcredit/api"
	"github.com/qcredit/qcredit/api/apitest"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/serving"
	"github.com/qcredit/qcredit/warehouse"
)

// day is 00:00 of a day in Asia/Shanghai.
func day(s string) time.Time {
	d, err := time.ParseInLocation(time.DateOnly, s, model.Shanghai)
	if err != nil {
		panic(err) // a typo in a test's literal
	}
	return d
}

// listedThenWithdrawn is a city where firm 0 is penalised heavily on
// 2024-03-04 (pending, version 1 empty), listed by the run of 2024-03-20
// (version 2, published 2024-03-21 02:00) and withdrawn after the penalty's
// revocation on 2024-05-06 (version 3, published 2024-05-07 02:00).
func listedThenWithdrawn(t *testing.T, opts api.Options) (*listCity, []warehouse.Run) {
	t.Helper()
	c := newListCity(t, 1, 3, 10*365*24*time.Hour, opts)
	u := c.firms[0]
	c.write([]warehouse.Item{c.event(model.EventPenaltyDecided, u, day("2024-03-04").Add(10*time.Hour),
		map[string]any{"case_no": "盱市监罚〔2024〕1号", "violation": "substandard", "severity": "heavy"})})
	runs := []warehouse.Run{c.run(day("2024-03-04")), c.run(day("2024-03-20"))}
	c.write([]warehouse.Item{c.event(model.EventPenaltyRevoked, u, day("2024-05-06").Add(10*time.Hour),
		map[string]any{"case_no": "盱市监罚〔2024〕1号"})})
	runs = append(runs, c.run(day("2024-05-06")))
	return c, runs
}

func TestCheckAnswersAsPublishedOnTheDay(t *testing.T) {
	// given a firm listed by version 2 and withdrawn by version 3, when a partner checks it as of days before,
	// during and after, then each answer is the version in force at the end of that day (+08:00) and the
	// firm's entries listed that day by their own dates, not today's list
	c, _ := listedThenWithdrawn(t, api.Options{})
	u := c.firms[0]
	for _, tt := range []struct {
		asOf    string
		version int64
		listed  bool
	}{
		{"2024-03-03", 0, false}, // before the first version
		{"2024-03-20", 1, false}, // version 2 came the next morning
		{"2024-03-25", 2, true},
		{"2024-05-06", 2, true}, // withdrawn that day, published the next morning
		{"2024-05-07", 3, false},
		{"", 3, false}, // today
	} {
		var resp api.CheckResponse
		c.srv.Post(t, "/api/v1/partner/check", api.ScopePartner, api.CheckRequest{USCCs: []string{string(u), string(c.firms[1])}, AsOf: tt.asOf},
			http.StatusOK, &resp)
		r := resp.Results[0]
		d := r.Lists[0]
		if len(resp.Results) != 2 || d.List != model.ListDishonest || d.Version != tt.version || r.Listed != tt.listed || d.Listed != tt.listed ||
			resp.Results[1].Listed {
			t.Errorf("as of %q: %+v, want dishonest version %d listed %v", tt.asOf, resp, tt.version, tt.listed)
			continue
		}
		if tt.listed {
			e := d.Entries[0]
			if e.ListedAt == "" || e.ExpiresAt == "" || !strings.Contains(e.Reason, "盱市监罚〔2024〕1号") || e.Authority != "盱眙县市场监督管理局" ||
				len(e.Measures) == 0 || resp.Measures[e.Measures[0]].Name == "" {
				t.Errorf("as of %s: the entry does not say since when, until when, why, by whom and the measures: %+v", tt.asOf, e)
			}
		}
	}
	var bad map[string]any
	for _, body := range []any{
		api.CheckRequest{USCCs: []string{"91320830MA1AAA01XX"}},
		api.CheckRequest{USCCs: make([]string, api.MaxCheck+1)},
		api.CheckRequest{USCCs: []string{string(u)}, AsOf: "2099-01-01"},
		api.CheckRequest{},
		"not json",
	} {
		c.srv.Post(t, "/api/v1/partner/check", api.ScopePartner, body, http.StatusBadRequest, &bad)
	}
}

func TestListRoutesAsDocumented(t *testing.T) {
	// given three published versions of the dishonest list, then: the snapshot names its version in a header
	// and an ETag that gets 304 back; an old version is served by ?version=; a never published one is 404 and
	// an unknown list 404; changes since the latest are an empty list with the latest manifest; CSV headers are
	// Chinese, English with lang=en; XLSX and Arrow come with their media types; analysts may read, the public
	// may not
	c, _ := listedThenWithdrawn(t, api.Options{})
	resp := c.get("/api/v1/partner/lists/dishonest", nil, http.StatusOK)
	etag := resp.Header.Get("ETag")
	if resp.Header.Get("Qcredit-List-Version") != "3" || etag == "" {
		t.Fatalf("headers %v", resp.Header)
	}
	c.get("/api/v1/partner/lists/dishonest", http.Header{"If-None-Match": {etag}}, http.StatusNotModified)
	if other := c.get("/api/v1/partner/lists/dishonest?format=ndjson", nil, http.StatusOK).Header.Get("ETag"); other == etag {
		t.Errorf("NDJSON and JSON share the ETag %s", etag)
	}
	if v2 := c.snapshot(model.ListDishonest, 2, "json"); v2.version != 2 || len(v2.entries) != 1 || v2.entries[0].USCC != c.firms[0] {
		t.Errorf("version 2: %+v", v2)
	}
	c.get("/api/v1/partner/lists/dishonest?version=9", nil, http.StatusNotFound)
	c.get("/api/v1/partner/lists/blacklist", nil, http.StatusNotFound)
	c.get("/api/v1/partner/lists/dishonest?format=pdf", nil, http.StatusBadRequest)
	c.get("/api/v1/partner/lists/dishonest/changes", nil, http.StatusBadRequest)

	var ch struct {
		From     int64              `json:"from"`
		To       int64              `json:"to"`
		Manifest model.ListManifest `json:"manifest"`
		Changes  []model.ListChange `json:"changes"`
	}
	c.srv.Get(t, "/api/v1/partner/lists/dishonest/changes?since=3", api.ScopePartner, http.StatusOK, &ch)
	latest := c.snapshot(model.ListDishonest, 0, "json")
	if ch.From != 3 || ch.To != 3 || ch.Changes == nil || len(ch.Changes) != 0 || ch.Manifest != latest.manifest {
		t.Errorf("changes since the latest: %+v, manifest %+v", ch, latest.manifest)
	}
	c.srv.Get(t, "/api/v1/partner/lists/dishonest/changes?since=2", api.ScopeAnalyst, http.StatusOK, &ch)
	if len(ch.Changes) != 1 || ch.Changes[0].Op != model.ListOpRemove || ch.Changes[0].Entry.RemovedReason != model.RemovalWithdrawn ||
		ch.Changes[0].Entry.RemovedAt != "2024-05-06" || ch.Changes[0].Entry.RemovedBy == "" {
		t.Errorf("changes since 2: %+v", ch)
	}
	// to= stops at a version: since 1 to 2 is the listing alone, with version 2's manifest
	c.srv.Get(t, "/api/v1/partner/lists/dishonest/changes?since=1&to=2", api.ScopePartner, http.StatusOK, &ch)
	if v2 := c.snapshot(model.ListDishonest, 2, "json"); ch.From != 1 || ch.To != 2 || len(ch.Changes) != 1 ||
		ch.Changes[0].Op != model.ListOpAdd || ch.Changes[0].USCC != c.firms[0] || ch.Manifest != v2.manifest {
		t.Errorf("changes since 1 to 2: %+v", ch)
	}
	c.get("/api/v1/partner/lists/dishonest/changes?since=2&to=1", nil, http.StatusBadRequest)
	c.get("/api/v1/partner/lists/dishonest/changes?since=2&to=9", nil, http.StatusNotFound)
	c.get("/api/v1/partner/lists/dishonest/changes?since=9", nil, http.StatusNotFound)

	zh := c.get("/api/v1/partner/lists/dishonest?format=csv&version=2", nil, http.StatusOK)
	en := c.get("/api/v1/partner/lists/dishonest?format=csv&version=2&lang=en", nil, http.StatusOK)
	zhBody, enBody := readAll(zh), readAll(en)
	if !strings.Contains(zhBody, "列入原因,列入依据,作出决定机关") || !strings.Contains(enBody, "Reason,Legal basis,Deciding authority") ||
		strings.Contains(zhBody, "Reason") {
		t.Errorf("csv headers:\n%.300s\n%.300s", zhBody, enBody)
	}
	for format, media := range map[string]string{"xlsx": "spreadsheetml", "arrow": "application/vnd.apache.arrow.stream"} {
		if r := c.get("/api/v1/partner/lists/focus?format="+format, nil, http.StatusOK); !strings.Contains(r.Header.Get("Content-Type"), media) {
			t.Errorf("%s: Content-Type %s", format, r.Header.Get("Content-Type"))
		}
	}
	c.srv.Get(t, "/api/v1/partner/lists/dishonest", "", http.StatusUnauthorized, nil)
	c.srv.Get(t, "/api/v1/partner/lists/dishonest", api.ScopeIngest, http.StatusForbidden, nil)
}

func TestListsTwiceWithoutNewEventsPublishNothing(t *testing.T) {
	// given published lists, when score and lists run again as of a later day with no new event, then no
	// version is published: the partner's version stays, and its changes since it are empty
	c, runs := listedThenWithdrawn(t, api.Options{})
	before := c.snapshot(model.ListDishonest, 0, "json")
	again := c.run(day("2024-05-07"))
	after := c.snapshot(model.ListDishonest, 0, "json")
	if again.Counts[model.ListCountPublished(model.ListDishonest)] != 0 || after.version != before.version || after.manifest != before.manifest ||
		again.Digest != runs[2].Digest {
		t.Errorf("second run %+v published: version %d → %d", again, before.version, after.version)
	}
	if ch := c.changesSince(model.ListDishonest, before.version, "json"); len(ch.changes) != 0 || ch.manifest != before.manifest {
		t.Errorf("changes since %d: %+v", before.version, ch)
	}
}

func TestVersionsPastRetentionAre410(t *testing.T) {
	// given versions published in March and May, and a replica whose read model retains 20 days counted from
	// 2024-05-27 (version 3, and version 2 in force when retention began), when a partner asks for the
	// changes since, or the snapshot of, version 1, or checks a day before version 2, then 410 says to pull
	// the snapshot and which version to continue from; what is retained is served
	c, _ := listedThenWithdrawn(t, api.Options{})
	c.setNow(day("2024-05-27"))
	rm := loadedModel(t, c.s, serving.Options{Now: c.clock,
		Parts: []serving.PartLoader{serving.ListsLoader(serving.ListsOptions{Retention: 20 * 24 * time.Hour, Now: c.clock})}})
	srv := apitest.Replica(t, c.srv, c.s, rm, api.Options{Now: c.clock})
	var e map[string]map[string]string
	srv.Get(t, "/api/v1/partner/lists/dishonest/changes?since=1", api.ScopePartner, http.StatusGone, &e)
	if msg := e["error"]["message"]; e["error"]["code"] != "version_not_retained" || !strings.Contains(msg, "pull the snapshot") ||
		!strings.Contains(msg, "since=3") {
		t.Errorf("410: %v", e)
	}
	srv.Get(t, "/api/v1/partner/lists/dishonest?version=1", api.ScopePartner, http.StatusGone, nil)
	srv.Get(t, "/api/v1/partner/lists/dishonest/changes?since=2", api.ScopePartner, http.StatusOK, nil)
	srv.Post(t, "/api/v1/partner/check", api.ScopePartner, api.CheckRequest{USCCs: []string{string(c.firms[0])}, AsOf: "2024-03-20"},
		http.StatusGone, nil)
	var resp api.CheckResponse
	srv.Post(t, "/api/v1/partner/check", api.ScopePartner, api.CheckRequest{USCCs: []string{string(c.firms[0])}, AsOf: "2024-03-25"},
		http.StatusOK, &resp)
	if resp.Results[0].Lists[0].Version != 2 || !resp.Results[0].Listed {
		t.Errorf("check as of 2024-03-25 with retention: %+v", resp)
	}
}

func TestAuditRecordsPullsAndChecks(t *testing.T) {
	// given a partner's pull of a snapshot, its changes, a check and a page of its watch feed, when the audit log
	// is read, then each is there with the count and the list and version it read (a check and a feed page, which
	// span both lists, with the version of each list: version_<list>)
	c, _ := listedThenWithdrawn(t, api.Options{AuditFlush: time.Hour})
	c.snapshot(model.ListDishonest, 2, "csv")
	c.changesSince(model.ListDishonest, 2, "json")
	c.srv.Post(t, "/api/v1/partner/check", api.ScopePartner, api.CheckRequest{USCCs: []string{string(c.firms[0]), string(c.firms[1])}}, http.StatusOK, nil)
	c.srv.Post(t, "/api/v1/partner/watches", api.ScopePartner, api.WatchChange{Add: []string{string(c.firms[0])}}, http.StatusOK, nil)
	var feed api.WatchEvents
	c.srv.Get(t, "/api/v1/partner/watches/events", api.ScopePartner, http.StatusOK, &feed)
	feedVersions := map[model.List]int64{}
	for _, e := range feed.Events {
		feedVersions[e.List] = max(feedVersions[e.List], e.Version)
	}
	if feedVersions[model.ListDishonest] != 3 || feedVersions[model.ListFocus] == 0 {
		t.Fatalf("the watch feed's versions %v: the test exercises too little", feedVersions)
	}
	if err := c.srv.API.Close(); err != nil { // writes the buffered records
		t.Fatal(err)
	}
	recs, err := c.s.Audit(t.Context(), warehouse.AuditQuery{Key: "test-partner"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		var d map[string]string
		json.Unmarshal([]byte(r.Detail), &d)
		if r.Method == http.MethodPost && r.Route == "/api/v1/partner/watches" {
			continue
		}
		got = append(got, fmt.Sprintf("%s items=%d list=%s version=%s dishonest=%s focus=%s", r.Route, r.Items, d["list"], d["version"],
			d["version_dishonest"], d["version_focus"]))
	}
	want := []string{"/api/v1/partner/lists/:list items=1 list=dishonest version=2 dishonest= focus=",
		"/api/v1/partner/lists/:list/changes items=1 list=dishonest version=3 dishonest= focus=",
		"/api/v1/partner/check items=2 list= version= dishonest=3 focus=3",
		fmt.Sprintf("/api/v1/partner/watches/events items=%d list= version= dishonest=3 focus=%d", len(feed.Events), feedVersions[model.ListFocus])}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestListVersionsAndPagesOfTheSnapshot(t *testing.T) {
	// given a few published versions, then: the versions route lists them newest first, each with its manifest
	// (the count its snapshot has) and its own changes, which take the count before it to its count; a JSON page
	// of a snapshot is the slice of the whole, keeps the whole version's manifest and says the total, has an
	// ETag of its own that gets 304 back; paging another format, or a bad offset or limit, is 400
	c := newListCity(t, 5, 24, 10*365*24*time.Hour, api.Options{})
	day := c.day
	for range 5 {
		day = day.AddDate(0, 0, 12)
		for range 4 {
			c.change(day)
		}
		c.run(day)
	}
	list, most := model.ListDishonest, -1
	for _, l := range model.Lists {
		if n := len(c.snapshot(l, 0, "json").entries); n > most {
			list, most = l, n
		}
	}
	if most < 4 {
		t.Fatalf("the longest list has %d entries: too few to page", most)
	}
	base := fmt.Sprintf("/api/v1/partner/lists/%s", list)

	var vs api.ListVersions
	c.srv.Get(t, base+"/versions", api.ScopeAnalyst, http.StatusOK, &vs)
	latest := c.snapshot(list, 0, "json")
	if vs.List != list || vs.Total != len(vs.Versions) || len(vs.Versions) < 2 || vs.Versions[0].Version != latest.version ||
		vs.Versions[0].Manifest != latest.manifest {
		t.Fatalf("versions %+v, latest %d %+v", vs, latest.version, latest.manifest)
	}
	for i, v := range vs.Versions {
		snap := c.snapshot(list, v.Version, "json")
		if v.Manifest != snap.manifest || v.Manifest.Count != len(snap.entries) {
			t.Errorf("version %d: manifest %+v, its snapshot %+v with %d entries", v.Version, v.Manifest, snap.manifest, len(snap.entries))
		}
		if v.Changes == nil {
			t.Errorf("version %d: no change counts (every version is retained)", v.Version)
			continue
		}
		before := 0
		if i+1 < len(vs.Versions) {
			if next := vs.Versions[i+1]; next.Version != v.Version-1 {
				t.Fatalf("version %d follows %d: not newest first", next.Version, v.Version)
			}
			before = vs.Versions[i+1].Manifest.Count
		}
		if before+v.Changes.Add-v.Changes.Remove != v.Manifest.Count {
			t.Errorf("version %d: %d entries before, changes %+v, %d after", v.Version, before, *v.Changes, v.Manifest.Count)
		}
	}
	own := c.changesSince(list, latest.version-1, "json")
	var counted api.ListChangeCounts
	for _, ch := range own.changes {
		switch ch.Op {
		case model.ListOpAdd:
			counted.Add++
		case model.ListOpRemove:
			counted.Remove++
		case model.ListOpModify:
			counted.Modify++
		}
	}
	if *vs.Versions[0].Changes != counted {
		t.Errorf("the latest version's change counts %+v, its changes %+v", *vs.Versions[0].Changes, counted)
	}
	var page api.ListVersions
	c.srv.Get(t, base+"/versions?offset=1&limit=1", api.ScopePartner, http.StatusOK, &page)
	if page.Total != vs.Total || len(page.Versions) != 1 || page.Versions[0].Version != vs.Versions[1].Version ||
		page.Versions[0].Manifest != vs.Versions[1].Manifest || *page.Versions[0].Changes != *vs.Versions[1].Changes {
		t.Errorf("versions offset 1 limit 1: %+v, want %+v", page, vs.Versions[1])
	}

	whole := c.get(base, nil, http.StatusOK)
	wholeTag := whole.Header.Get("ETag")
	var wholeBody map[string]any
	if err := json.Unmarshal([]byte(readAll(whole)), &wholeBody); err != nil {
		t.Fatal(err)
	}
	if _, ok := wholeBody["total"]; ok {
		t.Errorf("the whole snapshot says a total: %v", wholeBody["total"])
	}
	tags := map[string]string{wholeTag: "whole"}
	for _, q := range []struct{ offset, limit int }{{0, 2}, {2, 2}, {most - 1, 2}, {most, 2}, {1, most + 5}} {
		path := fmt.Sprintf("%s?format=json&offset=%d&limit=%d", base, q.offset, q.limit)
		resp := c.get(path, nil, http.StatusOK)
		var p struct {
			Version  int64              `json:"version"`
			Manifest model.ListManifest `json:"manifest"`
			Total    int                `json:"total"`
			Offset   int                `json:"offset"`
			Limit    int                `json:"limit"`
			Entries  []model.ListEntry  `json:"entries"`
		}
		if err := json.Unmarshal([]byte(readAll(resp)), &p); err != nil {
			t.Fatal(err)
		}
		want := latest.entries[min(q.offset, most):min(q.offset+q.limit, most)]
		if p.Version != latest.version || p.Manifest != latest.manifest || p.Total != most || p.Offset != q.offset || p.Limit != q.limit ||
			len(p.Entries) != len(want) {
			t.Errorf("%s: version %d manifest %+v total %d offset %d limit %d, %d entries; want %d entries of %d", path, p.Version, p.Manifest,
				p.Total, p.Offset, p.Limit, len(p.Entries), len(want), most)
			continue
		}
		for i := range want {
			if p.Entries[i].Key != want[i].Key || !bytes.Equal(p.Entries[i].AppendCanonical(nil), want[i].AppendCanonical(nil)) {
				t.Errorf("%s: entry %d is %s, the whole's %d is %s", path, i, p.Entries[i].Key, q.offset+i, want[i].Key)
			}
		}
		tag := resp.Header.Get("ETag")
		if prev, ok := tags[tag]; ok || tag == "" {
			t.Errorf("%s: ETag %q, the same as %s", path, tag, prev)
		}
		tags[tag] = path
		c.get(path, http.Header{"If-None-Match": {tag}}, http.StatusNotModified)
		if resp := c.get(path, http.Header{"If-None-Match": {wholeTag}}, http.StatusOK); resp.Header.Get("ETag") != tag {
			t.Errorf("%s: ETag %s, then %s", path, tag, resp.Header.Get("ETag"))
		}
	}
	c.get(base, http.Header{"If-None-Match": {wholeTag}}, http.StatusNotModified)
	for _, q := range []string{"offset=-1", "offset=x", "limit=0", "limit=x", "limit=10001", "format=csv&limit=2", "format=ndjson&offset=0",
		"format=arrow&offset=1&limit=5"} {
		c.get(base+"?"+q, nil, http.StatusBadRequest)
	}
	for _, q := range []string{"offset=-1", "limit=0", "limit=1001"} {
		c.srv.Get(t, base+"/versions?"+q, api.ScopePartner, http.StatusBadRequest, nil)
	}
	c.srv.Get(t, "/api/v1/partner/lists/blacklist/versions", api.ScopePartner, http.StatusNotFound, nil)
	c.srv.Get(t, base+"/versions", api.ScopeIngest, http.StatusForbidden, nil)
}
