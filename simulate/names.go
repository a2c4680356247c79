package simulate

import "math/rand/v2"

// tradeSyllables make trade names (字号) the way Jiangsu firms choose them:
// two auspicious characters.
var tradeSyllables = []rune("华金鑫瑞恒盛源泰隆丰宏达兴永昌富康明辉信诚嘉润海洪汇鸿宇天宝旺顺通利和新安佳凯正博远东方蓝翔淮盱涟湖运")

// firmName is a registered name: region prefix, trade name, industry word,
// organisational form. Individual businesses and cooperatives are named as
// their forms require.
func firmName(r *rand.Rand, c county, ind industry, entity byte, scale string) string {
	prefix := c.name
	if r.Float64() < 0.3 {
		prefix = "淮安市"
	}
	if c.code == "320871" && prefix == c.name {
		prefix = "淮安"
	}
	trade := string([]rune{tradeSyllables[r.IntN(len(tradeSyllables))], tradeSyllables[r.IntN(len(tradeSyllables))]})
	switch entity {
	case '2':
		return c.name + trade + ind.word + "经营部"
	case '3':
		return c.name + trade + ind.word + "专业合作社"
	}
	form := "有限公司"
	if (scale == "medium" || scale == "large") && r.Float64() < 0.4 {
		form = "股份有限公司"
	}
	return prefix + trade + ind.word + form
}
