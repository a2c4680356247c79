package model

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// FieldKind is the JSON shape a data field must have.
type FieldKind string

const (
	FieldString   FieldKind = "string"
	FieldEnum     FieldKind = "enum"
	FieldBool     FieldKind = "bool"
	FieldNumber   FieldKind = "number"
	FieldDate     FieldKind = "date" // YYYY-MM-DD or RFC 3339
	FieldStrings  FieldKind = "strings"
	FieldRegion   FieldKind = "region"   // GB/T 2260 code
	FieldIndustry FieldKind = "industry" // GB/T 4754 code
)

// FacetSlot says which Facets column a field fills.
type FacetSlot int

const (
	FacetNone FacetSlot = iota
	FacetRef
	FacetLink
	FacetResult
	FacetSeverity
	FacetCategory
	FacetAmount
	FacetDue
)

// FieldSpec is one field of an event type's data.
type FieldSpec struct {
	Name     string
	Kind     FieldKind
	Required bool
	Enum     []string
	Facet    FacetSlot
	// BoolFacet maps true/false to facet text (e.g. verified → "verified"/"unverified").
	BoolFacet [2]string
}

// EventSpec is the contract of one event type.
type EventSpec struct {
	Type   EventType
	Fields []FieldSpec
	// AnyOf requires at least one of the fields (enterprise.updated is partial).
	AnyOf bool
	// RequiredWhen makes fields required by the value of another.
	RequiredWhen []Requirement
	// WithoutUSCC marks a record about no single enterprise (an analyst's
	// acknowledgement of a cluster warning, a county bureau's plan
	// suggestion): its uscc must be absent, and Kafka keys it by source.
	WithoutUSCC bool
	Doc         string
}

// Requirement says Field is required when field If has the value Equals
// (a failed spot check must say how severe the failure was).
type Requirement struct {
	Field, If, Equals string
}

var (
	equipmentCategories = []string{"boiler", "pressure_vessel", "gas_cylinder", "pressure_piping", "elevator",
		"lifting", "passenger_ropeway", "amusement", "field_vehicle"}
	violations = []string{"counterfeit", "substandard", "unlicensed", "false_labeling", "special_equipment",
		"metrology", "obstruction", "other"}
	passFail = []string{"pass", "fail"}
)

func equipmentFields(extra ...FieldSpec) []FieldSpec {
	return append([]FieldSpec{
		{Name: "equipment_id", Kind: FieldString, Required: true, Facet: FacetLink},
		{Name: "category", Kind: FieldEnum, Enum: equipmentCategories, Facet: FacetCategory},
	}, extra...)
}

var enterpriseFields = []FieldSpec{
	{Name: "name", Kind: FieldString, Required: true},
	{Name: "region", Kind: FieldRegion, Required: true},
	{Name: "industry", Kind: FieldIndustry, Required: true},
	{Name: "cluster", Kind: FieldString},
	{Name: "scale", Kind: FieldEnum, Enum: []string{"micro", "small", "medium", "large"}},
}

// EventSpecs is the v1 contract: every event type and its data fields. The
// JSON Schema in ingest/schema is generated from it.
var EventSpecs = map[EventType]EventSpec{
	EventEnterpriseRegistered: {Doc: "an enterprise enters the register", Fields: enterpriseFields},
	EventEnterpriseUpdated: {Doc: "a partial change of registered fields", AnyOf: true,
		Fields: optional(enterpriseFields)},
	EventEnterpriseDeregistered: {Doc: "an enterprise leaves the register",
		Fields: []FieldSpec{{Name: "reason", Kind: FieldString}}},
	EventLicenceGranted: {Doc: "a production licence is granted", Fields: []FieldSpec{
		{Name: "licence_no", Kind: FieldString, Required: true, Facet: FacetRef},
		{Name: "kind", Kind: FieldEnum, Required: true, Facet: FacetCategory,
			Enum: []string{"industrial_product", "special_equipment", "metrology", "other"}},
		{Name: "valid_until", Kind: FieldDate, Facet: FacetDue},
	}},
	EventLicenceRevoked: {Doc: "a licence is revoked", Fields: []FieldSpec{
		{Name: "licence_no", Kind: FieldString, Required: true, Facet: FacetRef},
		{Name: "reason", Kind: FieldEnum, Required: true, Enum: []string{"violation", "fraud", "other"}, Facet: FacetCategory},
		{Name: "decision_no", Kind: FieldString},
	}},
	EventSpotCheckCompleted: {Doc: "a supervisory spot check (监督抽查) has a result", Fields: []FieldSpec{
		{Name: "check_id", Kind: FieldString, Required: true, Facet: FacetRef},
		{Name: "product", Kind: FieldString, Required: true, Facet: FacetCategory},
		{Name: "result", Kind: FieldEnum, Required: true, Enum: passFail, Facet: FacetResult},
		{Name: "severity", Kind: FieldEnum, Enum: []string{"minor", "major", "critical"}, Facet: FacetSeverity},
		{Name: "level", Kind: FieldEnum, Enum: []string{"national", "provincial", "city", "county"}},
		{Name: "retest_of", Kind: FieldString, Facet: FacetLink},
	}, RequiredWhen: []Requirement{{Field: "severity", If: "result", Equals: "fail"}}},
	EventPenaltyDecided: {Doc: "an administrative penalty is decided", Fields: []FieldSpec{
		{Name: "case_no", Kind: FieldString, Required: true, Facet: FacetRef},
		{Name: "violation", Kind: FieldEnum, Required: true, Enum: violations, Facet: FacetCategory},
		{Name: "severity", Kind: FieldEnum, Required: true, Enum: []string{"light", "general", "heavy"}, Facet: FacetSeverity},
		{Name: "fine_yuan", Kind: FieldNumber, Facet: FacetAmount},
		{Name: "measures", Kind: FieldStrings},
	}},
	EventPenaltyRevoked: {Doc: "a penalty decision is annulled", Fields: []FieldSpec{
		{Name: "case_no", Kind: FieldString, Required: true, Facet: FacetRef},
		{Name: "reason", Kind: FieldString},
	}},
	EventEquipmentRegistered: {Doc: "special equipment is registered for use", Fields: equipmentFields()},
	EventEquipmentInspected: {Doc: "a periodic inspection of special equipment", Fields: equipmentFields(
		FieldSpec{Name: "result", Kind: FieldEnum, Required: true, Enum: passFail, Facet: FacetResult})},
	EventEquipmentHazardFound: {Doc: "a hazard (隐患) is found on special equipment", Fields: equipmentFields(
		FieldSpec{Name: "hazard_id", Kind: FieldString, Required: true, Facet: FacetRef},
		FieldSpec{Name: "serious", Kind: FieldBool, Facet: FacetSeverity, BoolFacet: [2]string{"ordinary", "serious"}},
		FieldSpec{Name: "deadline", Kind: FieldDate, Facet: FacetDue})},
	EventEquipmentHazardFixed: {Doc: "a hazard is corrected", Fields: equipmentFields(
		FieldSpec{Name: "hazard_id", Kind: FieldString, Required: true, Facet: FacetRef},
		FieldSpec{Name: "self_found", Kind: FieldBool, Facet: FacetResult, BoolFacet: [2]string{"reported", "self_found"}})},
	EventEquipmentAccident: {Doc: "an accident involving special equipment", Fields: equipmentFields(
		FieldSpec{Name: "accident_id", Kind: FieldString, Required: true, Facet: FacetRef},
		FieldSpec{Name: "grade", Kind: FieldEnum, Required: true, Facet: FacetSeverity,
			Enum: []string{"general", "larger", "major", "especially_major"}})},
	EventComplaintReceived: {Doc: "a complaint or report is received", Fields: []FieldSpec{
		{Name: "complaint_id", Kind: FieldString, Required: true, Facet: FacetRef},
		{Name: "channel", Kind: FieldEnum, Enum: []string{"12365", "web", "letter"}, Facet: FacetCategory},
	}},
	EventComplaintClosed: {Doc: "a complaint is closed, verified or not", Fields: []FieldSpec{
		{Name: "complaint_id", Kind: FieldString, Required: true, Facet: FacetRef},
		{Name: "verified", Kind: FieldBool, Required: true, Facet: FacetResult, BoolFacet: [2]string{"unverified", "verified"}},
		{Name: "outcome", Kind: FieldString},
	}},
	EventStandardDeclared: {Doc: "an enterprise standard is self-declared (自我声明公开)", Fields: []FieldSpec{
		{Name: "standard_no", Kind: FieldString, Facet: FacetRef},
		{Name: "title", Kind: FieldString},
	}},
	EventCertificationGranted: {Doc: "a certification is granted", Fields: []FieldSpec{
		{Name: "cert_no", Kind: FieldString, Facet: FacetRef},
		{Name: "scheme", Kind: FieldString, Facet: FacetCategory},
	}},
	EventCertificationWithdrawn: {Doc: "a certification is withdrawn", Fields: []FieldSpec{
		{Name: "cert_no", Kind: FieldString, Facet: FacetRef},
		{Name: "scheme", Kind: FieldString, Facet: FacetCategory},
		{Name: "reason", Kind: FieldString},
	}},
	EventAwardGranted: {Doc: "a quality award or honour", Fields: []FieldSpec{
		{Name: "award", Kind: FieldString, Facet: FacetCategory},
		{Name: "level", Kind: FieldString},
	}},
	EventCreditRepaired: {Doc: "credit repair (信用修复) of a penalty or listing", Fields: []FieldSpec{
		{Name: "case_no", Kind: FieldString, Required: true, Facet: FacetRef},
		{Name: "decision_no", Kind: FieldString},
	}},
	EventRetracted: {Doc: "a record sent in error is withdrawn by the bureau that sent it: it no longer counts in any job, and both stay in the credit file", Fields: []FieldSpec{
		{Name: "event_id", Kind: FieldString, Required: true, Facet: FacetLink},
		{Name: "reason", Kind: FieldString, Required: true},
	}},
}

func init() {
	for t, s := range EventSpecs {
		s.Type = t
		EventSpecs[t] = s
	}
}

func optional(fields []FieldSpec) []FieldSpec {
	out := make([]FieldSpec, len(fields))
	for i, f := range fields {
		f.Required = false
		out[i] = f
	}
	return out
}

// ValidationError says why an event breaks the contract.
type ValidationError struct {
	Reason DeadLetterReason
	Field  string
	Detail string
}

func (e *ValidationError) Error() string {
	if e.Field == "" {
		return e.Detail
	}
	return e.Field + ": " + e.Detail
}

func invalid(reason DeadLetterReason, field, format string, args ...any) *ValidationError {
	return &ValidationError{Reason: reason, Field: field, Detail: fmt.Sprintf(format, args...)}
}

// MaxIDLength bounds event ids, in characters (Unicode code points, as JSON
// Schema's maxLength counts them), not bytes: 128 Chinese characters are
// 384 bytes of UTF-8.
const MaxIDLength = 128

// Validate checks an event against the v1 contract and returns it as a Record
// with canonical data, facets and content hash. The error is a *ValidationError.
func (p USCCPolicy) Validate(e Event) (Record, error) {
	fields, err := ParseData(e.Data)
	if err != nil {
		return Record{}, err
	}
	return p.ValidateFields(e, fields)
}

// ValidateFields is Validate for an event whose data object the caller has
// already parsed into fields (e.Data is ignored and replaced by the canonical
// form). fields may be reordered.
func (p USCCPolicy) ValidateFields(e Event, fields []DataField) (Record, error) {
	if err := p.validateEnvelope(e); err != nil {
		return Record{}, err
	}
	spec := EventSpecs[e.Type]
	slices.SortFunc(fields, func(a, b DataField) int { return strings.Compare(a.Name, b.Name) })
	facets, err := spec.validateData(fields)
	if err != nil {
		return Record{}, err
	}
	e.Data = canonicalData(fields)
	return Record{Event: e, Facets: facets, Hash: contentHash(e)}, nil
}

func (p USCCPolicy) validateEnvelope(e Event) error {
	switch {
	case e.ID == "":
		return invalid(DeadLetterMissingField, "id", "is required")
	case !utf8.ValidString(e.ID) || utf8.RuneCountInString(e.ID) > MaxIDLength || IsBlank(e.ID):
		return invalid(DeadLetterInvalidField, "id", "must be 1–%d characters of UTF-8, not all white space", MaxIDLength)
	case e.Type == "":
		return invalid(DeadLetterMissingField, "type", "is required")
	}
	spec, ok := EventSpecs[e.Type]
	if !ok {
		return invalid(DeadLetterUnknownType, "type", "%q is not a v1 event type", e.Type)
	}
	switch {
	case spec.WithoutUSCC && e.USCC != "":
		return invalid(DeadLetterInvalidField, "uscc", "must be absent: %s concerns no single enterprise", e.Type)
	case spec.WithoutUSCC:
	case e.USCC == "":
		return invalid(DeadLetterMissingField, "uscc", "is required")
	default:
		if r := p.Check(string(e.USCC)); !r.Valid() {
			return invalid(DeadLetterInvalidUSCC, "uscc", "%s: %s", e.USCC, r.Err())
		}
	}
	switch {
	case e.Source == "":
		return invalid(DeadLetterMissingField, "source", "is required")
	case !IsHuaianBureau(e.Source):
		return invalid(DeadLetterInvalidField, "source", "%q is not a Huai'an bureau (%s)", e.Source, strings.Join(HuaianBureaus(), ", "))
	case e.OccurredAt.IsZero():
		return invalid(DeadLetterMissingField, "occurred_at", "is required (RFC 3339, e.g. 2025-03-01T09:30:00+08:00)")
	}
	return nil
}

// validateData checks fields, sorted by name, against the spec.
func (s EventSpec) validateData(fields []DataField) (Facets, error) {
	var facets Facets
	for i := 1; i < len(fields); i++ {
		if fields[i].Name == fields[i-1].Name {
			return facets, invalid(DeadLetterInvalidField, "data."+fields[i].Name, "appears more than once")
		}
	}
	present := 0
	for _, f := range s.Fields {
		v := fieldNamed(fields, f.Name)
		if v == nil {
			if f.Required {
				return facets, invalid(DeadLetterMissingField, f.path(), "is required for %s", s.Type)
			}
			continue
		}
		// null is refused, not read as absent: the schema says the same,
		// and a sender that means "absent" can leave the field out.
		if v.Kind == JSONNull {
			return facets, invalid(DeadLetterInvalidField, f.path(), "is null: give a value or leave the field out")
		}
		present++
		if err := f.check(v, &facets); err != nil {
			return facets, err
		}
	}
	if s.AnyOf && present == 0 {
		return facets, invalid(DeadLetterMissingField, "data", "%s needs at least one of %s", s.Type, strings.Join(s.fieldNames(), ", "))
	}
	for _, r := range s.RequiredWhen {
		if v := fieldNamed(fields, r.If); v != nil && v.Kind == JSONString && v.Text == r.Equals && fieldNamed(fields, r.Field) == nil {
			return facets, invalid(DeadLetterMissingField, "data."+r.Field, "is required when %s is %s", r.If, r.Equals)
		}
	}
	return facets, nil
}

func (s EventSpec) fieldNames() []string {
	names := make([]string, len(s.Fields))
	for i, f := range s.Fields {
		names[i] = f.Name
	}
	return names
}

// fieldNamed finds a field by name. An event has a handful of fields, so a
// scan costs less than building a map for each event.
func fieldNamed(fields []DataField, name string) *DataField {
	for i := range fields {
		if fields[i].Name == name {
			return &fields[i]
		}
	}
	return nil
}

func (f FieldSpec) check(v *DataField, facets *Facets) error {
	var text string
	switch f.Kind {
	case FieldBool:
		if v.Kind != JSONBool {
			return invalid(DeadLetterInvalidField, f.path(), "must be true or false")
		}
		text = f.BoolFacet[0]
		if v.Bool {
			text = f.BoolFacet[1]
		}
	case FieldNumber:
		if v.Kind != JSONNumber || v.Number < 0 {
			return invalid(DeadLetterInvalidField, f.path(), "must be a number ≥ 0")
		}
		if f.Facet == FacetAmount {
			n := v.Number
			facets.Amount = &n
		}
		return nil
	case FieldStrings:
		if v.Kind != JSONArray || !v.StringsOnly {
			return invalid(DeadLetterInvalidField, f.path(), "must be an array of strings")
		}
		return nil
	default:
		if v.Kind != JSONString {
			return invalid(DeadLetterInvalidField, f.path(), "must be a string")
		}
		text = v.Text
		if err := f.checkText(text); err != nil {
			return err
		}
	}
	switch f.Facet {
	case FacetRef:
		facets.Ref = text
	case FacetLink:
		facets.Link = text
	case FacetResult:
		facets.Result = text
	case FacetSeverity:
		facets.Severity = text
	case FacetCategory:
		facets.Category = text
	case FacetDue:
		facets.Due = text[:10]
	}
	return nil
}

// path names the field in errors, e.g. data.severity.
func (f FieldSpec) path() string { return "data." + f.Name }

func (f FieldSpec) checkText(text string) error {
	switch f.Kind {
	case FieldString:
		if IsBlank(text) {
			return invalid(DeadLetterInvalidField, f.path(), "must not be empty or white space only")
		}
	case FieldEnum:
		for _, e := range f.Enum {
			if text == e {
				return nil
			}
		}
		return invalid(DeadLetterInvalidField, f.path(), "%q is not one of %s", text, strings.Join(f.Enum, ", "))
	case FieldDate:
		if _, err := ParseDate(text); err != nil {
			return invalid(DeadLetterInvalidField, f.path(), "%q is not a date (YYYY-MM-DD or RFC 3339, e.g. 2025-04-01)", text)
		}
	case FieldRegion:
		if _, ok := LookupRegion(text); !ok {
			return invalid(DeadLetterInvalidField, f.path(), "%q is not a GB/T 2260 region code", text)
		}
	case FieldIndustry:
		if !ValidIndustryCode(text) {
			return invalid(DeadLetterInvalidField, f.path(), "%q is not a GB/T 4754-2017 code such as C3311", text)
		}
	}
	return nil
}
