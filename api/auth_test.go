package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qcredit/qcredit/api"
	"github.com/qcredit/qcredit/api/apitest"
	"github.com/qcredit/qcredit/pipelines"
	"github.com/qcredit/qcredit/serving"
	"github.com/qcredit/qcredit/warehouse/duckdb/duckdbtest"
)

// clock is a settable clock for the API's Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// pathFor fills a route's parameters with values that exist where the
// tests have them (the firm's USCC) and harmless ones elsewhere.
func pathFor(route string) string {
	parts := strings.Split(route, "/")
	for i, p := range parts {
		if strings.HasPrefix(p, ":") {
			switch p {
			case ":uscc":
				parts[i] = string(firmA)
			default:
				parts[i] = "x1"
			}
		}
	}
	return strings.Join(parts, "/")
}

func TestScopeMatrix(t *testing.T) {
	// Given every registered route and a key of each scope, a revoked key and
	// an expired one, when each calls each route, then: no key passes public
	// routes only (401 elsewhere); a key passes the routes that accept its
	// scope and every public route, and gets 403 elsewhere; a revoked or
	// expired key gets 401 everywhere, saying which. Every answer matches the
	// OpenAPI document and none is a 5xx.
	s := duckdbtest.Open(t)
	scoredWarehouse(t, s)
	clk := newClock()
	revoked := apitest.CreateKey(t, s, api.KeyRequest{Name: "gone", Scope: api.ScopeAnalyst})
	if _, err := api.RevokeKey(t.Context(), s, "gone", time.Now()); err != nil {
		t.Fatal(err)
	}
	expired := apitest.CreateKey(t, s, api.KeyRequest{Name: "old", Scope: api.ScopeAnalyst, Expires: time.Now().Add(time.Hour)})
	runner := runnerFor(t, s)
	srv := apitest.Start(t, s, loadedModel(t, s, serving.Options{}), api.Options{Now: clk.Now,
		PublicRate: api.RateLimit{PerSecond: 1e6, Burst: 1e6}, Runner: runner,
		Draws: pipelines.NewLottery(s, runner, quiet, pipelines.LotteryOptions{})})
	clk.Add(2 * time.Hour) // the expired key is past its expiry, the others have none

	type caller struct {
		name, key string
		scope     api.Scope // the key's scope; "" for no key
		code      string    // the 401 code expected everywhere, if any
	}
	callers := []caller{{name: "no key"}, {name: "revoked", key: revoked, code: "key_revoked"},
		{name: "expired", key: expired, code: "key_expired"}, {name: "not a key", key: "qck_nonsense", code: "invalid_key"}}
	for _, sc := range api.Scopes {
		callers = append(callers, caller{name: string(sc), key: srv.Keys[sc], scope: sc})
	}
	routes := srv.API.Routes()
	if len(routes) < 4 {
		t.Fatalf("only %d routes registered", len(routes))
	}
	for _, rt := range routes {
		public := contains(rt.Scopes, api.ScopePublic)
		for _, cl := range callers {
			t.Run(fmt.Sprintf("%s %s by %s", rt.Method, rt.Path, cl.name), func(t *testing.T) {
				req, err := http.NewRequestWithContext(t.Context(), rt.Method, srv.URL+pathFor(rt.Path), strings.NewReader("[]"))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Content-Type", "application/json")
				if cl.key != "" {
					req.Header.Set("Authorization", "Bearer "+cl.key)
				}
				var body struct {
					Error struct{ Code string } `json:"error"`
				}
				resp := srv.Send(t, req, []byte("[]"), 0, nil)
				decodeError(resp, &body)
				want := "allowed"
				switch {
				case cl.code != "":
					want = "401 " + cl.code
				case cl.key == "" && !public:
					want = "401 unauthenticated"
				case cl.key != "" && !public && !contains(rt.Scopes, cl.scope):
					want = "403 forbidden"
				}
				got := "allowed"
				if resp.StatusCode == 401 || resp.StatusCode == 403 {
					got = fmt.Sprintf("%d %s", resp.StatusCode, body.Error.Code)
				}
				if got != want || resp.StatusCode >= 500 {
					t.Errorf("status %d (%s), want %s", resp.StatusCode, got, want)
				}
				if resp.StatusCode == 401 && resp.Header.Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
			})
		}
	}
}

func contains(scopes []api.Scope, s api.Scope) bool {
	for _, x := range scopes {
		if x == s {
			return true
		}
	}
	return false
}
