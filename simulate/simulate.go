// Package simulate generates realistic synthetic supervision data for Huai'an:
// valid USCCs issued in its county-level regions, enterprises, and their
// events over several years, deterministic per seed. It also plants a ground
// truth (consistently bad firms, clusters whose failure rate rises) and mixes
// in malformed lines, resends and id conflicts, so tests and benchmarks can
// check the pipelines against known answers.
package simulate

import (
	"errors"
	"fmt"
	"time"
)

// Config says what to generate.
type Config struct {
	Enterprises int
	// Years and Months are the length of the simulated period (Months is
	// added to Years; benchmarks size a city's history with it).
	Years   int
	Months  int
	Seed    int64
	End     time.Time // last day of the simulated period (its date is used)
	BadRate float64   // share of malformed lines, resends and id conflicts mixed in
	// Events, when > 0, sizes the run to about this many lines (Enterprises is
	// ignored) and stops after exactly this many, so benchmarks get what they ask.
	Events int
	// Limit, when > 0, stops after this many lines without resizing the run.
	Limit int
}

// Validate says what is wrong with the configuration.
func (c Config) Validate() error {
	var errs []error
	if c.Enterprises < 1 && c.Events < 1 {
		errs = append(errs, errors.New("enterprises must be at least 1 (or set events)"))
	}
	if m := c.months(); c.Years < 0 || c.Months < 0 || m < 12 || m > 360 {
		errs = append(errs, fmt.Errorf("the period must be 1–30 years, got %d years and %d months", c.Years, c.Months))
	}
	if c.BadRate < 0 || c.BadRate > 0.5 {
		errs = append(errs, fmt.Errorf("bad rate must be 0–0.5, got %g", c.BadRate))
	}
	if c.End.IsZero() {
		errs = append(errs, errors.New("end date is required"))
	}
	if c.Events < 0 || c.Limit < 0 {
		errs = append(errs, errors.New("events and limit must not be negative"))
	}
	return errors.Join(errs...)
}

func (c Config) months() int { return c.Years*12 + c.Months }

// Generate writes one JSON line per event to emit, in occurred_at order, with
// malformed lines, resends and conflicts mixed in at cfg.BadRate. The line is
// only valid during the call.
func Generate(cfg Config, emit func(line []byte) error) (Truth, error) {
	p, err := NewPlan(cfg)
	if err != nil {
		return Truth{}, err
	}
	return p.Stream(func(l Line) error { return emit(l.Value) })
}
