package simulate

import (
	"github.com/qcredit/qcredit/model"
)

// updates are partial changes of the register: a new name or a new scale.
func (g *firmGen) updates() {
	if g.r.Float64() >= 0.15 {
		return
	}
	day, _ := g.day(g.lo())
	o := g.obj()
	if g.r.Float64() < 0.4 {
		c := counties[g.f.county]
		o.str("name", firmName(g.r, c, industries[g.f.industry], g.f.uscc[1], g.f.scale))
	} else {
		o.str("scale", pickScale(g.r))
	}
	g.add(model.EventEnterpriseUpdated, day, o, false)
}

// licences are production licences: industrial products for most
// manufacturers (granted or renewed in the period), special-equipment
// manufacture for machinery makers, and metrology licences, abolished in
// 2018, only in a simulation's first year. A few are revoked.
func (g *firmGen) licences() {
	ind := industries[g.f.industry]
	if !ind.manufacturing {
		return
	}
	if g.r.Float64() < 0.45 || g.f.bad {
		g.licence("industrial_product", "XK", 5)
	}
	if (ind.class == "C3512" || ind.class == "C3311") && g.r.Float64() < 0.25 {
		g.licence("special_equipment", "TS", 4)
	}
	if ind.class == "C4011" && g.r.Float64() < 0.2 && g.lo() < 365 {
		g.licenceOn("metrology", "JL", 5, g.lo()+g.r.IntN(min(365, g.hi()+1)-g.lo()))
	}
}

func (g *firmGen) licence(kind, prefix string, years int) {
	day, _ := g.day(g.lo())
	g.licenceOn(kind, prefix, years, day)
}

func (g *firmGen) licenceOn(kind, prefix string, years, day int) {
	no := g.ref(prefix, day)
	o := g.obj()
	o.str("licence_no", no)
	o.str("kind", kind)
	o.str("valid_until", g.cal.date(day+years*365))
	g.add(model.EventLicenceGranted, day, o, false)
	// Revocation is the end of an escalation (DOMAIN.md): rare for an
	// ordinary firm, common for the planted bad ones.
	rate := 0.002
	if g.f.bad {
		rate = 0.5
	}
	if g.r.Float64() >= rate {
		return
	}
	if d, ok := g.day(day + 30); ok {
		o := g.obj()
		o.str("licence_no", no)
		o.str("reason", pick(g.r, []string{"violation", "fraud", "other"}, []float64{0.7, 0.9}))
		o.str("decision_no", g.ref("淮市监撤", d))
		g.add(model.EventLicenceRevoked, d, o, true)
	}
}

// complaints come through 12365, the web or letters; most are closed within
// weeks, about 30 % verified (80 % for the planted bad firms).
func (g *firmGen) complaints() {
	rate, verified := 0.2, 0.3
	if !industries[g.f.industry].manufacturing {
		rate = 0.4
	}
	if g.f.bad {
		rate, verified = 2, 0.8
	}
	for range g.count(rate) {
		day, _ := g.day(g.lo())
		id := g.ref("TS12365-", day)
		o := g.obj()
		o.str("complaint_id", id)
		o.str("channel", pick(g.r, []string{"12365", "web", "letter"}, []float64{0.6, 0.9}))
		g.add(model.EventComplaintReceived, day, o, false)
		d := day + 5 + g.r.IntN(41)
		if g.r.Float64() >= 0.92 || d > g.hi() {
			continue
		}
		v := g.r.Float64() < verified
		o = g.obj()
		o.str("complaint_id", id)
		o.boolean("verified", v)
		o.str("outcome", pick(g.r, []string{"调解成功", "责令整改", "不予立案"}, []float64{0.5, 0.8}))
		g.add(model.EventComplaintClosed, d, o, v)
	}
}

// awards are the quality honours a Huai'an firm can receive.
var awards = []struct{ name, level string }{
	{"淮安市市长质量奖", "city"}, {"江苏省质量奖", "provincial"}, {"江苏省质量信用AA级企业", "provincial"},
}

// credentials are the few positive records: certifications (some withdrawn),
// self-declared enterprise standards and, rarely, quality awards.
func (g *firmGen) credentials() {
	if g.r.Float64() < 0.12 {
		g.certification()
	}
	ind := industries[g.f.industry]
	if ind.manufacturing && g.r.Float64() < 0.12 {
		day, _ := g.day(g.lo())
		o := g.obj()
		o.str("standard_no", "Q/"+counties[g.f.county].code+" "+g.ref("HA", day))
		o.str("title", ind.products[0]+"企业标准")
		g.add(model.EventStandardDeclared, day, o, false)
	}
	if !g.f.bad && g.r.Float64() < 0.01 {
		day, _ := g.day(g.lo())
		o := g.obj()
		award := awards[g.r.IntN(len(awards))]
		o.str("award", award.name)
		o.str("level", award.level)
		g.add(model.EventAwardGranted, day, o, false)
	}
}

func (g *firmGen) certification() {
	day, _ := g.day(g.lo())
	no := g.ref("CQC", day)
	scheme := pick(g.r, []string{"ISO 9001", "ISO 14001", "CCC"}, []float64{0.6, 0.85})
	o := g.obj()
	o.str("cert_no", no)
	o.str("scheme", scheme)
	g.add(model.EventCertificationGranted, day, o, false)
	if g.r.Float64() >= 0.06 && !(g.f.bad && g.r.Float64() < 0.5) {
		return
	}
	if d, ok := g.day(day + 30); ok {
		o := g.obj()
		o.str("cert_no", no)
		o.str("scheme", scheme)
		o.str("reason", "监督审核不通过")
		g.add(model.EventCertificationWithdrawn, d, o, true)
	}
}
