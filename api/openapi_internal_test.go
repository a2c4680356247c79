package api

import (
	"strings"
	"testing"
	"testing/fstest"
)

const frame = `openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /a:
    get:
      responses:
        "200": {description: ok, content: {application/json: {schema: {$ref: "#/components/schemas/A"}}}}
components:
  schemas:
    A: {type: string}
`

func TestOpenAPIFragmentsMerge(t *testing.T) {
	// Given a frame and a fragment referring to the frame's schema, when they
	// are merged, then both paths are in one valid document; a fragment that
	// redefines a schema differently, or a path, is refused.
	ok := fstest.MapFS{
		"openapi/core.yaml": {Data: []byte(frame)},
		"openapi/lists.yaml": {Data: []byte(`paths:
  /b:
    get:
      responses:
        "200": {description: ok, content: {application/json: {schema: {$ref: "#/components/schemas/B"}}}}
components:
  schemas:
    A: {type: string}
    B: {type: array, items: {$ref: "#/components/schemas/A"}}
`)},
	}
	doc, err := buildOpenAPI(ok)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), `"/a"`) || !strings.Contains(string(doc), `"/b"`) {
		t.Errorf("merged: %s", doc)
	}
	for name, frag := range map[string]string{
		"schema": "components:\n  schemas:\n    A: {type: integer}\n",
		"path":   "paths:\n  /a:\n    post:\n      responses: {\"200\": {description: ok}}\n",
		"ref":    "paths:\n  /c:\n    get:\n      responses: {\"200\": {description: ok, content: {application/json: {schema: {$ref: \"#/components/schemas/Nope\"}}}}}\n",
	} {
		bad := fstest.MapFS{"openapi/core.yaml": {Data: []byte(frame)}, "openapi/x.yaml": {Data: []byte(frag)}}
		if _, err := buildOpenAPI(bad); err == nil {
			t.Errorf("a fragment redefining a %s was merged", name)
		}
	}
}
