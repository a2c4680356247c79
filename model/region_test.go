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
