package model

import (
	"bufio"
	_ "embed"
	"slices"
	"strings"
	"sync"
)

// Industry is a GB/T 4754-2017 code (国民经济行业分类): a section letter and a
// 2-digit division (C33), optionally with a 3-digit group or 4-digit class (C3311).
type Industry struct {
	Code string
	Name string
}

//go:embed data/gbt4754-manufacturing.tsv
var divisionsTSV string

//go:embed data/gbt4754-classes.tsv
var classesTSV string

var industries = sync.OnceValue(func() map[string]Industry {
	m := map[string]Industry{}
	for _, tsv := range []string{divisionsTSV, classesTSV} {
		sc := bufio.NewScanner(strings.NewReader(tsv))
		sc.Scan() // header
		for sc.Scan() {
			code, name, ok := strings.Cut(sc.Text(), "\t")
			if ok {
				m[code] = Industry{Code: code, Name: name}
			}
		}
	}
	return m
})

// LookupIndustry finds a code in the embedded table (the manufacturing
// divisions and the classes qcredit knows).
func LookupIndustry(code string) (Industry, bool) {
	i, ok := industries()[code]
	return i, ok
}

// Division returns the section-and-division prefix of an industry code
// ("C3311" → "C33"), or "" when code is too short.
func Division(code string) string {
	if len(code) < 3 {
		return ""
	}
	return code[:3]
}

// ValidIndustryCode checks the shape of a GB/T 4754 code (section A–T, then
// 2 to 4 digits) and, for manufacturing (section C), that its division is one
// of C13–C43. The table holds only the classes qcredit uses, so other classes
// of a valid shape are accepted.
func ValidIndustryCode(code string) bool {
	if len(code) < 3 || len(code) > 5 || code[0] < 'A' || code[0] > 'T' {
		return false
	}
	for _, c := range code[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	if code[0] != 'C' {
		return true
	}
	_, ok := industries()[Division(code)]
	return ok
}

// ValidIndustryPrefix checks a code at any level of GB/T 4754, as filters
// take it: a section letter alone (C) or a valid code (C33, C331, C3311).
func ValidIndustryPrefix(code string) bool {
	if len(code) == 1 {
		return code[0] >= 'A' && code[0] <= 'T'
	}
	return ValidIndustryCode(code)
}

// ManufacturingDivisions are the section C divisions ValidIndustryCode
// accepts (C13–C43), sorted.
func ManufacturingDivisions() []string {
	var out []string
	for code := range industries() {
		if len(code) == 3 && code[0] == 'C' {
			out = append(out, code)
		}
	}
	slices.Sort(out)
	return out
}
