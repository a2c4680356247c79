package model

import (
	"bufio"
	_ "embed"
	"slices"
	"strings"
	"sync"
)

// Region is one GB/T 2260 administrative division code (行政区划代码).
type Region struct {
	Code string
	Name string
	// Current is false for codes no longer in the latest edition (e.g. 320802
	// 清河区). Such codes stay valid in USCCs, which keep their region for life.
	Current bool
}

//go:embed data/gbt2260-regions.tsv
var regionsTSV string

var regions = sync.OnceValue(func() map[string]Region {
	m := make(map[string]Region, 7100)
	sc := bufio.NewScanner(strings.NewReader(regionsTSV))
	sc.Scan() // header
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) < 5 {
			continue
		}
		m[f[0]] = Region{Code: f[0], Name: f[1], Current: f[4] == "yes"}
	}
	return m
})

// LookupRegion finds a GB/T 2260 code in the table of every edition 1983–2019.
func LookupRegion(code string) (Region, bool) {
	r, ok := regions()[code]
	return r, ok
}

// IsProvinceCode reports whether the first two digits of a region code name a
// province-level division, or 10 for national-level registration.
func IsProvinceCode(prefix string) bool {
	if prefix == "10" {
		return true
	}
	_, ok := regions()[prefix+"0000"]
	return ok
}

// ProvincePrefixes are the first two digits of every province-level code
// in the table (11 北京 … 82 澳门, historical ones included), and 10 for
// national-level registration, sorted.
func ProvincePrefixes() []string {
	var out []string
	for code := range regions() {
		if strings.HasSuffix(code, "0000") {
			out = append(out, code[:2])
		}
	}
	slices.Sort(out)
	return out
}

// CityHuaian is the Huai'an city code.
const CityHuaian = "320800"

// huaianBureaus are the reporting bureaus of contract v1: the city, its
// current districts and counties and the development zone (a statistical
// code), then the historical codes that old records still carry. Other
// 3208xx codes in GB/T 2260 (320821 淮阴县, …) had left the city or were
// merged before qcredit's records begin.
var huaianBureaus = []string{
	CityHuaian, // 淮安市
	"320803",   // 淮安区 (楚州区 before 2012)
	"320804",   // 淮阴区
	"320812",   // 清江浦区
	"320813",   // 洪泽区
	"320826",   // 涟水县
	"320830",   // 盱眙县
	"320831",   // 金湖县
	"320871",   // 淮安经济技术开发区
	"320802",   // 清河区, merged into 清江浦区 in 2016
	"320811",   // 清浦区, merged into 清江浦区 in 2016
	"320829",   // 洪泽县, 洪泽区 since 2016
}

// HuaianBureaus returns the source codes contract v1 accepts, current first.
func HuaianBureaus() []string { return slices.Clone(huaianBureaus) }

// IsHuaianBureau reports whether code is the city bureau or one of its
// county-level bureaus, current or historical.
func IsHuaianBureau(code string) bool { return slices.Contains(huaianBureaus, code) }
