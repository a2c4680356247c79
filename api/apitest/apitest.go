// Package apitest runs the API in tests: a real server over a real
// warehouse with a key of every scope, and requests whose responses are
// checked against the OpenAPI document (the contract) as they come back.
//
//	srv := apitest.Start(t, store, readModel, api.Options{})
//	var page api.ScoreList
//	srv.Get(t, "/api/v1/scores?grade=D", api.ScopeAnalyst, http.StatusOK, &page)
//
// Every response Do sees must match the document: its status must be
// documented for the route, and its body must match the schema of that
// status and content type. A route missing from the document fails the test.
package apitest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/qcredit/qcredit/api"
	"github.com/qcredit/qcredit/model"
)

// Keys creates a key of every scope in store and returns them by scope.
// The ingest key is the city bureau's (320800), which may report for every
// county; the analyst key is city-wide.
func Keys(t testing.TB, store api.KeyStore) map[api.Scope]string {
	t.Helper()
	keys := map[api.Scope]string{}
	for _, sc := range api.Scopes {
		q := api.KeyRequest{Name: "test-" + string(sc), Scope: sc}
		if sc == api.ScopeIngest {
			q.Source = model.CityHuaian
		}
		keys[sc] = CreateKey(t, store, q)
	}
	return keys
}

// CreateKey creates one key and returns it.
func CreateKey(t testing.TB, store api.KeyStore, q api.KeyRequest) string {
	t.Helper()
	key, _, err := api.CreateKey(t.Context(), store, q, time.Now())
	if err != nil {
		t.Fatalf("create key %s: %v", q.Name, err)
	}
	return key
}

// Server is an API under test.
type Server struct {
	*httptest.Server
	API  *api.Server
	Keys map[api.Scope]string
	// Contract checks responses against the OpenAPI document; nil skips.
	Contract *Contract
}

// Start creates a key of every scope in store, then starts the API over
// store and rm; the test's cleanup stops it.
func Start(t testing.TB, store api.Warehouse, rm api.ReadModel, opts api.Options) *Server {
	t.Helper()
	keys := Keys(t, store)
	a, err := api.New(t.Context(), store, rm, discard, opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() {
		srv.Close()
		if err := a.Close(); err != nil {
			t.Errorf("close api: %v", err)
		}
	})
	return &Server{Server: srv, API: a, Keys: keys, Contract: LoadContract(t)}
}

// Replica starts another API over the same store with the keys of srv:
// a second replica, as `serve` on another machine would be.
func Replica(t testing.TB, srv *Server, store api.Warehouse, rm api.ReadModel, opts api.Options) *Server {
	t.Helper()
	a, err := api.New(t.Context(), store, rm, discard, opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(a.Handler())
	t.Cleanup(func() {
		hs.Close()
		if err := a.Close(); err != nil {
			t.Errorf("close api: %v", err)
		}
	})
	return &Server{Server: hs, API: a, Keys: srv.Keys, Contract: srv.Contract}
}

// Get is Do with GET and no body.
func (s *Server) Get(t testing.TB, path string, scope api.Scope, wantStatus int, into any) *http.Response {
	t.Helper()
	return s.Do(t, http.MethodGet, path, scope, nil, wantStatus, into)
}

// Post is Do with POST and a JSON body (a []byte or string is sent as is).
func (s *Server) Post(t testing.TB, path string, scope api.Scope, body any, wantStatus int, into any) *http.Response {
	t.Helper()
	var b []byte
	switch v := body.(type) {
	case []byte:
		b = v
	case string:
		b = []byte(v)
	default:
		var err error
		if b, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	return s.Do(t, http.MethodPost, path, scope, b, wantStatus, into)
}

// Do sends a request with the key of scope ("" sends none), fails the test
// unless the status is wantStatus (0 accepts any) and the response matches
// the contract, and decodes a JSON body into into (when not nil). The
// response's body is read; Body holds it again for the caller.
func (s *Server) Do(t testing.TB, method, path string, scope api.Scope, body []byte, wantStatus int, into any) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, s.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if scope != "" {
		req.Header.Set("Authorization", "Bearer "+s.Keys[scope])
	}
	return s.Send(t, req, body, wantStatus, into)
}

// Send is Do for a request the caller built (its headers, its key).
func (s *Server) Send(t testing.TB, req *http.Request, body []byte, wantStatus int, into any) *http.Response {
	t.Helper()
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(got))
	if wantStatus != 0 && resp.StatusCode != wantStatus {
		t.Fatalf("%s %s: status %d, want %d: %.500s", req.Method, req.URL.Path, resp.StatusCode, wantStatus, got)
	}
	if s.Contract != nil {
		s.Contract.Check(t, req, body, resp, got)
	}
	if into != nil {
		if err := json.Unmarshal(got, into); err != nil {
			t.Fatalf("%s %s: decode: %v: %.500s", req.Method, req.URL.Path, err, got)
		}
	}
	return resp
}
