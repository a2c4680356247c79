package schema_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/qcredit/qcredit/ingest"
	"github.com/qcredit/qcredit/ingest/schema"
	"github.com/qcredit/qcredit/model"
)

// beyondSchema are the bad lines of the corpus that only the decoder can
// refuse: the rules of schema.BeyondSchema. The schema must accept each of
// them (else it has learnt the rule, and the line belongs with the others).
var beyondSchema = map[string]bool{
	"uscc: check character (18) wrong":                              true,
	"uscc: organisation-code check digit (17) wrong":                true,
	"enterprise.registered data.region: not in the GB/T 2260 table": true,
	"occurred_at: more than 24 h in the future":                     true,
	"source: repeated key":                                          true,
	"spot_check.completed data: repeated key":                       true,
}

// corpusNow is the decoder's clock for the corpus: after every date in it
// but the one meant to lie in the future.
var corpusNow = time.Date(2026, 1, 1, 0, 0, 0, 0, model.Shanghai)

// badLine is one line of bad.jsonl with the comment before it.
type badLine struct {
	note  string // e.g. "spot_check.completed data.severity: missing when result is fail"
	scope string // the part before ": ", e.g. "spot_check.completed data.severity"
	raw   []byte
	line  int
}

// field is the path the decoder's detail must start with, e.g. data.severity.
func (b badLine) field() string {
	_, f, ok := strings.Cut(b.scope, " ")
	if !ok {
		return b.scope
	}
	return f
}

// eventType is the type a data rule is about, or "".
func (b badLine) eventType() string {
	t, _, ok := strings.Cut(b.scope, " ")
	if !ok {
		return ""
	}
	return t
}

func readGood(t *testing.T) [][]byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "good.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
}

func readBad(t *testing.T) []badLine {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "bad.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []badLine
	var note string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		text := sc.Text()
		if c, ok := strings.CutPrefix(text, "# "); ok {
			note = c
			continue
		}
		scope, _, ok := strings.Cut(note, ": ")
		if !ok {
			t.Fatalf("bad.jsonl:%d has no comment of the form `# FIELD: RULE` before it", n)
		}
		out = append(out, badLine{note: note, scope: scope, raw: []byte(text), line: n})
		note = ""
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(schema.File)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat() // draft 2020-12 only annotates formats unless told to assert them
	if err := c.AddResource(schema.File, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(schema.File)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// schemaVerdict is the outside validator's: nil when raw is valid JSON that
// the schema accepts.
func schemaVerdict(sch *jsonschema.Schema, raw []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	return sch.Validate(inst)
}

func TestDecoderAndSchemaAgreeOnTheCorpus(t *testing.T) {
	// Given every good and bad event of the corpus, the decoder and the
	// outside validator give the same verdict on each, except on the rules
	// JSON Schema cannot state, and the decoder refuses each bad line for the
	// field its comment names.
	sch := compileSchema(t)
	dec := ingest.Decoder{Now: func() time.Time { return corpusNow }}
	for i, raw := range readGood(t) {
		if _, dl := dec.Decode(raw, model.Origin{}); dl != nil {
			t.Errorf("good.jsonl:%d: the decoder refuses it: %s", i+1, dl.Detail)
		}
		if err := schemaVerdict(sch, raw); err != nil {
			t.Errorf("good.jsonl:%d: the schema refuses it: %v", i+1, err)
		}
	}
	seenBeyond := map[string]bool{}
	for _, b := range readBad(t) {
		_, dl := dec.Decode(b.raw, model.Origin{})
		switch {
		case dl == nil:
			t.Errorf("bad.jsonl:%d (%s): the decoder accepts it", b.line, b.note)
		case b.scope == "json":
			if dl.Reason != model.DeadLetterMalformedJSON {
				t.Errorf("bad.jsonl:%d (%s): refused as %s, want malformed_json", b.line, b.note, dl.Reason)
			}
		case !strings.HasPrefix(dl.Detail, b.field()):
			t.Errorf("bad.jsonl:%d (%s): refused for something else: %s", b.line, b.note, dl.Detail)
		}
		if typ := b.eventType(); typ != "" && !bytes.Contains(b.raw, []byte(`"type": "`+typ+`"`)) {
			t.Errorf("bad.jsonl:%d (%s): the line is not a %s", b.line, b.note, typ)
		}
		err := schemaVerdict(sch, b.raw)
		if beyondSchema[b.note] {
			seenBeyond[b.note] = true
			if err != nil {
				t.Errorf("bad.jsonl:%d (%s) is listed as beyond the schema, but the schema refuses it: %v", b.line, b.note, err)
			}
		} else if err == nil {
			t.Errorf("bad.jsonl:%d (%s): the schema accepts it", b.line, b.note)
		}
	}
	for note := range beyondSchema {
		if !seenBeyond[note] {
			t.Errorf("no line of bad.jsonl for the rule beyond the schema %q", note)
		}
	}
}

// readmeContract is the README's two contract tables.
type readmeContract struct {
	envelope map[string]string            // field → rule
	types    map[string][]readmeDataField // type → its data fields, in order
}

type readmeDataField struct {
	name     string
	required bool   // bold
	note     string // the parenthesis after it, e.g. "pass, fail"
}

var readmeField = regexp.MustCompile(`^(\*\*)?([a-z_0-9]+)(\*\*)?(?: \((.*)\))?$`)

func readREADME(t *testing.T) readmeContract {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "## The event contract (v1)")
	if !ok {
		t.Fatal("README.md has no section \"The event contract (v1)\"")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	c := readmeContract{envelope: map[string]string{}, types: map[string][]readmeDataField{}}
	table := ""
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		switch {
		case !strings.HasPrefix(line, "|"):
			table = ""
		case strings.HasPrefix(line, "|---"):
		case table == "" && len(cells) == 2:
			table = strings.TrimSpace(cells[0]) // the header: "field" or "type"
		case len(cells) != 2:
			t.Fatalf("README contract table row without two cells: %q", line)
		case table == "field":
			c.envelope[strings.Trim(strings.TrimSpace(cells[0]), "`")] = strings.TrimSpace(cells[1])
		case table == "type":
			typ := strings.Trim(strings.TrimSpace(cells[0]), "`")
			fields, _, _ := strings.Cut(strings.TrimSpace(cells[1]), " — ")
			for _, item := range splitTopLevel(fields) {
				m := readmeField.FindStringSubmatch(item)
				if m == nil {
					t.Fatalf("README: %s: cannot read the data field %q", typ, item)
				}
				c.types[typ] = append(c.types[typ], readmeDataField{name: m[2], required: m[1] != "", note: m[4]})
			}
		}
	}
	if len(c.envelope) == 0 || len(c.types) == 0 {
		t.Fatalf("README: no contract tables found: %+v", c)
	}
	return c
}

// splitTopLevel splits at the commas outside parentheses.
func splitTopLevel(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, r := range s {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}

func TestREADMEContractIsTheModels(t *testing.T) {
	// The README's type table names every type of model.EventSpecs with its
	// fields, which of them are required, and every enum's values.
	c := readREADME(t)
	for typ, spec := range model.EventSpecs {
		fields, ok := c.types[string(typ)]
		if !ok {
			t.Errorf("README: type %s missing", typ)
			continue
		}
		if len(fields) != len(spec.Fields) {
			t.Errorf("README: %s has %d data fields, the contract %d", typ, len(fields), len(spec.Fields))
			continue
		}
		for i, f := range spec.Fields {
			rf := fields[i]
			if rf.name != f.Name || rf.required != f.Required {
				t.Errorf("README: %s field %d is %q (required %v), the contract's %q (required %v)", typ, i+1, rf.name, rf.required, f.Name, f.Required)
			}
			if f.Kind != model.FieldEnum {
				continue
			}
			values, _, _ := strings.Cut(rf.note, ";")
			if values == "as registered" {
				values = strings.Join(model.EventSpecs[model.EventEquipmentRegistered].Fields[1].Enum, ", ")
			}
			if !slices.Equal(strings.Split(values, ", "), f.Enum) {
				t.Errorf("README: %s.%s values %q, the contract's %q", typ, f.Name, values, f.Enum)
			}
		}
	}
	for typ := range c.types {
		if _, ok := model.EventSpecs[model.EventType(typ)]; !ok {
			t.Errorf("README names type %s, which the contract does not have", typ)
		}
	}
}

func TestCorpusCoversEveryRowOfTheREADMEContract(t *testing.T) {
	// Every envelope field has a bad line (required ones one where it is
	// missing); every type has a good line; every data field of every type
	// appears in a good line and breaks its rule in a bad one (required
	// ones also by their absence).
	c := readREADME(t)
	bad := map[string]bool{}
	for _, b := range readBad(t) {
		bad[b.scope] = true
		if rule := strings.TrimPrefix(b.note, b.scope+": "); rule == "missing" {
			bad[b.scope+": missing"] = true
		}
	}
	for field, rule := range c.envelope {
		if !bad[field] {
			t.Errorf("no bad line for %s (%s)", field, rule)
		}
		if strings.HasPrefix(rule, "required") && !bad[field+": missing"] {
			t.Errorf("no bad line where the required %s is missing", field)
		}
	}
	present := map[string]bool{} // "type data.field" present in a good line
	for _, raw := range readGood(t) {
		e, err := parseEvent(raw)
		if err != nil {
			t.Fatalf("good line %s: %v", raw, err)
		}
		present[e.typ] = true
		for f := range e.data {
			present[e.typ+" data."+f] = true
		}
	}
	for typ, fields := range c.types {
		if !present[typ] {
			t.Errorf("no good line of type %s", typ)
		}
		for _, f := range fields {
			scope := typ + " data." + f.name
			if !present[scope] {
				t.Errorf("no good line of %s with data.%s", typ, f.name)
			}
			if !bad[scope] {
				t.Errorf("no bad line for %s data.%s", typ, f.name)
			}
			if f.required && !bad[scope+": missing"] {
				t.Errorf("no bad line where %s misses the required data.%s", typ, f.name)
			}
		}
	}
}

// corpusEvent is what the coverage test reads of a good line.
type corpusEvent struct {
	typ  string
	data map[string]json.RawMessage
}

func parseEvent(raw []byte) (corpusEvent, error) {
	var e struct {
		Type string                     `json:"type"`
		Data map[string]json.RawMessage `json:"data"`
	}
	err := json.Unmarshal(raw, &e)
	return corpusEvent{typ: e.Type, data: e.Data}, err
}
