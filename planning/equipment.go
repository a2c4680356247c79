package planning

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/qcredit/qcredit/model"
)

// Special equipment (特种设备): the using units' self-correction rate (隐患自查自纠率,
// measures 三(二)4(2): 保持特种设备使用单位的隐患自查自纠率达到90%以上) and the
// serious hazards left past their deadline.

const (
	RuleSelfCorrectionBelow = "equipment.self_correction_below"
	RuleHazardOverdue       = "equipment.serious_hazard_overdue"
	basisSelfCorrection     = "淮安市质监局市场主体监管实施办法 三(二)4(2)：保持特种设备使用单位的隐患自查自纠率达到90%以上"
	basisHazardOverdue      = "特种设备安全法第40条、第41条：发现事故隐患应立即处理；严重事故隐患限期整改"
)

// Hazard is one equipment.hazard_found joined with its equipment.hazard_corrected
// (by hazard id), as the job reads it.
type Hazard struct {
	HazardID string
	EventID  string     // of the finding
	USCC     model.USCC // the using unit (使用单位)
	// County is the bureau that reported the finding (its source); KPIs
	// count the hazard for it.
	County      string
	EquipmentID string
	Serious     bool
	FoundAt     time.Time
	Deadline    time.Time // the correction deadline's date; zero when none was set
	CorrectedAt time.Time // zero while open
	// SelfFound: the correction says the unit found the hazard itself.
	SelfFound bool
}

// EquipmentRules are the self-correction target.
type EquipmentRules struct {
	// Target is the least self-correction rate (default 0.9); units below it are listed.
	Target Decimal `json:"target"`
	// MinHazards is how many hazards a unit needs before its rate is judged.
	MinHazards int64 `json:"min_hazards"`
}

// DefaultEquipmentRules are 90 % from one hazard on.
func DefaultEquipmentRules() EquipmentRules { return EquipmentRules{Target: 900_000, MinHazards: 1} }

// Validate says what is wrong with the rules.
func (r EquipmentRules) Validate() error {
	var errs []error
	if r.Target <= 0 || r.Target > DecimalOne {
		errs = append(errs, fmt.Errorf("self-correction target %s: want more than 0, at most 1", r.Target))
	}
	if r.MinHazards < 1 {
		errs = append(errs, errors.New("min_hazards must be at least 1"))
	}
	return errors.Join(errs...)
}

// UnitRate is one using unit's self-correction rate.
type UnitRate struct {
	USCC   model.USCC `json:"uscc"`
	County string     `json:"county"`
	// Hazards found; SelfCorrected: found and corrected by the unit itself;
	// Corrected: corrected at all; Open: not yet corrected.
	Hazards       int64          `json:"hazards"`
	SelfCorrected int64          `json:"self_corrected"`
	Corrected     int64          `json:"corrected"`
	Open          int64          `json:"open"`
	Rate          Decimal        `json:"rate"` // SelfCorrected / Hazards, half up to six decimals
	Below         bool           `json:"below"`
	Reasons       []model.Reason `json:"reasons,omitempty"`
}

// OverdueHazard is a serious hazard open past its deadline.
type OverdueHazard struct {
	HazardID    string       `json:"hazard_id"`
	USCC        model.USCC   `json:"uscc"`
	County      string       `json:"county"`
	EquipmentID string       `json:"equipment_id"`
	Deadline    string       `json:"deadline"`
	DaysOverdue int64        `json:"days_overdue"` // calendar days: deadlines are dates set by the order
	Reason      model.Reason `json:"reason"`
}

// EquipmentInput is what the self-correction report reads: the hazards
// found in its window (the job chooses it, e.g. the last 12 months).
type EquipmentInput struct {
	AsOf    time.Time
	Hazards []Hazard
	Rules   EquipmentRules
}

// Validate says what is wrong with the input.
func (in EquipmentInput) Validate() error {
	errs := []error{in.Rules.Validate()}
	if in.AsOf.IsZero() {
		errs = append(errs, errors.New("as_of is required"))
	}
	seen := map[string]bool{}
	for _, h := range in.Hazards {
		if h.HazardID == "" || seen[h.HazardID] {
			errs = append(errs, fmt.Errorf("hazard %q: every hazard needs its own id", h.HazardID))
		}
		seen[h.HazardID] = true
	}
	return errors.Join(errs...)
}

// EquipmentReport is every unit's rate (by USCC) and the overdue serious
// hazards (by deadline, then id).
type EquipmentReport struct {
	AsOf    string          `json:"as_of"`
	Rules   EquipmentRules  `json:"rules"`
	Units   []UnitRate      `json:"units"`
	Overdue []OverdueHazard `json:"overdue"`
}

// Below lists the units under the target.
func (r EquipmentReport) Below() []UnitRate {
	var out []UnitRate
	for _, u := range r.Units {
		if u.Below {
			out = append(out, u)
		}
	}
	return out
}

// SelfCorrection computes each using unit's self-correction rate and flags
// serious hazards open past their deadline. A correction after the as_of day
// has not happened yet.
func SelfCorrection(in EquipmentInput) (EquipmentReport, error) {
	if err := in.Validate(); err != nil {
		return EquipmentReport{}, fmt.Errorf("self-correction: %w", err)
	}
	today := dayOf(in.AsOf)
	cutoff := today.AddDate(0, 0, 1)
	units := map[model.USCC]*UnitRate{}
	rep := EquipmentReport{AsOf: today.Format(time.DateOnly), Rules: in.Rules, Units: []UnitRate{}, Overdue: []OverdueHazard{}}
	for _, h := range in.Hazards {
		u := units[h.USCC]
		if u == nil {
			u = &UnitRate{USCC: h.USCC, County: h.County}
			units[h.USCC] = u
		}
		u.Hazards++
		corrected := !h.CorrectedAt.IsZero() && h.CorrectedAt.Before(cutoff)
		switch {
		case corrected && h.SelfFound:
			u.SelfCorrected++
			u.Corrected++
		case corrected:
			u.Corrected++
		default:
			u.Open++
		}
		if h.Serious && !corrected && !h.Deadline.IsZero() && today.After(dayOf(h.Deadline)) {
			rep.Overdue = append(rep.Overdue, overdueHazard(h, today))
		}
	}
	for _, u := range units {
		u.Rate = Ratio(u.SelfCorrected, u.Hazards)
		if u.Hazards >= in.Rules.MinHazards && in.Rules.Target.Undercuts(u.SelfCorrected, u.Hazards) {
			u.Below = true
			u.Reasons = []model.Reason{{Rule: RuleSelfCorrectionBelow, Count: u.Hazards, Basis: basisSelfCorrection,
				Detail: fmt.Sprintf("found and corrected %d of its %d hazards itself (%s), below %s; %d corrected after others found them, %d open",
					u.SelfCorrected, u.Hazards, u.Rate.Percent(), in.Rules.Target.Percent(), u.Corrected-u.SelfCorrected, u.Open)}}
		}
		rep.Units = append(rep.Units, *u)
	}
	slices.SortFunc(rep.Units, func(a, b UnitRate) int { return strings.Compare(string(a.USCC), string(b.USCC)) })
	slices.SortFunc(rep.Overdue, func(a, b OverdueHazard) int {
		return cmp.Or(strings.Compare(a.Deadline, b.Deadline), strings.Compare(a.HazardID, b.HazardID))
	})
	return rep, nil
}

func overdueHazard(h Hazard, today time.Time) OverdueHazard {
	deadline := dayOf(h.Deadline)
	days := civilDays(today) - civilDays(deadline)
	o := OverdueHazard{HazardID: h.HazardID, USCC: h.USCC, County: h.County, EquipmentID: h.EquipmentID,
		Deadline: deadline.Format(time.DateOnly), DaysOverdue: days}
	o.Reason = model.Reason{Rule: RuleHazardOverdue, Count: days, Events: []string{h.EventID}, Basis: basisHazardOverdue,
		Detail: fmt.Sprintf("serious hazard %s on %s found %s, to be corrected by %s, still open %d days later",
			h.HazardID, h.EquipmentID, dayOf(h.FoundAt).Format(time.DateOnly), o.Deadline, days)}
	return o
}
