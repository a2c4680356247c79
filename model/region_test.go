package model

import (
	"slices"
	"testing"
)

func TestHuaianBureaus(t *testing.T) {
	// The sources of contract v1 are DOMAIN.md's Huai'an regions: current,
	// historical and the development zone; no other 3208xx code.
	for _, code := range []string{"320800", "320803", "320804", "320812", "320813", "320826", "320830", "320831",
		"320871", "320802", "320811", "320829"} {
		if !IsHuaianBureau(code) {
			t.Errorf("%s should be a Huai'an bureau", code)
		}
		if _, ok := LookupRegion(code); !ok {
			t.Errorf("%s is not in the GB/T 2260 table", code)
		}
	}
	for _, code := range []string{"320899", "320821", "320801", "320100", "3208", ""} {
		if IsHuaianBureau(code) {
			t.Errorf("%s should not be a Huai'an bureau", code)
		}
	}
}

func TestProvincePrefixes(t *testing.T) {
	p := ProvincePrefixes()
	for _, want := range []string{"10", "11", "32", "65", "82"} {
		if !slices.Contains(p, want) {
			t.Errorf("%s missing from %v", want, p)
		}
	}
	if slices.Contains(p, "00") || !slices.IsSorted(p) {
		t.Errorf("prefixes %v", p)
	}
}

func TestCurrentRegion(t *testing.T) {
	// given historical Huai'an codes, when mapped, then each gives the
	// county that holds its area today, through every renaming; current and
	// unknown codes are unchanged
	for code, want := range map[string]string{
		"320802": "320812", // 清河区 → 清江浦区
		"320811": "320812", // 清浦区 → 清江浦区
		"320829": "320813", // 洪泽县 → 洪泽区
		"320828": "320803", // 淮安县 → 淮安市 (county-level) → 楚州区/淮安区
		"320821": "320804", // 淮阴县 → 淮阴区
		"320812": "320812",
		"320830": "320830",
		"320871": "320871",
		"110101": "110101",
		"":       "",
	} {
		if got := CurrentRegion(code); got != want {
			t.Errorf("CurrentRegion(%q) = %q, want %q", code, got, want)
		}
	}
	for old, next := range successors() {
		if r, ok := LookupRegion(old); !ok || r.Current {
			t.Errorf("successor table: %s is not a historical GB/T 2260 code", old)
		}
		if _, ok := LookupRegion(next); !ok {
			t.Errorf("successor table: %s → %s is not a GB/T 2260 code", old, next)
		}
		if r, _ := LookupRegion(CurrentRegion(old)); !r.Current {
			t.Errorf("successor table: %s ends at %s, which is not current", old, CurrentRegion(old))
		}
	}
}
