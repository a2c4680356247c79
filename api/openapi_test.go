package api_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/qcredit/qcredit/api"
	"github.com/qcredit/qcredit/api/apitest"
	"github.com/qcredit/qcredit/serving"
	"github.com/qcredit/qcredit/warehouse/duckdb/duckdbtest"
)

func TestEveryRouteIsInTheContract(t *testing.T) {
	// Given the registered routes and the OpenAPI document, then every route
	// is an operation of the document declaring the same scopes (x-scopes)
	// and a bearer requirement unless public, and every /api/v1 operation of
	// the document is a registered route.
	s := duckdbtest.Open(t)
	srv := apitest.Start(t, s, loadedModel(t, s, serving.Options{}), api.Options{})
	doc := srv.Contract.Doc
	registered := map[string]bool{}
	for _, rt := range srv.API.Routes() {
		path := api.OpenAPIPath(rt.Path)
		registered[rt.Method+" "+path] = true
		item := doc.Paths.Find(path)
		if item == nil || item.GetOperation(rt.Method) == nil {
			t.Errorf("%s %s is not in the OpenAPI document", rt.Method, path)
			continue
		}
		op := item.GetOperation(rt.Method)
		var declared []string
		if raw, ok := op.Extensions["x-scopes"].([]any); ok {
			for _, v := range raw {
				declared = append(declared, v.(string))
			}
		}
		var want []string
		for _, sc := range rt.Scopes {
			want = append(want, string(sc))
		}
		slices.Sort(declared)
		slices.Sort(want)
		if !slices.Equal(declared, want) {
			t.Errorf("%s %s: x-scopes %v, registered with %v", rt.Method, path, declared, want)
		}
		public := slices.Contains(rt.Scopes, api.ScopePublic)
		if secured := op.Security != nil && len(*op.Security) > 0; secured == public {
			t.Errorf("%s %s: security requirement %v for a route that is public=%v", rt.Method, path, secured, public)
		}
		for _, status := range []string{"401"} {
			if op.Responses.Value(status) == nil {
				t.Errorf("%s %s does not document %s", rt.Method, path, status)
			}
		}
		if !public && op.Responses.Value("403") == nil {
			t.Errorf("%s %s does not document 403", rt.Method, path)
		}
		if public && op.Responses.Value("429") == nil {
			t.Errorf("%s %s does not document 429", rt.Method, path)
		}
	}
	for path, item := range doc.Paths.Map() {
		if !strings.HasPrefix(path, "/api/v1/") {
			continue
		}
		for method := range item.Operations() {
			if !registered[method+" "+path] {
				t.Errorf("the document has %s %s, which no route serves", method, path)
			}
		}
	}
}
