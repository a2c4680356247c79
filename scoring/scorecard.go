// Package scoring is the quality-credit scorecard (质量信用评分卡): a pure
// function from an enterprise's features (counts of its records by kind,
// severity and age, with their event ids) to a score, a grade and the reasons
// behind every point. The rules are data (default.yaml, embedded), so the
// bureau can change them without a release; the scorecard's version is a hash
// of its bytes and is recorded on every run.
package scoring

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"math"

	"os"
	"time"

	"github.com/qcredit/qcredit/model"

	"go.yaml.in/yaml/v3"
)

//go:embed default.yaml
var defaultYAML []byte

// DefaultYAML is the embedded default scorecard, for printing and editing.
func DefaultYAML() []byte { return bytes.Clone(defaultYAML) }

// Default is the embedded scorecard.
func Default() (*Scorecard, error) { return Parse(defaultYAML) }

// Load reads a scorecard file; an empty path gives the default.
func Load(path string) (*Scorecard, error) {
	if path == "" {
		return Default()
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read scorecard: %w", err)
	}
	sc, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("scorecard %s: %w", path, err)
	}
	return sc, nil
}

// Scorecard is a parsed, validated scorecard.
type Scorecard struct {
	// Version is "sc-" and the first 12 hex digits of the SHA-256 of the
	// file's bytes: any edit, even a comment, is a new version, so a run's
	// version always identifies the exact file.
	Version        string
	Base           model.Points
	Windows        []Window
	Grades         Thresholds
	CreditCap      model.Points
	Rules          []Rule
	GradeAEvidence Evidence
}

// Window is one look-back age bucket: events at most Months old (and older
// than the previous window) count with Weight.
type Window struct {
	Months int
	// Permille is the weight in thousandths, so points stay integer.
	Permille int64
}

// Thresholds are the lowest scores of grades A, B and C; below C is D.
type Thresholds struct{ A, B, C model.Points }

// Match selects feature rows. Empty lists match anything; Flags [""] matches
// only rows without a flag.
type Match struct {
	Kind       string   `yaml:"kind"`
	Subs       []string `yaml:"subs"`
	Categories []string `yaml:"categories"`
	Flags      []string `yaml:"flags"`
}

// Rule deducts or credits Points per matching event, weighted by age, with
// an optional Cap on the rule's total (same sign as Points).
type Rule struct {
	ID     string
	Match  Match
	Points model.Points
	Cap    model.Points
	Basis  string
}

// Evidence is what grade A needs: at least one matching event in the look-back.
type Evidence struct {
	ID      string
	Matches []Match
	Basis   string
}

type fileRule struct {
	ID     string  `yaml:"id"`
	Match  Match   `yaml:"match"`
	Points float64 `yaml:"points"`
	Cap    float64 `yaml:"cap"`
	Basis  string  `yaml:"basis"`
}

type file struct {
	Base     float64 `yaml:"base"`
	Lookback []struct {
		Months int     `yaml:"months"`
		Weight float64 `yaml:"weight"`
	} `yaml:"lookback"`
	Grades struct {
		A float64 `yaml:"a"`
		B float64 `yaml:"b"`
		C float64 `yaml:"c"`
	} `yaml:"grades"`
	CreditCap      float64    `yaml:"credit_cap"`
	Rules          []fileRule `yaml:"rules"`
	GradeAEvidence struct {
		ID      string  `yaml:"id"`
		Matches []Match `yaml:"matches"`
		Basis   string  `yaml:"basis"`
	} `yaml:"grade_a_evidence"`
}

// Parse reads and validates a scorecard.
func Parse(b []byte) (*Scorecard, error) {
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("parse scorecard: %w", err)
	}
	sum := sha256.Sum256(b)
	sc := &Scorecard{
		Version:   "sc-" + hex.EncodeToString(sum[:])[:12],
		Base:      model.PointsOf(f.Base),
		Grades:    Thresholds{A: model.PointsOf(f.Grades.A), B: model.PointsOf(f.Grades.B), C: model.PointsOf(f.Grades.C)},
		CreditCap: model.PointsOf(f.CreditCap),
		GradeAEvidence: Evidence{ID: f.GradeAEvidence.ID, Matches: f.GradeAEvidence.Matches,
			Basis: f.GradeAEvidence.Basis},
	}
	for _, w := range f.Lookback {
		sc.Windows = append(sc.Windows, Window{Months: w.Months, Permille: int64(math.Round(w.Weight * 1000))})
	}
	for _, r := range f.Rules {
		sc.Rules = append(sc.Rules, Rule{ID: r.ID, Match: r.Match, Points: model.PointsOf(r.Points), Cap: model.PointsOf(r.Cap), Basis: r.Basis})
	}
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	return sc, nil
}

// Validate says what is wrong with the scorecard.
func (sc *Scorecard) Validate() error {
	var errs []error
	if sc.Base <= 0 || sc.Base > model.MaxScore {
		errs = append(errs, fmt.Errorf("base must be in (0, 100], got %s", sc.Base))
	}
	if len(sc.Windows) == 0 || len(sc.Windows) > 6 {
		errs = append(errs, errors.New("lookback needs 1–6 windows"))
	}
	prev := 0
	for i, w := range sc.Windows {
		if w.Months <= prev {
			errs = append(errs, fmt.Errorf("lookback window %d: months must increase, got %d after %d", i+1, w.Months, prev))
		}
		if w.Permille < 0 || w.Permille > 1000 {
			errs = append(errs, fmt.Errorf("lookback window %d: weight must be 0–1", i+1))
		}
		prev = w.Months
	}
	if !(sc.Grades.A > sc.Grades.B && sc.Grades.B > sc.Grades.C && sc.Grades.C > 0) {
		errs = append(errs, errors.New("grades must satisfy a > b > c > 0"))
	}
	if sc.CreditCap < 0 {
		errs = append(errs, errors.New("credit_cap must not be negative"))
	}
	seen := map[string]bool{}
	checkID := func(id string) {
		if id == "" {
			errs = append(errs, errors.New("every rule needs an id"))
		} else if seen[id] {
			errs = append(errs, fmt.Errorf("rule id %q is used twice", id))
		}
		seen[id] = true
	}
	checkMatch := func(id string, m Match) {
		if err := model.CheckFeatureMatch(m.Kind, m.Subs, m.Categories, m.Flags); err != nil {
			errs = append(errs, fmt.Errorf("rule %s can never match: %w", id, err))
		}
	}
	for _, r := range sc.Rules {
		checkID(r.ID)
		checkMatch(r.ID, r.Match)
		if r.Cap != 0 && (r.Cap > 0) != (r.Points > 0) {
			errs = append(errs, fmt.Errorf("rule %s: cap must have the sign of points", r.ID))
		}
		if r.Basis == "" {
			errs = append(errs, fmt.Errorf("rule %s: basis (the rule it rests on) is required", r.ID))
		}
	}
	checkID(sc.GradeAEvidence.ID)
	if len(sc.GradeAEvidence.Matches) == 0 {
		errs = append(errs, errors.New("grade_a_evidence needs matches"))
	}
	for _, m := range sc.GradeAEvidence.Matches {
		checkMatch(sc.GradeAEvidence.ID, m)
	}
	return errors.Join(errs...)
}

// Bounds are the window boundaries for a run: bounds[i] is the earliest
// instant of window i (inclusive), cutoff the end of the run (exclusive).
// Windows are counted in calendar months back from the cutoff.
func (sc *Scorecard) Bounds(cutoff time.Time) []time.Time {
	out := make([]time.Time, len(sc.Windows))
	for i, w := range sc.Windows {
		out[i] = cutoff.AddDate(0, -w.Months, 0)
	}
	return out
}
