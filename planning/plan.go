package planning

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/qcredit/qcredit/model"
)

// ProductStats is what the warehouse knows of one product (the spot checks'
// data.product) this year.
type ProductStats struct {
	Product string
	// Industry is the GB/T 4754 class most of the product's checked firms are
	// in (ties: smallest code); cluster warnings match its division.
	Industry string
	// Checks and Failures are this year's spot_check.completed, every level.
	Checks, Failures int64
	// RecentFailures are the ids of failed checks in the last
	// PlanRules.RecentFailures.Months months of the year.
	RecentFailures []string
	// Complaints are the ids of complaints about the product this year.
	Complaints []string
}

// WarningLevel is a cluster warning's level (预警等级).
type WarningLevel string

const (
	WarningLevelRed    WarningLevel = "red"
	WarningLevelOrange WarningLevel = "orange"
	WarningLevelYellow WarningLevel = "yellow"
	WarningLevelBlue   WarningLevel = "blue"
)

// ClusterWarning is a current cluster warning: its cluster, level and the
// cluster's GB/T 4754 division.
type ClusterWarning struct {
	Cluster  string
	Level    WarningLevel
	Division string
}

// Suggestion is a county bureau's suggestion to check a product (抽查建议),
// recorded by an analyst as an event.
type Suggestion struct {
	EventID string
	County  string
	Product string
	Batches int64
	Note    string
}

// PlanInput is what next year's plan is made from.
type PlanInput struct {
	Year        int // the plan's year
	Products    []ProductStats
	Warnings    []ClusterWarning
	Suggestions []Suggestion
}

// Validate says what is wrong with the input.
func (in PlanInput) Validate() error {
	var errs []error
	if in.Year < 2000 || in.Year > 9999 {
		errs = append(errs, fmt.Errorf("plan year %d: want the year the plan is for", in.Year))
	}
	seen := map[string]bool{}
	for _, p := range in.Products {
		if err := checkField(p.Product); err != nil {
			errs = append(errs, fmt.Errorf("product name: %w", err))
		}
		if seen[p.Product] {
			errs = append(errs, fmt.Errorf("product %s is listed twice", p.Product))
		}
		seen[p.Product] = true
		if p.Failures < 0 || p.Failures > p.Checks {
			errs = append(errs, fmt.Errorf("product %s: %d failures of %d checks", p.Product, p.Failures, p.Checks))
		}
		errs = append(errs, checkCount("checks of "+p.Product, p.Checks))
	}
	for _, s := range in.Suggestions {
		if err := checkField(s.Product); err != nil {
			errs = append(errs, fmt.Errorf("suggestion %s: product: %w", s.EventID, err))
		}
		if s.Batches < 1 {
			errs = append(errs, fmt.Errorf("suggestion %s: %d batches, want at least 1", s.EventID, s.Batches))
		}
	}
	return errors.Join(errs...)
}

// PlanLine is one product's batches next year, with every rule that set them.
type PlanLine struct {
	Product  string `json:"product"`
	Industry string `json:"industry,omitempty"`
	Checks   int64  `json:"checks"`
	Failures int64  `json:"failures"`
	// PassRate is this year's (checks − failures) / checks, half up to six
	// decimals; absent without checks. Rules compare the exact fraction.
	PassRate *Decimal       `json:"pass_rate,omitempty"`
	Batches  int64          `json:"batches"`
	Quarters [4]int64       `json:"quarters"`
	Reasons  []model.Reason `json:"reasons"`
}

// Plan is next year's spot-check plan, by product.
type Plan struct {
	Year         int        `json:"year"`
	RulesVersion string     `json:"rules_version"`
	Batches      int64      `json:"batches"`
	Quarters     [4]int64   `json:"quarters"`
	Lines        []PlanLine `json:"lines"`
}

const (
	RulePlanBase   = "plan.base"
	basisPlanBase  = "淮安市质监局市场主体监管实施办法 三(二)2(3)：编制次年产品质量监督抽查计划，计划一般按季度组织实施"
	RulePlanCapped = "plan.max_batches"
)

// MakePlan plans next year's batches product by product (lines by product
// name, byte order): this year's checks, scaled by one pass-rate rule, plus
// failures, complaints, warnings and suggestions, capped, spread by quarter.
func (r *PlanRules) MakePlan(in PlanInput) (Plan, error) {
	if err := in.Validate(); err != nil {
		return Plan{}, fmt.Errorf("plan %d: %w", in.Year, err)
	}
	byProduct := map[string]ProductStats{}
	for _, p := range in.Products {
		byProduct[p.Product] = p
	}
	suggestions := map[string][]Suggestion{}
	for _, s := range in.Suggestions {
		suggestions[s.Product] = append(suggestions[s.Product], s)
		if _, ok := byProduct[s.Product]; !ok {
			byProduct[s.Product] = ProductStats{Product: s.Product} // suggested, not checked this year
		}
	}
	plan := Plan{Year: in.Year, RulesVersion: r.Version, Lines: []PlanLine{}}
	for _, name := range slices.Sorted(maps.Keys(byProduct)) {
		line := r.planLine(byProduct[name], in.Warnings, suggestions[name])
		plan.Batches += line.Batches
		for q := range plan.Quarters {
			plan.Quarters[q] += line.Quarters[q]
		}
		plan.Lines = append(plan.Lines, line)
	}
	return plan, nil
}

// planLine applies the rules to one product, in the order plan.yaml states.
func (r *PlanRules) planLine(p ProductStats, warnings []ClusterWarning, suggestions []Suggestion) PlanLine {
	line := PlanLine{Product: p.Product, Industry: p.Industry, Checks: p.Checks, Failures: p.Failures}
	passes := p.Checks - p.Failures
	if p.Checks > 0 {
		rate := Ratio(passes, p.Checks)
		line.PassRate = &rate
	}
	b := p.Checks
	line.Reasons = append(line.Reasons, model.Reason{Rule: RulePlanBase, Count: p.Checks, Basis: basisPlanBase,
		Detail: fmt.Sprintf("%d checks this year (%d failed) are the starting point: %d batches", p.Checks, p.Failures, b)})

	h, l := r.HighPassRate, r.LowPassRate
	switch {
	case p.Checks >= h.MinChecks && h.Above.Exceeds(passes, p.Checks):
		after := h.Factor.RoundHalfUp(b)
		line.Reasons = append(line.Reasons, model.Reason{Rule: h.ID, Count: p.Checks, Basis: h.Basis,
			Detail: fmt.Sprintf("pass rate %s (%d of %d) is above %s with at least %d checks: %d × %s = %d batches",
				line.PassRate.Percent(), passes, p.Checks, h.Above.Percent(), h.MinChecks, b, h.Factor, after)})
		b = after
	case p.Checks >= l.MinChecks && l.Below.Undercuts(passes, p.Checks):
		after := l.Factor.RoundHalfUp(b)
		line.Reasons = append(line.Reasons, model.Reason{Rule: l.ID, Count: p.Checks, Basis: l.Basis,
			Detail: fmt.Sprintf("pass rate %s (%d of %d) is below %s with at least %d checks: %d × %s = %d batches",
				line.PassRate.Percent(), passes, p.Checks, l.Below.Percent(), l.MinChecks, b, l.Factor, after)})
		b = after
	}

	if n := int64(len(p.RecentFailures)); n > 0 && r.RecentFailures.PerFailure > 0 {
		f := r.RecentFailures
		add := min(f.Cap, n*f.PerFailure)
		line.Reasons = append(line.Reasons, model.Reason{Rule: f.ID, Count: n, Events: sortedIDs(p.RecentFailures), Basis: f.Basis,
			Detail: fmt.Sprintf("%d failed checks in the last %d months: + %d batches (%d each, at most %d)", n, f.Months, add, f.PerFailure, f.Cap)})
		b += add
	}
	if n := int64(len(p.Complaints)); n > 0 && r.Complaints.PerComplaint > 0 {
		c := r.Complaints
		add := min(c.Cap, n*c.PerComplaint)
		line.Reasons = append(line.Reasons, model.Reason{Rule: c.ID, Count: n, Events: sortedIDs(p.Complaints), Basis: c.Basis,
			Detail: fmt.Sprintf("%d complaints this year: + %d batches (%d each, at most %d)", n, add, c.PerComplaint, c.Cap)})
		b += add
	}
	if reason, add, ok := r.warningReason(p, warnings); ok {
		line.Reasons = append(line.Reasons, reason)
		b += add
	}
	if len(suggestions) > 0 {
		s := r.CountySuggestions
		var asked int64
		var ids, from []string
		for _, x := range suggestions {
			asked += x.Batches
			ids = append(ids, x.EventID)
			from = append(from, fmt.Sprintf("%s asks %d", x.County, x.Batches))
		}
		slices.Sort(from)
		add := min(s.Cap, asked)
		line.Reasons = append(line.Reasons, model.Reason{Rule: s.ID, Count: int64(len(suggestions)), Events: sortedIDs(ids), Basis: s.Basis,
			Detail: fmt.Sprintf("county suggestions (%s): + %d batches (at most %d)", strings.Join(from, ", "), add, s.Cap)})
		b += add
	}
	if b > r.MaxBatches {
		line.Reasons = append(line.Reasons, model.Reason{Rule: RulePlanCapped, Count: b, Basis: basisPlanBase,
			Detail: fmt.Sprintf("%d batches capped at %d (max_batches)", b, r.MaxBatches)})
		b = r.MaxBatches
	}
	line.Batches = b
	line.Quarters = byQuarter(b)
	return line
}

// warningReason adds batches for the highest red or orange warning on the
// product's industry division; several clusters of it count once.
func (r *PlanRules) warningReason(p ProductStats, warnings []ClusterWarning) (model.Reason, int64, bool) {
	if p.Industry == "" {
		return model.Reason{}, 0, false
	}
	div := model.Division(p.Industry)
	var red, orange []string
	for _, w := range warnings {
		if w.Division != div {
			continue
		}
		switch w.Level {
		case WarningLevelRed:
			red = append(red, w.Cluster)
		case WarningLevelOrange:
			orange = append(orange, w.Cluster)
		}
	}
	w := r.ClusterWarnings
	var add int64
	var level WarningLevel
	switch {
	case len(red) > 0:
		add, level = w.Red, WarningLevelRed
	case len(orange) > 0:
		add, level = w.Orange, WarningLevelOrange
	default:
		return model.Reason{}, 0, false
	}
	clusters := slices.Concat(sortedIDs(red), sortedIDs(orange))
	return model.Reason{Rule: w.ID, Count: int64(len(clusters)), Basis: w.Basis,
		Detail: fmt.Sprintf("%s warning on industry %s (clusters %s): + %d batches", level, div, strings.Join(clusters, ", "), add)}, add, true
}

// byQuarter spreads n batches over four quarters as evenly as they go, the
// remainder to the earliest quarters.
func byQuarter(n int64) [4]int64 {
	var q [4]int64
	for i := range q {
		q[i] = n / 4
		if int64(i) < n%4 {
			q[i]++
		}
	}
	return q
}

func sortedIDs(ids []string) []string { return slices.Sorted(slices.Values(ids)) }

// NumberBatches numbers the plan's batches for assignment to agencies: per quarter,
// per line (product order), one id each, "<year>-q<quarter>-<nnnn>" counting
// within the quarter.
func (p Plan) NumberBatches() []Batch {
	var out []Batch
	for q := range 4 {
		n := 0
		for _, l := range p.Lines {
			for range l.Quarters[q] {
				n++
				out = append(out, Batch{ID: fmt.Sprintf("%d-q%d-%04d", p.Year, q+1, n), Product: l.Product, Quarter: q + 1})
			}
		}
	}
	return out
}
