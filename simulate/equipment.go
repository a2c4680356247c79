package simulate

import (
	"strconv"

	"github.com/qcredit/qcredit/model"
)

var (
	plantEquipment    = []string{"pressure_vessel", "lifting", "boiler", "field_vehicle", "pressure_piping", "gas_cylinder"}
	plantEquipmentCum = []float64{0.3, 0.55, 0.7, 0.88, 0.96}
	buildingEquipment = []string{"elevator", "boiler", "pressure_vessel"}
	buildingEquipCum  = []float64{0.85, 0.95}
	accidentGrades    = []string{"general", "larger", "major"}
	accidentGradeCum  = []float64{0.9, 0.98}
)

// equipmentCount is how many units of special equipment the firm runs:
// elevators in hotels, malls and managed estates; vessels, cranes, boilers
// and forklifts in plants, more the larger the firm.
func (g *firmGen) equipmentCount() int {
	ind := industries[g.f.industry]
	if !ind.manufacturing {
		return 2 + g.r.IntN(7)
	}
	switch g.f.scale {
	case "micro":
		return g.r.IntN(3)
	case "small":
		return 1 + g.r.IntN(4)
	case "medium":
		return 3 + g.r.IntN(6)
	}
	return 6 + g.r.IntN(10)
}

func (g *firmGen) equipment() {
	n := g.equipmentCount()
	if g.f.bad {
		n = max(n, 2) // so the planted bad firms can leave serious hazards open
	}
	for k := range n {
		g.unit(k)
	}
}

// unit plans one unit's life: registration (in the first weeks for units
// already in service, later for new ones), yearly inspections, hazards and,
// rarely, an accident.
func (g *firmGen) unit(k int) {
	cats, cum := plantEquipment, plantEquipmentCum
	if !industries[g.f.industry].manufacturing {
		cats, cum = buildingEquipment, buildingEquipCum
	}
	cat := pick(g.r, cats, cum)
	id := "TS" + strconv.Itoa(int(g.idx)+100000) + "-" + strconv.Itoa(k+1)
	from := g.lo()
	if g.r.Float64() < 0.2 {
		from += g.r.IntN(g.hi() - from + 1)
	}
	reg, ok := g.day(from)
	if !ok {
		return
	}
	reg = min(reg, from+60)
	o := g.equipObj(id, cat)
	g.add(model.EventEquipmentRegistered, reg, o, false)
	g.inspections(id, cat, reg)
	hazardRate := 0.2
	if g.f.bad {
		hazardRate = 1.2
	}
	for range g.count(hazardRate) {
		if d, ok := g.day(reg + 1); ok {
			g.hazard(id, cat, d)
		}
	}
	// Accidents are rare: a city of 20,000 firms (about 60,000 units) sees
	// one or two a year, one of grade larger or above in several years
	// (national figures: well under one per 10,000 units a year). The
	// planted bad firms, whose hazards go uncorrected, have most of them.
	accidentRate := 0.00003
	if g.f.bad {
		accidentRate = 0.01
	}
	if g.r.Float64() < accidentRate*g.years() {
		if d, ok := g.day(reg + 1); ok {
			o := g.equipObj(id, cat)
			o.str("accident_id", g.ref("SG", d))
			o.str("grade", pick(g.r, accidentGrades, accidentGradeCum))
			g.add(model.EventEquipmentAccident, d, o, true)
		}
	}
}

func (g *firmGen) equipObj(id, cat string) object {
	o := g.obj()
	o.str("equipment_id", id)
	o.str("category", cat)
	return o
}

// inspections are the periodic inspections, about a year apart.
func (g *firmGen) inspections(id, cat string, reg int) {
	passRate := 0.96
	if g.f.bad {
		passRate = 0.75
	}
	for d := reg + 10 + g.r.IntN(355); d <= g.hi(); d += 345 + g.r.IntN(40) {
		o := g.equipObj(id, cat)
		fail := g.r.Float64() >= passRate
		o.str("result", passFail(fail))
		g.add(model.EventEquipmentInspected, d, o, fail)
	}
}

// hazard plans a hazard (隐患) and its correction: most are corrected before
// the deadline, mostly found by the firm itself; some late, some never. The
// planted bad firms leave their serious hazards open.
func (g *firmGen) hazard(id, cat string, day int) {
	hazardID := g.ref("YH", day)
	serious := g.r.Float64() < 0.2 || (g.f.bad && g.r.Float64() < 0.6)
	deadline := day + 15 + g.r.IntN(46)
	if serious {
		deadline = day + 15 + g.r.IntN(16)
	}
	o := g.equipObj(id, cat)
	o.str("hazard_id", hazardID)
	o.boolean("serious", serious)
	o.str("deadline", g.cal.date(deadline))
	g.add(model.EventEquipmentHazardFound, day, o, serious)

	fixed := day + 1 + g.r.IntN(deadline-day-1)
	switch x := g.r.Float64(); {
	case g.f.bad && serious && x < 0.8, x >= 0.92:
		return // never corrected
	case x >= 0.85:
		fixed = deadline + 1 + g.r.IntN(60) // overdue
	}
	if fixed > g.hi() {
		return
	}
	o = g.equipObj(id, cat)
	o.str("hazard_id", hazardID)
	o.boolean("self_found", g.r.Float64() < 0.75)
	g.add(model.EventEquipmentHazardFixed, fixed, o, false)
}
