package clusters

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/qcredit/qcredit/model"
	"go.yaml.in/yaml/v3"
)

//go:embed default.yaml
var defaultYAML []byte

// DefaultYAML is the embedded default method, for printing and editing.
func DefaultYAML() []byte { return bytes.Clone(defaultYAML) }

// Default is the embedded method.
func Default() (*Config, error) { return Parse(defaultYAML) }

var signals = []model.Signal{model.SignalAlert, model.SignalAlarm, model.SignalRising, model.SignalAccident}

// Rule ids of the reasons an assessment gives; their basis texts are data.
const (
	RuleFunnelAlarm      = "cluster.funnel.alarm"
	RuleFunnelAlert      = "cluster.funnel.alert"
	RuleCUSUMRising      = "cluster.cusum.rising"
	RuleAccident         = "cluster.accident"
	RuleInsufficientData = "cluster.insufficient_data"
)

var rules = []string{RuleFunnelAlarm, RuleFunnelAlert, RuleCUSUMRising, RuleAccident, RuleInsufficientData}

// LevelRule says when a level applies and what the letter asks for at it.
type LevelRule struct {
	Level model.Level
	// When holds alternatives: the level applies when every signal of any
	// one of them is present.
	When    [][]model.Signal
	Letter  bool
	Actions []string
}

// Config is a parsed, validated method. Every field is a default of
// DOMAIN.md unless the bureau's file says otherwise.
type Config struct {
	// Version is "cl-" and the first 12 hex digits of the SHA-256 of the
	// file's bytes: any edit, even a comment, is a new version.
	Version           string
	WindowMonths      int
	MinChecks         int64
	MinEnterprises    int64
	BaselineMinChecks int64
	ClampLow          float64
	ClampHigh         float64
	// WinsoriseLow and WinsoriseHigh are percentiles (integers, so the
	// nearest rank is exact).
	WinsoriseLow   int
	WinsoriseHigh  int
	AlertLimit     float64
	AlarmLimit     float64
	OddsRatio      float64
	H              float64
	RecentMonths   int
	AccidentGrades []model.AccidentGrade
	TopEnterprises int
	// Levels are most severe first.
	Levels           []LevelRule
	Basis            map[string]string
	KeepClosedMonths int
	Sender           string
	ReplyWorkingDays int
	Addressees       map[string]string
}

type file struct {
	WindowMonths int `yaml:"window_months"`
	MinSample    struct {
		Checks      int64 `yaml:"checks"`
		Enterprises int64 `yaml:"enterprises"`
	} `yaml:"min_sample"`
	Baseline struct {
		MinChecks int64     `yaml:"min_checks"`
		Clamp     []float64 `yaml:"clamp"`
	} `yaml:"baseline"`
	Overdispersion struct {
		Winsorise []int `yaml:"winsorise"`
	} `yaml:"overdispersion"`
	Limits struct {
		Alert float64 `yaml:"alert"`
		Alarm float64 `yaml:"alarm"`
	} `yaml:"limits"`
	CUSUM struct {
		OddsRatio    float64 `yaml:"odds_ratio"`
		H            float64 `yaml:"h"`
		RecentMonths int     `yaml:"recent_months"`
	} `yaml:"cusum"`
	AccidentGrades []model.AccidentGrade `yaml:"accident_grades"`
	TopEnterprises int                   `yaml:"top_enterprises"`
	Levels         []struct {
		Level   model.Level      `yaml:"level"`
		When    [][]model.Signal `yaml:"when"`
		Letter  bool             `yaml:"letter"`
		Actions []string         `yaml:"actions"`
	} `yaml:"levels"`
	Basis     map[string]string `yaml:"basis"`
	Lifecycle struct {
		KeepClosedMonths int `yaml:"keep_closed_months"`
	} `yaml:"lifecycle"`
	Letter struct {
		Sender           string            `yaml:"sender"`
		ReplyWorkingDays int               `yaml:"reply_working_days"`
		Addressees       map[string]string `yaml:"addressees"`
	} `yaml:"letter"`
}

// Parse reads and validates a method file (the bytes of default.yaml or of
// the bureau's edited copy; the caller reads the file).
func Parse(b []byte) (*Config, error) {
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("parse cluster method: %w", err)
	}
	sum := sha256.Sum256(b)
	c := &Config{
		Version:           "cl-" + hex.EncodeToString(sum[:])[:12],
		WindowMonths:      f.WindowMonths,
		MinChecks:         f.MinSample.Checks,
		MinEnterprises:    f.MinSample.Enterprises,
		BaselineMinChecks: f.Baseline.MinChecks,
		AlertLimit:        f.Limits.Alert,
		AlarmLimit:        f.Limits.Alarm,
		OddsRatio:         f.CUSUM.OddsRatio,
		H:                 f.CUSUM.H,
		RecentMonths:      f.CUSUM.RecentMonths,
		AccidentGrades:    f.AccidentGrades,
		TopEnterprises:    f.TopEnterprises,
		Basis:             f.Basis,
		KeepClosedMonths:  f.Lifecycle.KeepClosedMonths,
		Sender:            f.Letter.Sender,
		ReplyWorkingDays:  f.Letter.ReplyWorkingDays,
		Addressees:        f.Letter.Addressees,
	}
	if len(f.Baseline.Clamp) == 2 {
		c.ClampLow, c.ClampHigh = f.Baseline.Clamp[0], f.Baseline.Clamp[1]
	}
	if len(f.Overdispersion.Winsorise) == 2 {
		c.WinsoriseLow, c.WinsoriseHigh = f.Overdispersion.Winsorise[0], f.Overdispersion.Winsorise[1]
	}
	for _, l := range f.Levels {
		c.Levels = append(c.Levels, LevelRule{Level: l.Level, When: l.When, Letter: l.Letter, Actions: l.Actions})
	}
	var errs []error
	if len(f.Baseline.Clamp) != 2 {
		errs = append(errs, errors.New("baseline.clamp needs two numbers [low, high]"))
	}
	if len(f.Overdispersion.Winsorise) != 2 {
		errs = append(errs, errors.New("overdispersion.winsorise needs two percentiles [low, high]"))
	}
	if err := errors.Join(append(errs, c.Validate())...); err != nil {
		return nil, fmt.Errorf("cluster method: %w", err)
	}
	return c, nil
}

// Validate says everything that is wrong with the method, each problem
// naming the setting to fix.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.WindowMonths < 1 || c.WindowMonths > 60 {
		bad("window_months must be 1–60, got %d", c.WindowMonths)
	}
	if c.MinChecks < 1 || c.MinEnterprises < 1 {
		bad("min_sample.checks and min_sample.enterprises must be at least 1")
	}
	if c.BaselineMinChecks < 1 {
		bad("baseline.min_checks must be at least 1")
	}
	if !(c.ClampLow > 0 && c.ClampLow < c.ClampHigh && c.ClampHigh < 1) {
		bad("baseline.clamp must satisfy 0 < low < high < 1, got [%g, %g]", c.ClampLow, c.ClampHigh)
	}
	if !(c.WinsoriseLow >= 0 && c.WinsoriseLow < c.WinsoriseHigh && c.WinsoriseHigh <= 100) {
		bad("overdispersion.winsorise must satisfy 0 ≤ low < high ≤ 100, got [%d, %d]", c.WinsoriseLow, c.WinsoriseHigh)
	}
	if !(c.AlertLimit > 0 && c.AlertLimit < c.AlarmLimit) || math.IsInf(c.AlarmLimit, 0) {
		bad("limits must satisfy 0 < alert < alarm, got alert %g, alarm %g", c.AlertLimit, c.AlarmLimit)
	}
	if !(c.OddsRatio > 1) || math.IsInf(c.OddsRatio, 0) {
		bad("cusum.odds_ratio must be above 1 (only a rise warns), got %g", c.OddsRatio)
	}
	if !(c.H > 0) || math.IsInf(c.H, 0) {
		bad("cusum.h must be above 0, got %g", c.H)
	}
	if c.RecentMonths < 1 || c.RecentMonths > c.WindowMonths {
		bad("cusum.recent_months must be 1–window_months, got %d", c.RecentMonths)
	}
	for _, g := range c.AccidentGrades {
		if !g.Valid() {
			bad("accident_grades: %q is not one of general, larger, major, especially_major", g)
		}
	}
	if c.TopEnterprises < 1 {
		bad("top_enterprises must be at least 1")
	}
	errs = append(errs, c.validateLevels())
	for _, r := range rules {
		if c.Basis[r] == "" {
			bad("basis.%s is required (the rule the reason rests on)", r)
		}
	}
	for k := range c.Basis {
		if !slices.Contains(rules, k) {
			bad("basis.%s is not a rule of the cluster method", k)
		}
	}
	if c.KeepClosedMonths < 0 {
		bad("lifecycle.keep_closed_months must not be negative")
	}
	if c.Sender == "" {
		bad("letter.sender (the bureau that signs the letter) is required")
	}
	if c.ReplyWorkingDays < 1 {
		bad("letter.reply_working_days must be at least 1")
	}
	return errors.Join(errs...)
}

func (c *Config) validateLevels() error {
	var errs []error
	prev := -1
	for i, l := range c.Levels {
		r := l.Level.Rank()
		switch {
		case r == 0:
			errs = append(errs, fmt.Errorf("levels[%d]: %q is not red, orange, yellow or blue", i, l.Level))
		case prev >= 0 && r >= prev:
			errs = append(errs, fmt.Errorf("levels[%d]: %s must come after the more severe levels, once", i, l.Level))
		}
		prev = r
		if len(l.When) == 0 {
			errs = append(errs, fmt.Errorf("levels[%d] (%s): when needs at least one list of signals", i, l.Level))
		}
		for _, all := range l.When {
			if len(all) == 0 {
				errs = append(errs, fmt.Errorf("levels[%d] (%s): an empty list of signals would always apply", i, l.Level))
			}
			for _, s := range all {
				if !slices.Contains(signals, s) {
					errs = append(errs, fmt.Errorf("levels[%d] (%s): signal %q is not alert, alarm, rising or accident", i, l.Level, s))
				}
			}
		}
	}
	if len(c.Levels) == 0 {
		errs = append(errs, errors.New("levels: at least one level is required"))
	}
	return errors.Join(errs...)
}

// level is the most severe level whose conditions the signals meet.
func (c *Config) level(has func(model.Signal) bool) (LevelRule, bool) {
	for _, l := range c.Levels {
		for _, all := range l.When {
			if allSignals(all, has) {
				return l, true
			}
		}
	}
	return LevelRule{}, false
}

func allSignals(all []model.Signal, has func(model.Signal) bool) bool {
	for _, s := range all {
		if !has(s) {
			return false
		}
	}
	return true
}

// rule is the level's rule; ok is false for a level the method does not use.
func (c *Config) rule(l model.Level) (LevelRule, bool) {
	for _, r := range c.Levels {
		if r.Level == l {
			return r, true
		}
	}
	return LevelRule{}, false
}

func (c *Config) seriousAccident(g model.AccidentGrade) bool {
	return slices.Contains(c.AccidentGrades, g)
}
