package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/qcredit/qcredit/api"
	"github.com/qcredit/qcredit/lists"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// listedCity is a city where firms 0 and 1 are listed (heavy penalties of
// 2024-03-04, one firm 1's with an upheld objection to a second penalty in
// its notice period) and firm 2 is not.
func listedCity(t *testing.T) *listCity {
	t.Helper()
	c := newListCity(t, 3, 3, 10*365*24*time.Hour, api.Options{})
	at := day("2024-03-04").Add(10 * time.Hour)
	heavy := func(u model.USCC, no, violation string, at time.Time) warehouse.Item {
		return c.event(model.EventPenaltyDecided, u, at, map[string]any{"case_no": no, "violation": violation, "severity": "heavy"})
	}
	// Different violations: two of one would also list the repetition.
	c.write([]warehouse.Item{heavy(c.firms[0], "罚A", "counterfeit", at), heavy(c.firms[1], "罚B", "counterfeit", at),
		heavy(c.firms[1], "罚C", "unlicensed", at.AddDate(0, 0, 7)),
		c.event(model.EventListingObjectionReceived, c.firms[1], at.AddDate(0, 0, 8), map[string]any{"objection_id": "SB-1",
			"key": lists.DishonestKey(c.firms[1], "serious.heavy_penalty", "罚C"), "statement": "检验报告有误"}),
		c.event(model.EventListingObjectionDecided, c.firms[1], at.AddDate(0, 0, 10), map[string]any{"objection_id": "SB-1",
			"outcome": "upheld", "decision_no": "淮市监复〔2024〕3号"})})
	c.run(day("2024-04-10"))
	return c
}

func TestPublicDisclosureOfTheDishonestList(t *testing.T) {
	// given two listed firms, when the public pages through the serious dishonest list, then each page holds
	// the public fields (no entry key, no source events) with the measures by name, paged by offset and limit
	c := listedCity(t)
	var page api.PublicListPage
	c.srv.Get(t, "/api/v1/public/lists/dishonest?limit=1", "", http.StatusOK, &page)
	if page.Total != 2 || len(page.Items) != 1 || page.Version != 1 || page.Items[0].Reason == "" || page.Items[0].ExpiresAt == "" ||
		!strings.Contains(strings.Join(page.Items[0].Measures, "；"), "限制参加政府采购活动") {
		t.Fatalf("page 1: %+v", page)
	}
	var second api.PublicListPage
	c.srv.Get(t, "/api/v1/public/lists/dishonest?limit=1&offset=1", "", http.StatusOK, &second)
	if len(second.Items) != 1 || second.Items[0].USCC == page.Items[0].USCC {
		t.Errorf("page 2: %+v", second)
	}
	c.srv.Get(t, "/api/v1/public/lists/dishonest?offset=2", "", http.StatusOK, &second)
	if len(second.Items) != 0 {
		t.Errorf("past the end: %+v", second)
	}
	var raw struct{ Items []map[string]any }
	c.srv.Get(t, "/api/v1/public/lists/dishonest?limit=1", "", http.StatusOK, &raw)
	if _, hasKey := raw.Items[0]["key"]; hasKey {
		t.Errorf("the public page shows entry keys: %v", raw.Items[0])
	}
	c.srv.Get(t, "/api/v1/public/lists/dishonest?limit=500", "", http.StatusBadRequest, nil)
}

func TestPublicLookupShowsTheListingInOneLine(t *testing.T) {
	// given a listed firm and an unlisted one, when the public looks them up, then the listed one's answer
	// has one line with the reason and the expiry, and the unlisted one's none
	c := listedCity(t)
	var listed, clean api.PublicEnterprise
	c.srv.Get(t, "/api/v1/public/enterprises/"+string(c.firms[0]), "", http.StatusOK, &listed)
	c.srv.Get(t, "/api/v1/public/enterprises/"+string(c.firms[2]), "", http.StatusOK, &clean)
	if !strings.HasPrefix(listed.Listing, "列入严重违法失信名单：") || !strings.Contains(listed.Listing, "罚A") ||
		!strings.Contains(listed.Listing, "届满移出") || strings.Contains(listed.Listing, "\n") || clean.Listing != "" {
		t.Errorf("listed %q, clean %q", listed.Listing, clean.Listing)
	}
}

func TestCreditFileShowsTheListingHistory(t *testing.T) {
	// given firm 1 listed for one penalty and not listed for another after an upheld objection, when an analyst
	// opens its credit file, then the listing history has both entries with their states and the removal
	// reason, what the published version held, and the objection with its decision
	c := listedCity(t)
	var file api.CreditFile
	c.srv.Get(t, "/api/v1/enterprises/"+string(c.firms[1]), api.ScopeAnalyst, http.StatusOK, &file)
	l := file.Listings
	if l == nil || len(l.Entries) != 2 {
		t.Fatalf("listings %+v", l)
	}
	states := map[string]model.ListEntry{}
	for _, e := range l.Entries {
		states[e.Key[strings.LastIndex(e.Key, ":")+1:]] = e
	}
	if states["罚B"].State != model.ListStateListed || states["罚C"].State != model.ListStateNotListed ||
		states["罚C"].RemovedReason != model.RemovalObjectionUpheld || states["罚C"].RemovedAt == "" {
		t.Errorf("entries %+v", l.Entries)
	}
	published := map[model.List]int{}
	for _, p := range l.Published {
		published[p.List]++
		if p.FromVersion != 1 || p.ToVersion != 0 {
			t.Errorf("published %+v", p)
		}
	}
	if published[model.ListDishonest] != 1 || published[model.ListFocus] != 1 {
		t.Errorf("published %+v", l.Published)
	}
	if len(l.Objections) != 1 || l.Objections[0].Outcome != "upheld" || l.Objections[0].DecisionNo != "淮市监复〔2024〕3号" ||
		l.Objections[0].Statement != "检验报告有误" || l.Objections[0].DecidedAt == nil {
		t.Errorf("objections %+v", l.Objections)
	}
}

func TestPublicDishonestListLeavesOutExpiredEntries(t *testing.T) {
	// given two firms listed on 2024-03 for 36 months and no version published since, when the public pages
	// through the list the day before and the day after their expires_at, then they show before and not after
	// (total 0), as the lookup's listing line
	c := listedCity(t)
	var page api.PublicListPage
	c.srv.Get(t, "/api/v1/public/lists/dishonest", "", http.StatusOK, &page)
	if page.Total != 2 || len(page.Items) != 2 || page.Items[0].ExpiresAt == "" {
		t.Fatalf("before expiry: %+v", page)
	}
	expires := day(page.Items[0].ExpiresAt)
	c.setNow(expires.Add(-time.Hour))
	c.srv.Get(t, "/api/v1/public/lists/dishonest", "", http.StatusOK, &page)
	if page.Total == 0 {
		t.Fatalf("the day before %s: %+v", expires.Format(time.DateOnly), page)
	}
	c.setNow(expires.AddDate(0, 0, 1).Add(time.Hour))
	c.srv.Get(t, "/api/v1/public/lists/dishonest", "", http.StatusOK, &page)
	if page.Total != 0 || len(page.Items) != 0 || page.Version != 1 {
		t.Errorf("after %s, no version since: %+v", expires.Format(time.DateOnly), page)
	}
	var p api.PublicEnterprise
	c.srv.Get(t, "/api/v1/public/enterprises/"+string(c.firms[0]), "", http.StatusOK, &p)
	if p.Listing != "" {
		t.Errorf("the lookup still shows the expired listing: %q", p.Listing)
	}
}
