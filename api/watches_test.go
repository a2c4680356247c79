package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qcredit/qcredit/api"
	"github.com/qcredit/qcredit/api/apitest"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/serving"
	"github.com/qcredit/qcredit/warehouse"
)

func TestWatchFeedIsReplayable(t *testing.T) {
	// given a partner watching firm 0 of a city where firm 0 was listed and withdrawn and firm 1 never
	// changed, when it reads the watch feed from the start, then it gets firm 0's changes only, in
	// publication order; the same cursor gives the same events again; a page of one event at a time walks
	// the same events; the last next_cursor gives nothing new; a cursor it never got is refused
	c, _ := listedThenWithdrawn(t, api.Options{})
	var w api.Watches
	c.srv.Post(t, "/api/v1/partner/watches", api.ScopePartner, api.WatchChange{Add: []string{string(c.firms[0]), string(c.firms[2])},
		Remove: []string{string(c.firms[2])}}, http.StatusOK, &w)
	if !slices.Equal(w.USCCs, []model.USCC{c.firms[0]}) || w.Webhook != nil {
		t.Fatalf("watches %+v", w)
	}
	var all, again api.WatchEvents
	c.srv.Get(t, "/api/v1/partner/watches/events", api.ScopePartner, http.StatusOK, &all)
	c.srv.Get(t, "/api/v1/partner/watches/events?cursor=", api.ScopePartner, http.StatusOK, &again)
	var ops []string
	for _, e := range all.Events {
		if e.USCC != c.firms[0] {
			t.Errorf("an event of unwatched %s", e.USCC)
		}
		ops = append(ops, string(e.List)+" "+string(e.Op))
	}
	dishonest := slices.DeleteFunc(slices.Clone(ops), func(s string) bool { return !strings.HasPrefix(s, "dishonest") })
	if !slices.Equal(dishonest, []string{"dishonest add", "dishonest remove"}) || len(again.Events) != len(all.Events) || all.More {
		t.Fatalf("events %v (again %d)", ops, len(again.Events))
	}
	for i := 1; i < len(all.Events); i++ {
		if all.Events[i].PublishedAt.Before(all.Events[i-1].PublishedAt) {
			t.Errorf("event %d published before the one before it", i)
		}
	}
	cursor, n := "", 0
	for {
		var page api.WatchEvents
		c.srv.Get(t, "/api/v1/partner/watches/events?limit=1&cursor="+cursor, api.ScopePartner, http.StatusOK, &page)
		if len(page.Events) == 0 {
			break
		}
		if page.Events[0].Cursor != all.Events[n].Cursor || page.NextCursor != page.Events[0].Cursor {
			t.Fatalf("page %d: %+v, want the event at %s", n, page, all.Events[n].Cursor)
		}
		cursor, n = page.NextCursor, n+1
	}
	if n != len(all.Events) {
		t.Errorf("paged %d events of %d", n, len(all.Events))
	}
	var end api.WatchEvents
	c.srv.Get(t, "/api/v1/partner/watches/events?cursor="+all.NextCursor, api.ScopePartner, http.StatusOK, &end)
	if len(end.Events) != 0 || end.NextCursor != all.NextCursor {
		t.Errorf("after the last cursor: %+v", end)
	}
	c.srv.Get(t, "/api/v1/partner/watches/events?cursor=dishonest.99.0", api.ScopePartner, http.StatusBadRequest, nil)
	c.srv.Post(t, "/api/v1/partner/watches", api.ScopeAnalyst, api.WatchChange{Add: []string{string(c.firms[1])}}, http.StatusForbidden, nil)
	c.srv.Post(t, "/api/v1/partner/watches", api.ScopePartner, api.WatchChange{Add: []string{"not-a-code"}}, http.StatusBadRequest, nil)
}

// receiver is a partner's webhook endpoint: it checks signatures, fails
// the first failures posts, and counts the posts of each delivery.
type receiver struct {
	mu       sync.Mutex
	secret   string
	failures int
	posts    map[string]int // delivery → posts answered 2xx
	attempts map[string]int
	bad      []string
	events   []serving.FeedEvent
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	id := r.Header.Get("Qcredit-Delivery")
	rc.attempts[id]++
	if got := r.Header.Get("Qcredit-Signature"); got != api.Sign(rc.secret, body) {
		rc.bad = append(rc.bad, id+": signature "+got)
	}
	if rc.failures > 0 {
		rc.failures--
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var e serving.FeedEvent
	if err := json.Unmarshal(body, &e); err != nil || e.Cursor != id {
		rc.bad = append(rc.bad, id+": body "+string(body))
	}
	rc.posts[id]++
	rc.events = append(rc.events, e)
	w.WriteHeader(http.StatusNoContent)
}

func (rc *receiver) delivered() map[string]int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := map[string]int{}
	for k, v := range rc.posts {
		out[k] = v
	}
	return out
}

// waitDelivered polls until the partner's delivered cursor in the warehouse
// is want.
func waitDelivered(t *testing.T, s api.PartnerStore, partner, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		recs, err := s.PartnerRecords(t.Context(), warehouse.PartnerQuery{Partner: partner,
			Kinds: []warehouse.PartnerKind{warehouse.PartnerDelivered}, Latest: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 1 && recs[0].Key == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivered up to %+v, want %s", recs, want)
		}
		time.Sleep(20 * time.Millisecond) // polling with a deadline, not synchronisation
	}
}

func TestWebhooksDeliverEachChangeOnceAcrossReplicas(t *testing.T) {
	// given two API replicas on one warehouse and a partner watching firms 0 and 1 with a webhook that fails
	// its first two posts, when firm 0 is listed (and firm 2, unwatched, too), then the lease holder delivers
	// firm 0's changes, retrying the first with backoff; when that replica stops and firm 1 is listed, the
	// other takes over from the recorded cursor; every change of a watched firm arrives once, signed with the
	// partner's secret, none of an unwatched one, and every delivery is in the audit log
	opts := api.Options{WebhookInterval: 20 * time.Millisecond, WebhookBackoff: 10 * time.Millisecond, AuditFlush: time.Hour,
		KeyRefresh: 20 * time.Millisecond}
	c := newListCity(t, 2, 3, 10*365*24*time.Hour, opts)
	rc := &receiver{failures: 2, posts: map[string]int{}, attempts: map[string]int{}}
	hook := httptest.NewServer(rc)
	defer hook.Close()
	second := apitest.Replica(t, c.srv, c.s, c.rm, opts)

	c.srv.Post(t, "/api/v1/partner/watches", api.ScopePartner, api.WatchChange{Add: []string{string(c.firms[0]), string(c.firms[1])}}, http.StatusOK, nil)
	var wh api.Webhook
	c.srv.Do(t, http.MethodPut, "/api/v1/partner/watches/webhook", api.ScopePartner, []byte(`{"url":"`+hook.URL+`/qcredit"}`), http.StatusOK, &wh)
	rc.mu.Lock()
	rc.secret = wh.Secret
	rc.mu.Unlock()
	if len(wh.Secret) != 64 {
		t.Fatalf("webhook %+v", wh)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) { // the other replica reloads partners
		var w api.Watches
		second.Get(t, "/api/v1/partner/watches", api.ScopePartner, http.StatusOK, &w)
		if w.Webhook != nil && w.Webhook.URL == hook.URL+"/qcredit" && w.Webhook.Secret == "" && len(w.USCCs) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the other replica's watches %+v", w)
		}
	}
	heavy := func(u model.USCC, no, on string) warehouse.Item {
		return c.event(model.EventPenaltyDecided, u, day(on).Add(10*time.Hour), map[string]any{"case_no": no, "violation": "unlicensed", "severity": "heavy"})
	}
	feed := func() api.WatchEvents {
		var all api.WatchEvents
		c.srv.Get(t, "/api/v1/partner/watches/events", api.ScopePartner, http.StatusOK, &all)
		return all
	}
	c.write([]warehouse.Item{heavy(c.firms[0], "罚1", "2024-03-04"), heavy(c.firms[2], "罚2", "2024-03-04")})
	c.run(day("2024-03-04"))
	c.run(day("2024-03-20"))
	first := feed()
	if len(first.Events) == 0 {
		t.Fatal("no event for firm 0")
	}
	waitDelivered(t, c.s, "test-partner", first.NextCursor)
	if err := c.srv.API.Close(); err != nil { // the first replica stops: its lease is released
		t.Fatal(err)
	}
	c.write([]warehouse.Item{heavy(c.firms[1], "罚3", "2024-04-01")})
	c.run(day("2024-04-20"))
	all := feed()
	waitDelivered(t, c.s, "test-partner", all.NextCursor)

	got := rc.delivered()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.bad) > 0 {
		t.Errorf("bad deliveries: %v", rc.bad)
	}
	for _, e := range all.Events {
		if got[e.Cursor] != 1 {
			t.Errorf("change %s (%s %s of %s) delivered %d times", e.Cursor, e.List, e.Op, e.USCC, got[e.Cursor])
		}
		delete(got, e.Cursor)
	}
	if len(got) > 0 || rc.attempts[all.Events[0].Cursor] != 3 {
		t.Errorf("deliveries beyond the feed %v; attempts of the first %d (want 3: two failures)", got, rc.attempts[all.Events[0].Cursor])
	}
	if err := second.API.Close(); err != nil {
		t.Fatal(err)
	}
	recs, err := c.s.Audit(t.Context(), warehouse.AuditQuery{Route: "webhook"})
	if err != nil || len(recs) != len(all.Events)+2 {
		t.Errorf("%d deliveries audited, want %d (%v)", len(recs), len(all.Events)+2, err)
	}
}
