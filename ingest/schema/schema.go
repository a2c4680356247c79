// Package schema publishes the v1 event contract as JSON Schema (draft
// 2020-12), generated from model.EventSpecs so the document and the validator
// can never disagree. event-v1.json is the committed copy; a test keeps it current.
package schema

import (
	"encoding/json"
	"slices"

	"github.com/qcredit/qcredit/model"
)

//go:generate go run ./gen

// File is the name of the committed schema document.
const File = "event-v1.json"

// Generate renders the schema.
func Generate() ([]byte, error) {
	types := make([]string, 0, len(model.EventSpecs))
	for t := range model.EventSpecs {
		types = append(types, string(t))
	}
	slices.Sort(types)
	var branches []any
	for _, t := range types {
		branches = append(branches, branch(model.EventSpecs[model.EventType(t)]))
	}
	doc := map[string]any{
		"$schema":     "https://json-schema.org/draft/2020-12/schema",
		"$id":         "https://qcredit.example/schema/event-v1.json",
		"title":       "qcredit supervision event, contract v1",
		"description": "One supervision record reported by a Huai'an bureau. The USCC check characters and GB/T 2260 region are validated beyond this schema.",
		"type":        "object",
		"required":    []string{"id", "type", "uscc", "source", "occurred_at"},
		"properties": map[string]any{
			"id":          map[string]any{"type": "string", "minLength": 1, "maxLength": model.MaxIDLength, "description": "globally unique, <source>-<local id>; the idempotency key"},
			"type":        map[string]any{"enum": types},
			"uscc":        map[string]any{"type": "string", "pattern": "^[0-9A-HJ-NPQRTUWXY]{18}$", "description": "unified social credit code (GB 32100)"},
			"source":      map[string]any{"type": "string", "pattern": "^3208[0-9]{2}$", "description": "GB/T 2260 code of the reporting bureau"},
			"occurred_at": map[string]any{"type": "string", "format": "date-time"},
			"reported_at": map[string]any{"type": "string", "format": "date-time"},
			"data":        map[string]any{"type": "object"},
		},
		"allOf": branches,
	}
	return json.MarshalIndent(doc, "", "  ")
}

// branch is "if type is T then data follows T's fields".
func branch(s model.EventSpec) map[string]any {
	props := map[string]any{}
	var required []string
	for _, f := range s.Fields {
		props[f.Name] = fieldSchema(f)
		if f.Required {
			required = append(required, f.Name)
		}
	}
	data := map[string]any{"type": "object", "properties": props, "description": s.Doc}
	if len(required) > 0 {
		data["required"] = required
	}
	if s.AnyOf {
		data["minProperties"] = 1
	}
	then := map[string]any{"properties": map[string]any{"data": data}}
	if len(required) > 0 || s.AnyOf {
		then["required"] = []string{"data"}
	}
	return map[string]any{
		"if":   map[string]any{"properties": map[string]any{"type": map[string]any{"const": string(s.Type)}}},
		"then": then,
	}
}

func fieldSchema(f model.FieldSpec) map[string]any {
	switch f.Kind {
	case model.FieldEnum:
		return map[string]any{"enum": f.Enum}
	case model.FieldBool:
		return map[string]any{"type": "boolean"}
	case model.FieldNumber:
		return map[string]any{"type": "number", "minimum": 0}
	case model.FieldStrings:
		return map[string]any{"type": "array", "items": map[string]any{"type": "string"}}
	case model.FieldDate:
		return map[string]any{"type": "string", "description": "YYYY-MM-DD or RFC 3339"}
	case model.FieldRegion:
		return map[string]any{"type": "string", "pattern": "^[0-9]{6}$", "description": "GB/T 2260 region code"}
	case model.FieldIndustry:
		return map[string]any{"type": "string", "pattern": "^[A-T][0-9]{2,4}$", "description": "GB/T 4754-2017 code"}
	default:
		return map[string]any{"type": "string", "minLength": 1}
	}
}
