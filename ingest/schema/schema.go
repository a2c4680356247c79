// Package schema publishes the v1 event contract as JSON Schema (draft
// 2020-12), generated from model.EventSpecs and the model's patterns, so the
// document says what the decoder checks. event-v1.json is the committed
// copy; a test keeps it current, and another runs the corpus in testdata
// through the decoder and an outside validator.
package schema

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/qcredit/qcredit/model"
)

//go:generate go run ./gen

// File is the name of the committed schema document.
const File = "event-v1.json"

// BeyondSchema are the contract's rules that JSON Schema cannot state; the
// decoder checks them, and the schema's description lists them.
var BeyondSchema = []string{
	"the USCC's check characters (character 17: GB 11714 organisation-code check digit; character 18: GB 32100 mod-31 check character)",
	"a data region must be a code of the GB/T 2260 table (editions 1983-2019)",
	"occurred_at may lie at most the receiver's ingest.future_tolerance (24 h by default) in the future",
	"no key may appear twice in one object",
	"an id already stored with different content is a conflict (corrections are new events)",
}

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
		"$schema": "https://json-schema.org/draft/2020-12/schema",
		"$id":     "https://qcredit.example/schema/event-v1.json",
		"title":   "qcredit supervision event, contract v1",
		"description": "One supervision record reported by a Huai'an bureau. No field may be null: leave an optional one out. " +
			"Unknown top-level fields are refused; unknown data fields are kept. Validators must assert formats (date, date-time), " +
			"though every format here also has a pattern. Checked beyond this schema, and refused as well: " + strings.Join(BeyondSchema, "; ") + ".",
		"type":                 "object",
		"required":             []string{"id", "type", "uscc", "source", "occurred_at"},
		"additionalProperties": false,
		"properties": map[string]any{
			"id": map[string]any{"type": "string", "minLength": 1, "maxLength": model.MaxIDLength, "pattern": model.NonBlankPattern,
				"description": fmt.Sprintf("globally unique, <source>-<local id>; the idempotency key; 1-%d characters, not all white space", model.MaxIDLength)},
			"type": map[string]any{"enum": types},
			"uscc": map[string]any{"type": "string", "pattern": usccPattern(),
				"description": "unified social credit code (GB 32100): 18 characters of 0-9A-HJ-NPQRTUWXY, characters 3-4 a province-level GB/T 2260 code (10: national); its check characters are checked beyond this schema"},
			"source": map[string]any{"enum": model.HuaianBureaus(),
				"description": "GB/T 2260 code of the reporting bureau: the city 320800, a current county or district, the development zone 320871, or a historical code (320802, 320811, 320829)"},
			"occurred_at": timestamp("when the fact happened (decision or inspection date)"),
			"reported_at": timestamp("when the bureau reported it"),
			"data":        map[string]any{"type": "object", "description": "fields per type"},
		},
		"allOf": branches,
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return escapeWhiteSpace(b), nil
}

// escapeWhiteSpace writes the white-space characters of NonBlankPattern as
// JSON escapes (\u3000), which every JSON parser turns back into the
// characters, so a reader of the document sees which ones they are.
func escapeWhiteSpace(b []byte) []byte {
	var pairs []string
	for _, r := range model.WhiteSpaceRunes() {
		if r > 0x7f {
			pairs = append(pairs, string(r), fmt.Sprintf(`\u%04x`, r))
		}
	}
	return []byte(strings.NewReplacer(pairs...).Replace(string(b)))
}

func timestamp(doc string) map[string]any {
	return map[string]any{"type": "string", "format": "date-time", "pattern": model.TimestampPattern,
		"description": doc + "; RFC 3339 with upper-case T and Z, e.g. 2025-03-01T09:30:00+08:00"}
}

// usccPattern is what a regular expression can say of a USCC: its alphabet,
// a province-level region at characters 3-4, and that the organisation-code
// check digit (character 17) is a digit or X.
func usccPattern() string {
	const c = "[0-9A-HJ-NPQRTUWXY]"
	return "^" + c + "{2}(" + strings.Join(model.ProvincePrefixes(), "|") + ")" + c + "{12}[0-9X]" + c + "$"
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
	if s.AnyOf { // at least one of the type's own fields: an unknown one does not count
		var anyOf []any
		for _, f := range s.Fields {
			anyOf = append(anyOf, map[string]any{"required": []string{f.Name}})
		}
		data["minProperties"] = 1
		data["anyOf"] = anyOf
	}
	var conditions []any
	for _, r := range s.RequiredWhen {
		conditions = append(conditions, map[string]any{
			"if":   map[string]any{"properties": map[string]any{r.If: map[string]any{"const": r.Equals}}, "required": []string{r.If}},
			"then": map[string]any{"required": []string{r.Field}},
		})
	}
	if len(conditions) > 0 {
		data["allOf"] = conditions
	}
	then := map[string]any{"properties": map[string]any{"data": data}}
	if len(required) > 0 || s.AnyOf {
		then["required"] = []string{"data"}
	}
	return map[string]any{
		"if":   map[string]any{"properties": map[string]any{"type": map[string]any{"const": string(s.Type)}}, "required": []string{"type"}},
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
		return map[string]any{"type": "string", "pattern": model.DateOrTimestampPattern,
			"anyOf":       []any{map[string]any{"format": "date"}, map[string]any{"format": "date-time"}},
			"description": "YYYY-MM-DD or RFC 3339, e.g. 2025-04-01"}
	case model.FieldRegion:
		return map[string]any{"type": "string", "pattern": "^(" + strings.Join(model.ProvincePrefixes(), "|") + ")[0-9]{4}$",
			"description": "GB/T 2260 region code; that it is in the table (editions 1983-2019) is checked beyond this schema"}
	case model.FieldIndustry:
		var divisions []string
		for _, d := range model.ManufacturingDivisions() {
			divisions = append(divisions, d[1:])
		}
		return map[string]any{"type": "string", "pattern": "^([ABD-T][0-9]{2,4}|C(" + strings.Join(divisions, "|") + ")[0-9]{0,2})$",
			"description": "GB/T 4754-2017 code: a section letter and 2-4 digits, e.g. C3311; manufacturing (C) in divisions C13-C43"}
	default:
		return map[string]any{"type": "string", "pattern": model.NonBlankPattern, "description": "not empty, not white space only"}
	}
}
