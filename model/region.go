package model

import (
	"bufio"
	_ "embed"
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

// CityHuaian is the Huai'an city code; its county-level bureaus are 3208xx.
const CityHuaian = "320800"

// IsHuaianBureau reports whether code is the city bureau or one of its
// county-level divisions, current or historical.
func IsHuaianBureau(code string) bool {
	if !strings.HasPrefix(code, "3208") {
		return false
	}
	_, ok := regions()[code]
	return ok
}

//go:embed data/gbt2260-successors.tsv
var successorsTSV string

// successors maps a GB/T 2260 code that was abolished, merged or renamed to
// the code that took its place (data/gbt2260-successors.tsv: Huai'an's
// changes since 1983).
var successors = sync.OnceValue(func() map[string]string {
	m := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(successorsTSV))
	sc.Scan() // header
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) >= 2 {
			m[f[0]] = f[1]
		}
	}
	return m
})

// CurrentRegion is the current code of a region: a code that was merged or
// renamed follows its successors (320802 清河区 → 320812 清江浦区, 320829 洪泽县
// → 320813 洪泽区), any other code is returned as it is. USCCs keep the region
// they were issued under, so records group by the current code.
func CurrentRegion(code string) string {
	m := successors()
	for range len(m) + 1 { // a chain is at most as long as the table
		next, ok := m[code]
		if !ok {
			return code
		}
		code = next
	}
	return code
}
