package api_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qcredit/qcredit/api"
	"github.com/qcredit/qcredit/api/apitest"
	"github.com/qcredit/qcredit/serving"
	"github.com/qcredit/qcredit/warehouse/duckdb/duckdbtest"
)

func TestKeyLifecycleAcrossReplicas(t *testing.T) {
	// Given two API replicas over one warehouse, when a key is created
	// through the warehouse, then the other replica takes it within its key
	// refresh, listing never shows it, and once revoked it fails on both.
	s := duckdbtest.Open(t)
	scoredWarehouse(t, s)
	rm := loadedModel(t, s, serving.Options{})
	a := apitest.Start(t, s, rm, api.Options{})
	b := apitest.Replica(t, a, s, rm, api.Options{KeyRefresh: 20 * time.Millisecond})

	key := apitest.CreateKey(t, s, api.KeyRequest{Name: "county-analyst", Scope: api.ScopeAnalyst, Source: "320830"})
	if !strings.HasPrefix(key, "qck_") || len(key) != 4+13+1+52 {
		t.Fatalf("key %q does not read qck_<13>_<52>", key)
	}
	call := func(srv *apitest.Server, key string) int {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", srv.URL+"/api/v1/scores", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		return srv.Send(t, req, nil, 0, nil).StatusCode
	}
	waitFor(t, "replica b takes the new key", func() bool { return call(b, key) == http.StatusOK })
	if err := a.API.ReloadKeys(t.Context()); err != nil { // what the admin socket does after keys create
		t.Fatal(err)
	}
	if got := call(a, key); got != http.StatusOK {
		t.Fatalf("replica a after reload: %d", got)
	}

	keys, err := api.ListKeys(t.Context(), s, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	listed, _ := json.Marshal(keys)
	secret := key[len("qck_")+13+1:]
	if strings.Contains(string(listed), secret) {
		t.Fatalf("keys list shows the secret: %s", listed)
	}
	if _, _, err := api.CreateKey(t.Context(), s, api.KeyRequest{Name: "county-analyst", Scope: api.ScopeAnalyst}, time.Now()); err == nil {
		t.Error("a second key of the same name was created")
	}

	if _, err := api.RevokeKey(t.Context(), s, "county-analyst", time.Now()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "replica b drops the revoked key", func() bool { return call(b, key) == http.StatusUnauthorized })
	if err := a.API.ReloadKeys(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := call(a, key); got != http.StatusUnauthorized {
		t.Errorf("replica a after the revoke: %d", got)
	}
	// The name is free again, for a new key.
	again := apitest.CreateKey(t, s, api.KeyRequest{Name: "county-analyst", Scope: api.ScopeAnalyst})
	a.API.ReloadKeys(t.Context())
	if call(a, again) != http.StatusOK || call(a, key) != http.StatusUnauthorized {
		t.Error("after re-creating the name: the new key must work and the old one not")
	}
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10 s", what)
		}
		time.Sleep(10 * time.Millisecond) // polling a condition, with a deadline
	}
}

func TestKeyRequestValidation(t *testing.T) {
	bad := []api.KeyRequest{
		{Name: "", Scope: api.ScopeAnalyst},
		{Name: "Has Space", Scope: api.ScopeAnalyst},
		{Name: "x", Scope: "root"},
		{Name: "x", Scope: api.ScopeIngest},                    // an ingest key needs its region
		{Name: "x", Scope: api.ScopeIngest, Source: "110101"},  // not Huai'an
		{Name: "x", Scope: api.ScopePartner, Source: "320830"}, // partners are not bound
		{Name: "x", Scope: api.ScopeAnalyst, Source: "320899"}, // no such county
	}
	for _, q := range bad {
		if q.Validate() == nil {
			t.Errorf("%+v was accepted", q)
		}
	}
	if err := (api.KeyRequest{Name: "qingjiangpu.ingest", Scope: api.ScopeIngest, Source: "320812"}).Validate(); err != nil {
		t.Errorf("a good request: %v", err)
	}
	exp, err := api.ParseExpiry("2026-12-31")
	if err != nil || exp.Format(time.RFC3339) != "2027-01-01T00:00:00+08:00" {
		t.Errorf("--expires 2026-12-31 works through that day in Shanghai: %v %v", exp, err)
	}
	// A key that would be expired when made is refused, and nothing is stored.
	s := duckdbtest.Open(t)
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for _, at := range []time.Time{now, now.Add(-time.Hour)} {
		_, _, err := api.CreateKey(t.Context(), s, api.KeyRequest{Name: "late", Scope: api.ScopeAnalyst, Expires: at}, now)
		if err == nil || !strings.Contains(err.Error(), "not in the future") {
			t.Errorf("expires %v at %v: err %v, want a refusal", at, now, err)
		}
	}
	if recs, err := s.KeyRecords(t.Context()); err != nil || len(recs) != 0 {
		t.Errorf("after refusals the store holds %d key records (%v)", len(recs), err)
	}
	if _, _, err := api.CreateKey(t.Context(), s, api.KeyRequest{Name: "late", Scope: api.ScopeAnalyst, Expires: now.Add(time.Minute)}, now); err != nil {
		t.Errorf("a key expiring in a minute: %v", err)
	}
}

func TestPublicRateLimit(t *testing.T) {
	// Given the default public limit (10/s, bursts of 50) and a clock that
	// only moves when told, when one client sends 50 requests at once, then
	// they pass and the 51st gets 429 with Retry-After; another client is
	// not affected; after 0.1 s one more passes, after 5 s a full burst.
	s := duckdbtest.Open(t)
	scoredWarehouse(t, s)
	clk := newClock()
	srv := apitest.Start(t, s, loadedModel(t, s, serving.Options{}), api.Options{Now: clk.Now,
		TrustedProxies: []string{"127.0.0.1"}})
	path := "/api/v1/public/enterprises/" + string(firmA)
	from := func(client string) *http.Response {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", srv.URL+path, nil)
		req.Header.Set("X-Forwarded-For", client)
		return srv.Send(t, req, nil, 0, nil)
	}
	for i := range 50 {
		if r := from("203.0.113.7"); r.StatusCode != http.StatusOK {
			t.Fatalf("request %d of the burst: %d", i+1, r.StatusCode)
		}
	}
	r := from("203.0.113.7")
	var body apiError
	json.NewDecoder(r.Body).Decode(&body)
	if r.StatusCode != http.StatusTooManyRequests || body.Error.Code != "rate_limited" {
		t.Fatalf("request 51: %d %+v", r.StatusCode, body)
	}
	if ra, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || ra != 1 {
		t.Errorf("Retry-After %q, want 1 (a token comes back in 0.1 s)", r.Header.Get("Retry-After"))
	}
	if r := from("198.51.100.1"); r.StatusCode != http.StatusOK {
		t.Errorf("another client: %d", r.StatusCode)
	}
	clk.Add(100 * time.Millisecond)
	if r := from("203.0.113.7"); r.StatusCode != http.StatusOK {
		t.Errorf("after 0.1 s: %d", r.StatusCode)
	}
	if r := from("203.0.113.7"); r.StatusCode != http.StatusTooManyRequests {
		t.Errorf("the next at once: %d", r.StatusCode)
	}
	clk.Add(5 * time.Second)
	for i := range 50 {
		if r := from("203.0.113.7"); r.StatusCode != http.StatusOK {
			t.Fatalf("after 5 s, request %d of a new burst: %d", i+1, r.StatusCode)
		}
	}
	// IPv6 clients count by their /64: the host part is the subscriber's.
	for i := range 50 {
		if r := from("2001:db8:1:2::" + strconv.Itoa(i+1)); r.StatusCode != http.StatusOK {
			t.Fatalf("v6 request %d: %d", i+1, r.StatusCode)
		}
	}
	if r := from("2001:db8:1:2::ffff"); r.StatusCode != http.StatusTooManyRequests {
		t.Errorf("another address of the same /64: %d", r.StatusCode)
	}
}

func TestAuditRecordsKeyedCalls(t *testing.T) {
	// Given calls by an analyst (one refused for its scope), a partner
	// refused, and the public, when the admin reads the audit log, then it
	// has each keyed call with key, scope, route, parameters, status and
	// items, and no anonymous call.
	s := duckdbtest.Open(t)
	scoredWarehouse(t, s)
	srv := apitest.Start(t, s, loadedModel(t, s, serving.Options{}), api.Options{})
	srv.Get(t, "/api/v1/scores?grade=D&limit=5", api.ScopeAnalyst, http.StatusOK, nil)
	srv.Get(t, "/api/v1/scores", api.ScopePartner, http.StatusForbidden, nil)
	srv.Get(t, "/api/v1/public/enterprises/"+string(firmA), "", http.StatusOK, nil)
	srv.Get(t, "/api/v1/enterprises/"+string(firmB), api.ScopeAnalyst, http.StatusOK, nil)

	var log api.AuditList
	srv.Get(t, "/api/v1/audit?scope=analyst", api.ScopeAdmin, http.StatusOK, &log)
	if len(log.Items) != 2 {
		t.Fatalf("analyst calls audited: %+v", log.Items)
	}
	first := log.Items[0]
	if first.Key != "test-analyst" || first.Route != "/api/v1/scores" || first.Status != 200 || first.Items != 1 ||
		first.Params["grade"] != "D" || first.Params["limit"] != "5" || first.Method != "GET" {
		t.Errorf("scores call: %+v", first)
	}
	if second := log.Items[1]; second.Params["uscc"] != string(firmB) || second.Route != "/api/v1/enterprises/:uscc" || second.Items != 1 {
		t.Errorf("credit file call: %+v", second)
	}
	srv.Get(t, "/api/v1/audit", api.ScopeAdmin, http.StatusOK, &log)
	var partner, anonymous int
	for _, it := range log.Items {
		switch it.Key {
		case "test-partner":
			partner++
			if it.Status != http.StatusForbidden {
				t.Errorf("partner call: %+v", it)
			}
		case "":
			anonymous++
		}
	}
	if partner != 1 || anonymous != 0 {
		t.Errorf("partner calls %d (want 1), anonymous %d (want 0)", partner, anonymous)
	}
	srv.Get(t, "/api/v1/audit?since=yesterday", api.ScopeAdmin, http.StatusBadRequest, nil)
}
