package api

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"
	"go.yaml.in/yaml/v3"
)

// The OpenAPI 3 document is the contract. It is written in fragments, one
// per area (core.yaml: the document's frame, the shared error shape and
// the core routes; lists.yaml, clusters.yaml, planning.yaml,
// dashboards.yaml: their routes and schemas), embedded and merged at start:
// every fragment's paths and components are put together, and a name
// defined twice (a path, a schema) is an error unless both are the same.
// Only core.yaml's openapi, info, servers, security and tags are kept;
// other fragments may add tags. The answers the shared middleware gives on
// every route (401, 403, 414, 429) are added to each operation
// (addCommonResponses).
//
//go:embed openapi/*.yaml
var openAPIFragments embed.FS

var (
	openAPIOnce sync.Once
	openAPIJSON []byte
	openAPIErr  error
)

// OpenAPI is the merged OpenAPI document as JSON, as /api/openapi.json
// serves it. It is checked (kin-openapi) when first built.
func OpenAPI() ([]byte, error) {
	openAPIOnce.Do(func() { openAPIJSON, openAPIErr = buildOpenAPI(openAPIFragments) })
	return openAPIJSON, openAPIErr
}

func buildOpenAPI(fsys fs.FS) ([]byte, error) {
	names, err := fs.Glob(fsys, "openapi/*.yaml")
	if err != nil {
		return nil, err
	}
	// core.yaml first: it is the frame.
	slices.SortFunc(names, func(a, b string) int {
		ca, cb := path.Base(a) == "core.yaml", path.Base(b) == "core.yaml"
		switch {
		case ca && !cb:
			return -1
		case cb && !ca:
			return 1
		}
		return strings.Compare(a, b)
	})
	if len(names) == 0 || path.Base(names[0]) != "core.yaml" {
		return nil, fmt.Errorf("openapi: no core.yaml fragment")
	}
	var doc map[string]any
	for _, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		var frag map[string]any
		if err := yaml.Unmarshal(b, &frag); err != nil {
			return nil, fmt.Errorf("openapi %s: %w", name, err)
		}
		if doc == nil {
			doc = frag
			continue
		}
		if err := mergeFragment(doc, frag, name); err != nil {
			return nil, err
		}
	}
	addCommonResponses(doc)
	out, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	loaded, err := openapi3.NewLoader().LoadFromData(out)
	if err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	if err := loaded.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	return out, nil
}

// addCommonResponses gives every /api/v1 operation the answers the shared
// middleware may give whatever the route, so fragments need not repeat
// them: 414 (a query string past MaxQueryBytes) and 401 (a key that is not
// valid, sent to any route) everywhere; 429 (the rate limit) on public
// operations and 403 (a scope the route does not take) on the others, as
// their x-scopes say.
func addCommonResponses(doc map[string]any) {
	paths, _ := doc["paths"].(map[string]any)
	for p, item := range paths {
		ops, ok := item.(map[string]any)
		if !ok || !strings.HasPrefix(p, "/api/v1/") {
			continue
		}
		for _, op := range ops {
			o, ok := op.(map[string]any)
			if !ok {
				continue
			}
			rs, ok := o["responses"].(map[string]any)
			if !ok {
				continue
			}
			public := false
			if scopes, ok := o["x-scopes"].([]any); ok {
				public = slices.Contains(scopes, any(string(ScopePublic)))
			}
			common := map[string]string{"414": "QueryTooLong", "401": "Unauthorized"}
			if public {
				common["429"] = "RateLimited"
			} else {
				common["403"] = "Forbidden"
			}
			for status, name := range common {
				if _, has := rs[status]; !has {
					rs[status] = map[string]any{"$ref": "#/components/responses/" + name}
				}
			}
		}
	}
}

// mergeFragment adds frag's paths, components and tags to doc.
func mergeFragment(doc, frag map[string]any, name string) error {
	if err := mergeMap(doc, frag, "paths", name); err != nil {
		return err
	}
	if comps, ok := frag["components"].(map[string]any); ok {
		dc, _ := doc["components"].(map[string]any)
		if dc == nil {
			dc = map[string]any{}
			doc["components"] = dc
		}
		for kind := range comps {
			if err := mergeMap(dc, comps, kind, name+": components"); err != nil {
				return err
			}
		}
	}
	if tags, ok := frag["tags"].([]any); ok {
		dt, _ := doc["tags"].([]any)
		doc["tags"] = append(dt, tags...)
	}
	return nil
}

// mergeMap adds src[key]'s entries to dst[key]; an entry defined in both
// must be the same.
func mergeMap(dst, src map[string]any, key, where string) error {
	s, ok := src[key].(map[string]any)
	if !ok {
		return nil
	}
	d, _ := dst[key].(map[string]any)
	if d == nil {
		d = map[string]any{}
		dst[key] = d
	}
	for k, v := range s {
		if old, dup := d[k]; dup {
			a, _ := json.Marshal(old)
			b, _ := json.Marshal(v)
			if string(a) != string(b) {
				return fmt.Errorf("openapi %s: %s %q is already defined differently by another fragment", where, key, k)
			}
		}
		d[k] = v
	}
	return nil
}

// OpenAPIPath is a gin route pattern as an OpenAPI path:
// /api/v1/enterprises/:uscc → /api/v1/enterprises/{uscc}.
func OpenAPIPath(route string) string {
	parts := strings.Split(route, "/")
	for i, p := range parts {
		if strings.HasPrefix(p, ":") || strings.HasPrefix(p, "*") {
			parts[i] = "{" + p[1:] + "}"
		}
	}
	return strings.Join(parts, "/")
}

func (s *Server) serveOpenAPI(c *gin.Context) {
	doc, err := OpenAPI()
	if err != nil {
		s.internal(c, "openapi document", err)
		return
	}
	c.Data(http.StatusOK, "application/json", doc)
}
