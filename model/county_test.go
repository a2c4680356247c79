package model

import (
	"slices"
	"testing"
)

func TestCurrentCounty(t *testing.T) {
	for code, want := range map[string]string{
		"320802": "320812", "320811": "320812", "320829": "320813",
		"320812": "320812", "320803": "320803", "320871": "320871", "110101": "110101",
	} {
		if got := CurrentCounty(code); got != want {
			t.Errorf("CurrentCounty(%s) = %s, want %s", code, got, want)
		}
	}
}

func TestCurrentHuaianBureaus(t *testing.T) {
	want := []string{"320800", "320803", "320804", "320812", "320813", "320826", "320830", "320831", "320871"}
	got := CurrentHuaianBureaus()
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("current bureaus %v, want %v", got, want)
	}
}
