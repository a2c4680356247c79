package model

import "slices"

// mergedCounties maps Huai'an county-level codes no longer in use to the
// county that took them over (GB/T 2260; DOMAIN.md, Huai'an regions): an
// enterprise keeps its registration region for life, but today the current
// county's bureau supervises it.
var mergedCounties = map[string]string{
	"320802": "320812", // 清河区 → 清江浦区 (2016)
	"320811": "320812", // 清浦区 → 清江浦区 (2016)
	"320829": "320813", // 洪泽县 → 洪泽区 (2016)
}

// CurrentCounty is the current county-level code of a region code: the
// county that took over a merged one, else the code itself (320803 淮安区
// was 楚州区 under the same code).
func CurrentCounty(code string) string {
	if c, ok := mergedCounties[code]; ok {
		return c
	}
	return code
}

// CurrentHuaianBureaus are the city bureau and its current county-level
// bureaus (HuaianBureaus without the merged codes), those the county KPIs
// report on.
func CurrentHuaianBureaus() []string {
	return slices.DeleteFunc(HuaianBureaus(), func(code string) bool { return CurrentCounty(code) != code })
}
