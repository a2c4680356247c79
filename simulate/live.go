package simulate

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/qcredit/qcredit/model"
)

// LiveFirm is an enterprise of the running city the live bureaus report on.
type LiveFirm struct {
	USCC     string
	Region   string // GB/T 2260 code of its registered region
	Industry string // GB/T 4754 class
}

// Live stands in for the county bureaus of a running city (qcredit dev):
// it reports what bureaus report — every kind of record, for the city's
// existing enterprises and now and then a new one — at the time it is
// asked, so scores, grades and credit files change while a user watches.
// Follow-ups refer to earlier records: a complaint is accepted or rejected
// only after it was received and closed only after it was accepted, a
// hazard corrected only after it was found.
type Live struct {
	r          *rand.Rand
	prefix     string
	n          int
	firms      []LiveFirm
	issued     map[string]bool // USCCs given out; membership only
	received   []liveOpen      // complaints awaiting acceptance
	complaints []liveOpen      // accepted complaints awaiting closure
	hazards    []liveOpen
	penalties  []liveOpen
}

// liveOpen is a record awaiting its follow-up.
type liveOpen struct {
	firm      int
	ref, link string
}

// NewLive reports on firms; ids start with prefix (unique per start, e.g.
// the start time), so runs never collide.
func NewLive(seed int64, prefix string, firms []LiveFirm) *Live {
	l := &Live{r: rand.New(rand.NewPCG(uint64(seed), 0x11fe)), prefix: prefix, firms: firms, issued: map[string]bool{}}
	for _, f := range firms {
		l.issued[f.USCC] = true
	}
	return l
}

// liveMix is how often each kind of report comes, per 1,000 reports: spot
// checks and inspections most, new enterprises a few, accidents almost never.
var liveMix = []struct {
	weight int
	kind   model.EventType
}{
	{300, model.EventSpotCheckCompleted},
	{150, model.EventEquipmentInspected},
	{110, model.EventComplaintReceived},
	{95, model.EventComplaintAccepted},
	{10, model.EventComplaintRejected},
	{80, model.EventComplaintClosed},
	{60, model.EventEquipmentHazardFound},
	{50, model.EventEquipmentHazardFixed},
	{40, model.EventLicenceGranted},
	{35, model.EventEnterpriseRegistered},
	{30, model.EventPenaltyDecided},
	{30, model.EventCertificationGranted},
	{30, model.EventStandardDeclared},
	{20, model.EventEnterpriseUpdated},
	{20, model.EventEquipmentRegistered},
	{10, model.EventAwardGranted},
	{10, model.EventCreditRepaired},
	{8, model.EventCertificationWithdrawn},
	{6, model.EventPenaltyRevoked},
	{4, model.EventLicenceRevoked},
	{4, model.EventEnterpriseDeregistered},
	{3, model.EventEquipmentAccident},
}

// Next is the next report as a Kafka message (key = USCC), occurring at now.
func (l *Live) Next(now time.Time) (key, value []byte) {
	for {
		if k, v, ok := l.next(now); ok {
			return k, v
		}
	}
}

func (l *Live) next(now time.Time) (key, value []byte, ok bool) {
	if len(l.firms) == 0 {
		return l.register(now)
	}
	x := l.r.IntN(1000)
	kind := liveMix[0].kind
	for _, m := range liveMix {
		if x < m.weight {
			kind = m.kind
			break
		}
		x -= m.weight
	}
	fi := l.r.IntN(len(l.firms))
	o := newObject(nil)
	switch kind {
	case model.EventEnterpriseRegistered:
		return l.register(now)
	case model.EventEnterpriseUpdated:
		o.str("scale", pickScale(l.r))
	case model.EventEnterpriseDeregistered:
		o.str("reason", "注销")
	case model.EventSpotCheckCompleted:
		o.str("check_id", l.ref("CC"))
		o.str("product", l.product(fi))
		if l.r.Float64() < 0.08 {
			o.str("result", "fail")
			o.str("severity", pick(l.r, []string{"minor", "major", "critical"}, []float64{0.6, 0.92}))
		} else {
			o.str("result", "pass")
		}
		o.str("level", pick(l.r, []string{"city", "county", "provincial"}, []float64{0.5, 0.9}))
	case model.EventEquipmentRegistered, model.EventEquipmentInspected:
		o.str("equipment_id", l.equipment(fi))
		o.str("category", pick(l.r, []string{"elevator", "boiler", "pressure_vessel", "lifting"}, []float64{0.4, 0.6, 0.85}))
		if kind == model.EventEquipmentInspected {
			o.str("result", pick(l.r, []string{"pass", "fail"}, []float64{0.95}))
		}
	case model.EventEquipmentHazardFound:
		h := liveOpen{firm: fi, ref: l.ref("YH"), link: l.equipment(fi)}
		l.hazards = append(l.hazards, h)
		o.str("equipment_id", h.link)
		o.str("hazard_id", h.ref)
		o.boolean("serious", l.r.Float64() < 0.1)
		o.str("deadline", now.In(model.Shanghai).AddDate(0, 0, 30).Format(time.DateOnly))
	case model.EventEquipmentHazardFixed:
		h, found := l.take(&l.hazards)
		if !found {
			return nil, nil, false
		}
		fi = h.firm
		o.str("equipment_id", h.link)
		o.str("hazard_id", h.ref)
		o.boolean("self_found", l.r.Float64() < 0.7)
	case model.EventEquipmentAccident:
		o.str("equipment_id", l.equipment(fi))
		o.str("accident_id", l.ref("SG"))
		o.str("grade", "general")
	case model.EventComplaintReceived:
		c := liveOpen{firm: fi, ref: l.ref("TS12365-")}
		l.received = append(l.received, c)
		o.str("complaint_id", c.ref)
		o.str("channel", pick(l.r, []string{"12365", "web", "letter"}, []float64{0.6, 0.9}))
	case model.EventComplaintAccepted, model.EventComplaintRejected:
		c, found := l.take(&l.received)
		if !found {
			return nil, nil, false
		}
		fi = c.firm
		o.str("complaint_id", c.ref)
		if kind == model.EventComplaintRejected {
			o.str("reason", pick(l.r, []string{"不属于本部门职责范围", "投诉人身份信息不全", "已经处理且无新情况"}, []float64{0.5, 0.8}))
		} else {
			l.complaints = append(l.complaints, c)
		}
	case model.EventComplaintClosed:
		c, found := l.take(&l.complaints)
		if !found {
			return nil, nil, false
		}
		fi = c.firm
		o.str("complaint_id", c.ref)
		o.boolean("verified", l.r.Float64() < 0.3)
		o.str("outcome", pick(l.r, []string{"调解成功", "责令整改", "不予立案"}, []float64{0.5, 0.8}))
	case model.EventPenaltyDecided:
		p := liveOpen{firm: fi, ref: l.ref("淮市监罚")}
		l.penalties = append(l.penalties, p)
		o.str("case_no", p.ref)
		o.str("violation", pick(l.r, []string{"substandard", "false_labeling", "metrology", "other"}, []float64{0.5, 0.8, 0.9}))
		o.str("severity", pick(l.r, []string{"light", "general"}, []float64{0.6}))
		o.num("fine_yuan", int64(2000+l.r.IntN(50)*1000))
	case model.EventPenaltyRevoked, model.EventCreditRepaired:
		p, found := l.take(&l.penalties)
		if !found {
			return nil, nil, false
		}
		fi = p.firm
		o.str("case_no", p.ref)
		if kind == model.EventCreditRepaired {
			o.str("decision_no", l.ref("淮市监修"))
		} else {
			o.str("reason", "行政复议撤销")
		}
	case model.EventLicenceGranted:
		o.str("licence_no", l.ref("XK"))
		o.str("kind", pick(l.r, []string{"industrial_product", "special_equipment", "other"}, []float64{0.7, 0.9}))
		o.str("valid_until", now.In(model.Shanghai).AddDate(5, 0, 0).Format(time.DateOnly))
	case model.EventLicenceRevoked:
		o.str("licence_no", l.ref("XK"))
		o.str("reason", "other")
	case model.EventCertificationGranted, model.EventCertificationWithdrawn:
		o.str("cert_no", l.ref("CERT"))
		o.str("scheme", pick(l.r, []string{"ISO9001", "CCC", "ISO14001"}, []float64{0.5, 0.8}))
	case model.EventStandardDeclared:
		o.str("standard_no", "Q/"+l.ref("HA"))
		o.str("title", l.product(fi)+"企业标准")
	case model.EventAwardGranted:
		o.str("award", "淮安市质量奖")
		o.str("level", "city")
	}
	k, v := l.emit(kind, l.firms[fi], now, o)
	return k, v, true
}

// register reports a new enterprise and adds it to the city.
func (l *Live) register(now time.Time) ([]byte, []byte, bool) {
	c := counties[pickCounty(l.r)]
	ind, cluster := pickIndustry(l.r, c)
	entity := pickEntity(l.r, industries[ind])
	uscc := issueUSCC(l.r, entity, c.code, now.Year(), l.issued)
	f := LiveFirm{USCC: uscc, Region: c.code, Industry: industries[ind].class}
	l.firms = append(l.firms, f)
	scale := pickScale(l.r)
	o := newObject(nil)
	o.str("name", firmName(l.r, c, industries[ind], entity, scale))
	o.str("region", c.code)
	o.str("industry", f.Industry)
	if cluster != "" {
		o.str("cluster", cluster)
	}
	o.str("scale", scale)
	k, v := l.emit(model.EventEnterpriseRegistered, f, now, o)
	return k, v, true
}

// emit encodes one v1 event of firm f, reported by its county's bureau.
func (l *Live) emit(kind model.EventType, f LiveFirm, now time.Time, data object) (key, value []byte) {
	l.n++
	source := f.Region
	if !model.IsHuaianBureau(source) {
		source = model.CityHuaian
	}
	at := now.In(model.Shanghai).Truncate(time.Second)
	e := newObject(nil)
	e.str("id", fmt.Sprintf("%s-live-%s-%d", source, l.prefix, l.n))
	e.str("type", string(kind))
	e.str("uscc", f.USCC)
	e.str("source", source)
	e.str("occurred_at", at.Format(time.RFC3339))
	e.str("reported_at", at.Add(time.Duration(l.r.IntN(300))*time.Second).Format(time.RFC3339))
	e.raw("data", append(data.b, '}'))
	return []byte(f.USCC), append(e.b, '}')
}

// take removes a random open record.
func (l *Live) take(open *[]liveOpen) (liveOpen, bool) {
	if len(*open) == 0 {
		return liveOpen{}, false
	}
	i := l.r.IntN(len(*open))
	o := (*open)[i]
	(*open)[i] = (*open)[len(*open)-1]
	*open = (*open)[:len(*open)-1]
	return o, true
}

func (l *Live) ref(prefix string) string {
	return prefix + "-" + l.prefix + "-" + strconv.Itoa(l.n+1)
}

// equipment is one of a firm's (at most three) units.
func (l *Live) equipment(fi int) string {
	return "TS-" + l.firms[fi].USCC[8:17] + "-" + strconv.Itoa(1+l.r.IntN(3))
}

// product is a product of the firm's industry, as spot checks name it.
func (l *Live) product(fi int) string {
	if i := industryIndex(l.firms[fi].Industry); i >= 0 && len(industries[i].products) > 0 {
		ps := industries[i].products
		return ps[l.r.IntN(len(ps))]
	}
	return "工业产品"
}
