package clusters

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/qcredit/qcredit/model"
)

func TestDefaultLevels(t *testing.T) {
	// given the signals of a cluster, when the default levels apply, then the level is DOMAIN.md's
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		signals []model.Signal
		want    model.Level
	}{
		{[]model.Signal{model.SignalAlert, model.SignalAlarm, model.SignalRising}, model.LevelRed},
		{[]model.Signal{model.SignalAccident}, model.LevelRed},
		{[]model.Signal{model.SignalAlert, model.SignalAlarm}, model.LevelOrange},
		{[]model.Signal{model.SignalAlert, model.SignalRising}, model.LevelOrange},
		{[]model.Signal{model.SignalAlert}, model.LevelYellow},
		{[]model.Signal{model.SignalRising}, model.LevelBlue},
		{nil, model.LevelNone},
	}
	for _, tt := range tests {
		got := model.LevelNone
		if l, ok := c.level(func(s model.Signal) bool { return slices.Contains(tt.signals, s) }); ok {
			got = l.Level
		}
		if got != tt.want {
			t.Errorf("signals %v: level %q, want %q", tt.signals, got, tt.want)
		}
	}
}

func TestParse(t *testing.T) {
	def := DefaultYAML()
	tests := []struct {
		name  string
		edit  func([]byte) []byte
		error []string
	}{
		{"given a comment added, when parsed, then only the version changes", func(b []byte) []byte { return append(b, "# edited\n"...) }, nil},
		{"given an unknown level and signal, when parsed, then both are named",
			func(b []byte) []byte {
				return bytes.Replace(bytes.Replace(b, []byte("level: blue"), []byte("level: green"), 1), []byte("[[rising]]"), []byte("[[trend]]"), 1)
			},
			[]string{`"green" is not red`, `signal "trend"`}},
		{"given levels out of order, when parsed, then the order is named",
			func(b []byte) []byte {
				return bytes.Replace(b, []byte("level: orange"), []byte("level: yellow"), 1)
			},
			[]string{"must come after the more severe levels"}},
		{"given limits swapped and a missing basis, when parsed, then each setting is named",
			func(b []byte) []byte {
				b = bytes.Replace(b, []byte("alert: 1.959964"), []byte("alert: 4"), 1)
				return bytes.Replace(b, []byte("  cluster.accident:"), []byte("  # cluster.accident:"), 1)
			},
			[]string{"limits must satisfy", "basis.cluster.accident is required"}},
		{"given an unknown key, when parsed, then it is refused", func(b []byte) []byte { return append(b, "colour: red\n"...) }, []string{"colour"}},
	}
	base, err := Parse(def)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse(tt.edit(bytes.Clone(def)))
			if len(tt.error) == 0 {
				if err != nil || c.Version == base.Version || !strings.HasPrefix(c.Version, "cl-") {
					t.Fatalf("version %v err %v", c, err)
				}
				return
			}
			for _, want := range tt.error {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("error %v does not name %q", err, want)
				}
			}
		})
	}
}
