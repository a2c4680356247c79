package planning

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"

	"go.yaml.in/yaml/v3"
)

//go:embed plan.yaml
var defaultPlanYAML []byte

// DefaultPlanRulesYAML is the embedded default plan rules, for printing and editing.
func DefaultPlanRulesYAML() []byte { return bytes.Clone(defaultPlanYAML) }

// DefaultPlanRules are the embedded plan rules.
func DefaultPlanRules() (*PlanRules, error) { return ParsePlanRules(defaultPlanYAML) }

// PlanRules are the parsed, validated rules of the spot-check plan.
type PlanRules struct {
	// Version is "plan-" and the first 12 hex digits of the SHA-256 of the
	// file's bytes: any edit, even a comment, is a new version.
	Version           string
	MaxBatches        int64              `yaml:"max_batches"`
	HighPassRate      PlanPassRateRule   `yaml:"high_pass_rate"`
	LowPassRate       PlanPassRateRule   `yaml:"low_pass_rate"`
	RecentFailures    PlanFailureRule    `yaml:"recent_failures"`
	Complaints        PlanComplaintRule  `yaml:"complaints"`
	ClusterWarnings   PlanWarningRule    `yaml:"cluster_warnings"`
	CountySuggestions PlanSuggestionRule `yaml:"county_suggestions"`
}

// PlanPassRateRule scales a product's batches by Factor when its pass rate is
// above Above (high) or below Below (low) with at least MinChecks checks.
type PlanPassRateRule struct {
	ID        string  `yaml:"id"`
	Above     Decimal `yaml:"above"`
	Below     Decimal `yaml:"below"`
	MinChecks int64   `yaml:"min_checks"`
	Factor    Decimal `yaml:"factor"`
	Basis     string  `yaml:"basis"`
}

// PlanFailureRule adds PerFailure batches for each failed check in the last
// Months months of the year (the job counts them), at most Cap.
type PlanFailureRule struct {
	ID         string `yaml:"id"`
	Months     int    `yaml:"months"`
	PerFailure int64  `yaml:"per_failure"`
	Cap        int64  `yaml:"cap"`
	Basis      string `yaml:"basis"`
}

// PlanComplaintRule adds PerComplaint batches for each complaint about the
// product this year, at most Cap.
type PlanComplaintRule struct {
	ID           string `yaml:"id"`
	PerComplaint int64  `yaml:"per_complaint"`
	Cap          int64  `yaml:"cap"`
	Basis        string `yaml:"basis"`
}

// PlanWarningRule adds batches when a red or orange cluster warning touches the
// product's industry.
type PlanWarningRule struct {
	ID     string `yaml:"id"`
	Red    int64  `yaml:"red"`
	Orange int64  `yaml:"orange"`
	Basis  string `yaml:"basis"`
}

// PlanSuggestionRule adds the batches the county bureaus suggest, at most Cap per product.
type PlanSuggestionRule struct {
	ID    string `yaml:"id"`
	Cap   int64  `yaml:"cap"`
	Basis string `yaml:"basis"`
}

// ParsePlanRules reads and validates plan rules (the caller reads the file).
func ParsePlanRules(b []byte) (*PlanRules, error) {
	var r PlanRules
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("parse plan rules: %w", err)
	}
	r.Version = "plan-" + sha256Hex(b)[:12]
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("plan rules: %w", err)
	}
	return &r, nil
}

// Validate says what is wrong with the rules.
func (r *PlanRules) Validate() error {
	var errs []error
	if r.MaxBatches < 1 {
		errs = append(errs, errors.New("max_batches must be at least 1"))
	}
	seen := map[string]bool{}
	need := func(section, id, basis string) {
		switch {
		case id == "":
			errs = append(errs, fmt.Errorf("%s: id is required", section))
		case seen[id]:
			errs = append(errs, fmt.Errorf("%s: id %q is used twice", section, id))
		}
		seen[id] = true
		if basis == "" {
			errs = append(errs, fmt.Errorf("%s: basis (the rule it rests on) is required", section))
		}
	}
	h, l := r.HighPassRate, r.LowPassRate
	need("high_pass_rate", h.ID, h.Basis)
	need("low_pass_rate", l.ID, l.Basis)
	if h.Above <= 0 || h.Above >= DecimalOne || h.Below != 0 {
		errs = append(errs, errors.New("high_pass_rate: above must be between 0 and 1 (and no below)"))
	}
	if l.Below <= 0 || l.Below > h.Above || l.Above != 0 {
		errs = append(errs, errors.New("low_pass_rate: below must be above 0 and not above high_pass_rate.above (and no above)"))
	}
	if h.Factor > DecimalOne {
		errs = append(errs, errors.New("high_pass_rate: factor must be 0–1 (fewer or no batches)"))
	}
	if l.Factor < DecimalOne || l.Factor > 10*DecimalOne {
		errs = append(errs, errors.New("low_pass_rate: factor must be 1–10 (more batches)"))
	}
	if h.MinChecks < 1 || l.MinChecks < 1 {
		errs = append(errs, errors.New("min_checks must be at least 1"))
	}
	f, c := r.RecentFailures, r.Complaints
	need("recent_failures", f.ID, f.Basis)
	need("complaints", c.ID, c.Basis)
	if f.Months < 1 || f.Months > 12 || f.PerFailure < 0 || f.Cap < 0 {
		errs = append(errs, errors.New("recent_failures: months 1–12, per_failure and cap not negative"))
	}
	if c.PerComplaint < 0 || c.Cap < 0 {
		errs = append(errs, errors.New("complaints: per_complaint and cap not negative"))
	}
	w := r.ClusterWarnings
	need("cluster_warnings", w.ID, w.Basis)
	if w.Red < w.Orange || w.Orange < 0 {
		errs = append(errs, errors.New("cluster_warnings: want red ≥ orange ≥ 0"))
	}
	s := r.CountySuggestions
	need("county_suggestions", s.ID, s.Basis)
	if s.Cap < 0 {
		errs = append(errs, errors.New("county_suggestions: cap must not be negative"))
	}
	return errors.Join(errs...)
}
