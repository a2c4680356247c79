package simulate

import (
	"github.com/qcredit/qcredit/model"
)

var (
	levels       = []string{"national", "provincial", "city", "county"}
	levelCum     = []float64{0.05, 0.25, 0.6}
	severities   = []string{"minor", "major", "critical"}
	severityCum  = []float64{0.55, 0.88}
	badSevCum    = []float64{0.25, 0.6}
	fineMeasures = map[string][]string{ // looked up by severity, never iterated
		"light":   {"警告", "责令改正"},
		"general": {"责令改正", "罚款", "没收违法生产的产品"},
		"heavy":   {"罚款", "没收违法所得", "责令停产停业"},
	}
)

// spotCheckRate is supervisory spot checks (监督抽查) a year: manufacturers
// are sampled by scale, retailers rarely, hotels and property managers never.
func (g *firmGen) spotCheckRate() float64 {
	ind := industries[g.f.industry]
	switch {
	case g.f.bad:
		return 3
	case !ind.manufacturing && ind.class == "F5211":
		return 0.3
	case !ind.manufacturing:
		return 0
	case g.f.scale == "micro":
		return 1.0
	case g.f.scale == "small":
		return 1.4
	}
	return 2.2
}

// failRate is the chance a check fails on day: the industry's rate, 30 % in
// the last year for a rising cluster, 70 % for a planted bad firm.
func (g *firmGen) failRate(day int) float64 {
	switch {
	case g.f.bad:
		return 0.7
	case g.f.rising && day >= g.lastYear:
		return 0.30
	case g.f.rising:
		return 0.06
	}
	return industries[g.f.industry].failRate
}

func (g *firmGen) spotChecks() {
	for range g.count(g.spotCheckRate()) {
		day, _ := g.day(g.lo())
		id, fail := g.spotCheck(day, "", g.failRate(day))
		if fail {
			g.afterFailure(id, day)
		}
	}
}

// spotCheck plans one check; retestOf names the failed check it re-examines.
func (g *firmGen) spotCheck(day int, retestOf string, failRate float64) (string, bool) {
	ind := industries[g.f.industry]
	id := g.ref("CJ", day)
	fail := g.r.Float64() < failRate
	o := g.obj()
	o.str("check_id", id)
	o.str("product", ind.products[g.r.IntN(len(ind.products))])
	o.str("result", passFail(fail))
	if fail {
		cum := severityCum
		if g.f.bad {
			cum = badSevCum
		}
		o.str("severity", pick(g.r, severities, cum))
	}
	o.str("level", pick(g.r, levels, levelCum))
	if retestOf != "" {
		o.str("retest_of", retestOf)
	}
	g.add(model.EventSpotCheckCompleted, day, o, fail)
	return id, fail
}

// afterFailure follows a failed check the way the Product Quality Law
// escalates: usually a re-check weeks later, often a penalty.
func (g *firmGen) afterFailure(checkID string, day int) {
	if g.r.Float64() < 0.6 {
		if d := day + 15 + g.r.IntN(46); d <= g.hi() {
			rate := 0.2
			if g.f.bad {
				rate = 0.6
			}
			g.spotCheck(d, checkID, rate)
		}
	}
	penaltyRate := 0.35
	if g.f.bad {
		penaltyRate = 0.9
	}
	if g.r.Float64() < penaltyRate {
		if d := day + 20 + g.r.IntN(71); d <= g.hi() {
			g.qualityPenalty(d)
		}
	}
}

// qualityPenalty punishes a product failure: mostly substandard goods; the
// planted bad firms get heavy penalties, often for counterfeits.
func (g *firmGen) qualityPenalty(day int) {
	if g.f.bad {
		v := pick(g.r, []string{"counterfeit", "substandard"}, []float64{0.4})
		g.penalty(day, v, "heavy")
		return
	}
	// Heavy penalties (较重行政处罚, which list a firm) are the exception
	// for an ordinary firm's failed check.
	v := pick(g.r, []string{"substandard", "false_labeling", "counterfeit"}, []float64{0.8, 0.95})
	g.penalty(day, v, pick(g.r, []string{"light", "general", "heavy"}, []float64{0.5, 0.985}))
}

// otherPenalties are cases not found by spot checks: unlicensed production,
// metrology, special equipment, obstruction.
func (g *firmGen) otherPenalties() {
	for range g.count(0.03) {
		day, _ := g.day(g.lo())
		v := pick(g.r, []string{"unlicensed", "metrology", "special_equipment", "obstruction", "other"},
			[]float64{0.3, 0.5, 0.8, 0.85})
		g.penalty(day, v, pick(g.r, []string{"light", "general", "heavy"}, []float64{0.55, 0.99}))
	}
}

// penalty plans a decision and what may follow it: annulment on review, or
// credit repair once the waiting period (6 months, 1 year for food and
// special equipment) has passed.
func (g *firmGen) penalty(day int, violation, severity string) {
	caseNo := g.ref("淮市监罚", day)
	o := g.obj()
	o.str("case_no", caseNo)
	o.str("violation", violation)
	o.str("severity", severity)
	o.num("fine_yuan", g.fine(severity))
	o.strs("measures", fineMeasures[severity])
	g.add(model.EventPenaltyDecided, day, o, true)
	switch x := g.r.Float64(); {
	case x < 0.03 && !g.f.bad:
		if d := day + 30 + g.r.IntN(170); d <= g.hi() {
			o := g.obj()
			o.str("case_no", caseNo)
			o.str("reason", "行政复议撤销")
			g.add(model.EventPenaltyRevoked, d, o, false)
		}
	case x < 0.25 && severity != "heavy" && !g.f.bad:
		g.creditRepair(day, caseNo, violation)
	}
}

func (g *firmGen) creditRepair(day int, caseNo, violation string) {
	wait := 183
	if violation == "special_equipment" || industries[g.f.industry].class[:3] <= "C15" {
		wait = 366
	}
	if d := day + wait + g.r.IntN(200); d <= g.hi() {
		o := g.obj()
		o.str("case_no", caseNo)
		o.str("decision_no", g.ref("淮市监信修", d))
		g.add(model.EventCreditRepaired, d, o, false)
	}
}

// fine is in yuan, rounded to hundreds, by the discretion benchmark's bands.
func (g *firmGen) fine(severity string) int64 {
	lo, span := 2000, 18000
	switch severity {
	case "general":
		lo, span = 10000, 90000
	case "heavy":
		lo, span = 50000, 450000
	}
	return int64((lo+g.r.IntN(span))/100) * 100
}

// passFail is the result word of a check or inspection.
func passFail(fail bool) string {
	if fail {
		return "fail"
	}
	return "pass"
}
