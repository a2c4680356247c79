package simulate

import (
	"math/rand/v2"

	"github.com/qcredit/qcredit/model"
)

// firm is one simulated market entity and what drives its events.
type firm struct {
	uscc     string
	county   int // index into counties
	industry int // index into industries
	cluster  string
	scale    string
	name     string
	founded  int // year
	regDay   int // day of the period it registered (0 for firms that existed before)
	endDay   int // last day it can have events (earlier when deregistered)
	dereg    bool
	bad      bool // planted consistently bad enterprise
	rising   bool // belongs to a cluster whose failure rate rises in the last year
}

// newFirm draws one enterprise. issued keeps USCCs unique (membership only,
// never iterated).
func newFirm(r *rand.Rand, cal *calendar, issued map[string]bool) firm {
	f := firm{county: pickCounty(r)}
	c := counties[f.county]
	f.industry, f.cluster = pickIndustry(r, c)
	f.scale = pickScale(r)
	f.founded = cal.year(0) - int(r.ExpFloat64()*7)
	f.endDay = cal.days - 1
	if r.Float64() < 0.12 {
		f.regDay = 1 + r.IntN(cal.days-1)
		f.founded = cal.year(f.regDay)
	}
	entity := pickEntity(r, industries[f.industry])
	f.uscc = issueUSCC(r, entity, usccRegion(r, c, f.founded), f.founded, issued)
	f.name = firmName(r, c, industries[f.industry], entity, f.scale)
	return f
}

func pickCounty(r *rand.Rand) int {
	x := r.Float64()
	for i, c := range counties {
		if x < c.weight {
			return i
		}
		x -= c.weight
	}
	return 0
}

// pickIndustry draws one of the county's specialised sectors (most firms in
// them declare the cluster), else a generic small manufacturer or, for about
// one firm in six, a non-manufacturing user of special equipment.
func pickIndustry(r *rand.Rand, c county) (int, string) {
	x := r.Float64()
	for _, s := range c.sectors {
		if x < s.share {
			cluster := ""
			if s.cluster != "" && r.Float64() < 0.85 {
				cluster = s.cluster
			}
			return industryIndex(s.class), cluster
		}
		x -= s.share
	}
	if r.Float64() < 0.2 {
		return industryIndex(nonMfgClasses[r.IntN(len(nonMfgClasses))]), ""
	}
	return industryIndex(genericClasses[r.IntN(len(genericClasses))]), ""
}

func pickScale(r *rand.Rand) string {
	switch x := r.Float64(); {
	case x < 0.55:
		return "micro"
	case x < 0.88:
		return "small"
	case x < 0.97:
		return "medium"
	default:
		return "large"
	}
}

// pickEntity returns the USCC entity type: 1 enterprise, 2 individual
// business (个体工商户), 3 farmers' cooperative (rice and crayfish only).
func pickEntity(r *rand.Rand, ind industry) byte {
	x := r.Float64()
	switch {
	case (ind.class == "C1311" || ind.class == "C1361") && x < 0.08:
		return '3'
	case x < 0.04:
		return '2'
	}
	return '1'
}

// usccRegion is the code the registering authority had when the firm was
// founded: firms older than the 2016 mergers keep 清河区/清浦区/洪泽县.
func usccRegion(r *rand.Rand, c county, founded int) string {
	if founded < 2016 && len(c.historical) > 0 && r.Float64() < 0.8 {
		return c.historical[r.IntN(len(c.historical))]
	}
	return c.code
}

const usccChars = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// issueUSCC builds a valid code: firms founded since the 2015 reform got an
// "MA…" organisation body, older ones their 8-digit GB 11714 code.
func issueUSCC(r *rand.Rand, entity byte, region string, founded int, issued map[string]bool) string {
	for {
		b := []byte{'9', entity}
		b = append(b, region...)
		if founded >= 2016 {
			b = append(b, 'M', 'A')
			for range 6 {
				b = append(b, usccChars[r.IntN(len(usccChars))])
			}
		} else {
			for range 8 {
				b = append(b, byte('0'+r.IntN(10)))
			}
		}
		u := string(model.CompleteUSCC(string(b)))
		if !issued[u] {
			issued[u] = true
			return u
		}
	}
}
