package api_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/qcredit/qcredit/api"
	"github.com/qcredit/qcredit/serving"
	"github.com/qcredit/qcredit/warehouse/duckdb/duckdbtest"
)

// planningPaths are the route prefixes the planning fragment documents.
var planningPaths = []string{"/api/v1/public/draws", "/api/v1/admin/", "/api/v1/draws/", "/api/v1/plan", "/api/v1/kpis",
	"/api/v1/complaints/overdue", "/api/v1/equipment/", "/api/v1/rechecks"}

// coreComponents are what the fragment takes from core.yaml.
var coreComponents = []string{"schemas/Error", "schemas/Grade", "parameters/Format", "responses/BadRequest", "responses/Unauthorized",
	"responses/Forbidden", "responses/NotFound", "responses/RateLimited", "responses/Internal", "responses/Unavailable"}

func TestPlanningRoutesAreInTheirOpenAPIFragment(t *testing.T) {
	// Given the planning routes registered and openapi/planning.yaml, then
	// each route is an operation of the fragment with the same scopes
	// (x-scopes), a bearer requirement unless public, 401 documented, 403
	// unless public and 429 when public; every operation of the fragment is
	// a registered route; every $ref names a component of the fragment or
	// of core.yaml.
	b, err := os.ReadFile("openapi/planning.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var frag struct {
		Paths map[string]map[string]struct {
			Scopes    []string            `yaml:"x-scopes"`
			Security  []map[string][]any  `yaml:"security"`
			Responses map[string]struct{} `yaml:"responses"`
		} `yaml:"paths"`
		Components map[string]map[string]any `yaml:"components"`
	}
	if err := yaml.Unmarshal(b, &frag); err != nil {
		t.Fatal(err)
	}
	s := duckdbtest.Open(t)
	rm, err := serving.NewStore(s, quiet, serving.Options{})
	if err != nil {
		t.Fatal(err)
	}
	param := regexp.MustCompile(`:([a-z_]+)`)
	registered := map[string]bool{}
	a, err := api.New(t.Context(), s, rm, quiet, api.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for _, rt := range a.Routes() {
		if !slices.ContainsFunc(planningPaths, func(p string) bool { return strings.HasPrefix(rt.Path, p) }) {
			continue
		}
		path, method := param.ReplaceAllString(rt.Path, "{$1}"), strings.ToLower(rt.Method)
		registered[method+" "+path] = true
		op, ok := frag.Paths[path][method]
		if !ok {
			t.Errorf("%s %s is not in openapi/planning.yaml", rt.Method, path)
			continue
		}
		var want []string
		for _, sc := range rt.Scopes {
			want = append(want, string(sc))
		}
		public := slices.Contains(want, string(api.ScopePublic))
		if !slices.Equal(op.Scopes, want) || (len(op.Security) > 0) == public {
			t.Errorf("%s %s: x-scopes %v and security %v, registered with %v", rt.Method, path, op.Scopes, op.Security, want)
		}
		_, has401 := op.Responses["401"]
		_, has403 := op.Responses["403"]
		_, has429 := op.Responses["429"]
		if !has401 || has403 == public || (public && !has429) {
			t.Errorf("%s %s: responses %v (want 401, and 429 when public, else 403)", rt.Method, path, op.Responses)
		}
	}
	for path, ops := range frag.Paths {
		for method := range ops {
			if !registered[method+" "+path] {
				t.Errorf("openapi/planning.yaml documents %s %s, which is not registered", method, path)
			}
		}
	}
	for _, m := range regexp.MustCompile(`\$ref: "#/components/([a-z]+)/([A-Za-z]+)"`).FindAllStringSubmatch(string(b), -1) {
		if _, ok := frag.Components[m[1]][m[2]]; !ok && !slices.Contains(coreComponents, m[1]+"/"+m[2]) {
			t.Errorf("$ref %s/%s is defined neither here nor in core.yaml", m[1], m[2])
		}
	}
}
