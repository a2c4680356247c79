// Package lists decides the dishonest-entity list (严重违法失信名单) and the
// focus-supervision list (重点监管名单), and publishes them as versions that a
// partner can check its copy against.
//
// It is pure: the rules are data (default.yaml, embedded, or bytes the
// caller read), a firm's records come in as values, and entries, versions
// and changes go out. The score job and the lists job both call
// Rules.Evaluate, so the serious-list triggers live in one place.
package lists

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/qcredit/qcredit/model"

	"go.yaml.in/yaml/v3"
)

//go:embed default.yaml
var defaultYAML []byte

// DefaultYAML is the embedded default rules file, for printing and editing.
func DefaultYAML() []byte { return bytes.Clone(defaultYAML) }

// Default is the embedded rules.
func Default() (*Rules, error) { return Parse(defaultYAML) }

// Trigger is what kind of record a serious-list rule looks for.
type Trigger string

const (
	TriggerPenalty        Trigger = "penalty"         // one penalty.decided
	TriggerLicenceRevoked Trigger = "licence_revoked" // one licence.revoked
	TriggerAccident       Trigger = "accident"        // one equipment.accident
	TriggerRepeatPenalty  Trigger = "repeat_penalty"  // Min penalties of one violation within WithinMonths
)

// Rules are parsed, validated listing rules.
type Rules struct {
	// Version is "ls-" and the first 12 hex digits of the SHA-256 of the
	// file's bytes: any edit, even a comment, is a new version.
	Version string
	// Publisher is the GB/T 2260 code of the bureau that publishes the lists.
	Publisher       string
	AuthoritySuffix string
	// NoticeWorkingDays is the notice period (告知, 陈述申辩) before listing.
	NoticeWorkingDays int
	Periods           map[string]Period
	Measures          map[string]Measure
	Labels            Labels
	Dishonest         DishonestList
	Focus             FocusList
	// Calendar counts the notice period; Parse sets model.DefaultCalendar.
	Calendar *model.Calendar
}

// Period is one class of publication period (NDRC credit-repair draft):
// repair may be requested after MinMonths, publication stops at MaxMonths.
type Period struct {
	MinMonths int `yaml:"min_months"`
	MaxMonths int `yaml:"max_months"`
}

// Measure is one restriction a listing triggers (联合惩戒).
type Measure struct {
	Name   string `yaml:"name"`
	NameEN string `yaml:"name_en"`
	Basis  string `yaml:"basis"`
}

// Labels are the Chinese words for the contract's enum values.
type Labels struct {
	Violations     map[string]string `yaml:"violations"`
	Severities     map[string]string `yaml:"severities"`
	LicenceReasons map[string]string `yaml:"licence_reasons"`
	AccidentGrades map[string]string `yaml:"accident_grades"`
}

// DishonestList is the serious dishonest list: its periods, measures and rules.
type DishonestList struct {
	Name              string        `yaml:"name"`
	PeriodClass       string        `yaml:"period_class"`
	ListingMonths     int           `yaml:"listing_months"`
	RepairAfterMonths int           `yaml:"repair_after_months"`
	Measures          []string      `yaml:"measures"`
	Rules             []SeriousRule `yaml:"rules"`
}

// SeriousRule lists a firm when its records match. Empty filters match
// anything of the rule's kind.
type SeriousRule struct {
	ID             string   `yaml:"id"`
	Kind           Trigger  `yaml:"kind"`
	Violations     []string `yaml:"violations"`
	Severities     []string `yaml:"severities"`
	LicenceReasons []string `yaml:"licence_reasons"`
	AccidentGrades []string `yaml:"accident_grades"`
	// Min and WithinMonths are for repeat_penalty: Min penalties of the same
	// violation, the first and the last at most WithinMonths apart.
	Min          int `yaml:"min"`
	WithinMonths int `yaml:"within_months"`
	// Reason is the template of the entry's 列入原因.
	Reason string `yaml:"reason"`
	Basis  string `yaml:"basis"`
}

// FocusList is the focus-supervision list: which grades put a firm on it.
type FocusList struct {
	Name     string       `yaml:"name"`
	Measures []string     `yaml:"measures"`
	Grades   []FocusGrade `yaml:"grades"`
}

// FocusGrade lists firms of one grade under its own rule id.
type FocusGrade struct {
	Grade  model.Grade `yaml:"grade"`
	ID     string      `yaml:"id"`
	Reason string      `yaml:"reason"`
	Basis  string      `yaml:"basis"`
}

type file struct {
	Publisher          string             `yaml:"publisher"`
	AuthoritySuffix    string             `yaml:"authority_suffix"`
	NoticeWorkingDays  int                `yaml:"notice_working_days"`
	PublicationPeriods map[string]Period  `yaml:"publication_periods"`
	Measures           map[string]Measure `yaml:"measures"`
	Labels             Labels             `yaml:"labels"`
	Dishonest          DishonestList      `yaml:"dishonest"`
	Focus              FocusList          `yaml:"focus"`
}

// Parse reads and validates a rules file.
func Parse(b []byte) (*Rules, error) {
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("parse listing rules: %w", err)
	}
	sum := sha256.Sum256(b)
	r := &Rules{
		Version:           "ls-" + hex.EncodeToString(sum[:])[:12],
		Publisher:         f.Publisher,
		AuthoritySuffix:   f.AuthoritySuffix,
		NoticeWorkingDays: f.NoticeWorkingDays,
		Periods:           f.PublicationPeriods,
		Measures:          f.Measures,
		Labels:            f.Labels,
		Dishonest:         f.Dishonest,
		Focus:             f.Focus,
		Calendar:          model.DefaultCalendar(),
	}
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("listing rules: %w", err)
	}
	return r, nil
}

// ruleID is what an id may hold: entry keys are USCC:rule:case, so a rule
// id must not contain the separator.
var ruleID = regexp.MustCompile(`^[a-z0-9_.]+$`)

// Validate says everything that is wrong with the rules.
func (r *Rules) Validate() error {
	var errs []error
	if !model.IsHuaianBureau(r.Publisher) {
		errs = append(errs, fmt.Errorf("publisher %q is not the city bureau (320800) or a 3208xx county code", r.Publisher))
	}
	if r.NoticeWorkingDays < 0 || r.NoticeWorkingDays > 60 {
		errs = append(errs, fmt.Errorf("notice_working_days must be 0–60, got %d", r.NoticeWorkingDays))
	}
	if r.Calendar == nil {
		errs = append(errs, errors.New("a working-day calendar is required"))
	}
	for name, p := range r.Periods {
		if p.MinMonths < 0 || p.MaxMonths < p.MinMonths {
			errs = append(errs, fmt.Errorf("publication period %s: need 0 ≤ min_months ≤ max_months", name))
		}
	}
	for id, m := range r.Measures {
		if m.Name == "" || m.Basis == "" {
			errs = append(errs, fmt.Errorf("measure %s: name and basis are required", id))
		}
	}
	errs = append(errs, r.validateLabels()...)
	errs = append(errs, r.validateDishonest()...)
	errs = append(errs, r.validateFocus()...)
	return errors.Join(errs...)
}

// contractEnum is the enum of one data field of the v1 contract, so the
// rules accept exactly the values events can carry.
func contractEnum(t model.EventType, field string) []string {
	for _, f := range model.EventSpecs[t].Fields {
		if f.Name == field {
			return f.Enum
		}
	}
	return nil
}

func (r *Rules) validateLabels() []error {
	var errs []error
	for _, l := range []struct {
		name   string
		labels map[string]string
		enum   []string
	}{
		{"violations", r.Labels.Violations, contractEnum(model.EventPenaltyDecided, "violation")},
		{"severities", r.Labels.Severities, contractEnum(model.EventPenaltyDecided, "severity")},
		{"licence_reasons", r.Labels.LicenceReasons, contractEnum(model.EventLicenceRevoked, "reason")},
		{"accident_grades", r.Labels.AccidentGrades, contractEnum(model.EventEquipmentAccident, "grade")},
	} {
		for _, v := range l.enum {
			if l.labels[v] == "" {
				errs = append(errs, fmt.Errorf("labels.%s: %q needs a label", l.name, v))
			}
		}
	}
	return errs
}

func (r *Rules) validateDishonest() []error {
	d := &r.Dishonest
	var errs []error
	if d.Name == "" {
		errs = append(errs, errors.New("dishonest.name is required"))
	}
	p, ok := r.Periods[d.PeriodClass]
	switch {
	case !ok:
		errs = append(errs, fmt.Errorf("dishonest.period_class %q is not a publication period", d.PeriodClass))
	case d.ListingMonths < p.MinMonths || d.ListingMonths > p.MaxMonths:
		errs = append(errs, fmt.Errorf("dishonest.listing_months %d is outside the %s period (%d–%d months)",
			d.ListingMonths, d.PeriodClass, p.MinMonths, p.MaxMonths))
	case d.RepairAfterMonths < p.MinMonths:
		errs = append(errs, fmt.Errorf("dishonest.repair_after_months %d is before the %s period's minimum of %d months",
			d.RepairAfterMonths, d.PeriodClass, p.MinMonths))
	}
	if d.RepairAfterMonths >= d.ListingMonths {
		errs = append(errs, errors.New("dishonest.repair_after_months must be less than listing_months"))
	}
	errs = append(errs, r.validateMeasures("dishonest", d.Measures)...)
	if len(d.Rules) == 0 {
		errs = append(errs, errors.New("dishonest.rules: at least one rule is required"))
	}
	seen := map[string]bool{}
	for i := range d.Rules {
		rule := &d.Rules[i]
		if !ruleID.MatchString(rule.ID) || seen[rule.ID] {
			errs = append(errs, fmt.Errorf("dishonest rule %d: id %q must be unique and match [a-z0-9_.]+", i+1, rule.ID))
		}
		seen[rule.ID] = true
		errs = append(errs, rule.validate()...)
	}
	return errs
}

// placeholders are the reason template fields each kind fills.
var placeholders = map[Trigger][]string{
	TriggerPenalty:        {"date", "authority", "case_no", "violation", "severity"},
	TriggerLicenceRevoked: {"date", "authority", "licence_no", "decision_no", "licence_reason"},
	TriggerAccident:       {"date", "authority", "accident_id", "grade"},
	TriggerRepeatPenalty:  {"date", "authority", "case_nos", "violation", "count", "within_months"},
}

var placeholder = regexp.MustCompile(`\{([a-z_]*)\}`)

// checkTemplate reports placeholders of tmpl that are not in known.
func checkTemplate(what, tmpl string, known []string) []error {
	var errs []error
	if tmpl == "" {
		errs = append(errs, fmt.Errorf("%s: reason is required", what))
	}
	for _, m := range placeholder.FindAllStringSubmatch(tmpl, -1) {
		if !slices.Contains(known, m[1]) {
			errs = append(errs, fmt.Errorf("%s: reason placeholder {%s} is not one of %s", what, m[1], strings.Join(known, ", ")))
		}
	}
	return errs
}

func (rule *SeriousRule) validate() []error {
	what := "dishonest rule " + rule.ID
	known, ok := placeholders[rule.Kind]
	if !ok {
		return []error{fmt.Errorf("%s: kind %q is not penalty, licence_revoked, accident or repeat_penalty", what, rule.Kind)}
	}
	errs := checkTemplate(what, rule.Reason, known)
	if rule.Basis == "" {
		errs = append(errs, fmt.Errorf("%s: basis (the rule it rests on) is required", what))
	}
	filters := []struct {
		name   string
		values []string
		enum   []string
		kinds  []Trigger
	}{
		{"violations", rule.Violations, contractEnum(model.EventPenaltyDecided, "violation"), []Trigger{TriggerPenalty, TriggerRepeatPenalty}},
		{"severities", rule.Severities, contractEnum(model.EventPenaltyDecided, "severity"), []Trigger{TriggerPenalty, TriggerRepeatPenalty}},
		{"licence_reasons", rule.LicenceReasons, contractEnum(model.EventLicenceRevoked, "reason"), []Trigger{TriggerLicenceRevoked}},
		{"accident_grades", rule.AccidentGrades, contractEnum(model.EventEquipmentAccident, "grade"), []Trigger{TriggerAccident}},
	}
	for _, f := range filters {
		if len(f.values) > 0 && !slices.Contains(f.kinds, rule.Kind) {
			errs = append(errs, fmt.Errorf("%s: %s does not apply to kind %s", what, f.name, rule.Kind))
		}
		for _, v := range f.values {
			if !slices.Contains(f.enum, v) {
				errs = append(errs, fmt.Errorf("%s: %s: %q is not one of %s", what, f.name, v, strings.Join(f.enum, ", ")))
			}
		}
	}
	repeat := rule.Kind == TriggerRepeatPenalty
	switch {
	case repeat && (rule.Min < 2 || rule.WithinMonths < 1):
		errs = append(errs, fmt.Errorf("%s: repeat_penalty needs min ≥ 2 and within_months ≥ 1", what))
	case !repeat && (rule.Min != 0 || rule.WithinMonths != 0):
		errs = append(errs, fmt.Errorf("%s: min and within_months are for repeat_penalty only", what))
	}
	return errs
}

func (r *Rules) validateFocus() []error {
	f := &r.Focus
	var errs []error
	if f.Name == "" {
		errs = append(errs, errors.New("focus.name is required"))
	}
	errs = append(errs, r.validateMeasures("focus", f.Measures)...)
	seen := map[model.Grade]bool{}
	for _, g := range f.Grades {
		what := "focus grade " + string(g.Grade)
		if !g.Grade.Valid() || seen[g.Grade] {
			errs = append(errs, fmt.Errorf("%s: grade must be one of A, B, C, D, each once", what))
		}
		seen[g.Grade] = true
		if !ruleID.MatchString(g.ID) {
			errs = append(errs, fmt.Errorf("%s: id %q must match [a-z0-9_.]+", what, g.ID))
		}
		errs = append(errs, checkTemplate(what, g.Reason, []string{"grade", "grade_label", "since"})...)
		if g.Basis == "" {
			errs = append(errs, fmt.Errorf("%s: basis is required", what))
		}
	}
	return errs
}

func (r *Rules) validateMeasures(list string, ids []string) []error {
	var errs []error
	for _, id := range ids {
		if _, ok := r.Measures[id]; !ok {
			errs = append(errs, fmt.Errorf("%s.measures: %q is not a measure", list, id))
		}
	}
	return errs
}

// Horizon is the earliest time a record can matter to the lists as of the
// day: an entry met before it has expired, and a repetition's first case
// lies at most within_months before its last. A caller may read records
// from here on and get the same listed entries (not the same history:
// long-expired entries drop out). The notice, at most 60 working days,
// takes under 4 months.
func (r *Rules) Horizon(asOf time.Time) time.Time {
	months := r.Dishonest.ListingMonths + 4
	within := 0
	for _, rule := range r.Dishonest.Rules {
		within = max(within, rule.WithinMonths)
	}
	return dayOf(asOf).AddDate(0, -(months + within), 0)
}

// authority is the bureau of a GB/T 2260 code as 作出决定机关 or 移出机关.
func (r *Rules) authority(code string) string {
	name := code
	if reg, ok := model.LookupRegion(code); ok {
		name = reg.Name
	}
	return name + r.AuthoritySuffix
}
