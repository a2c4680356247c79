package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// run executes the CLI in-process with args and stdin.
func run(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	err := cmd.ExecuteContext(t.Context())
	return out.String(), err
}

func TestUSCCCheck(t *testing.T) {
	t.Run("published codes are ok", func(t *testing.T) {
		out, err := run(t, "", "uscc", "check", "91110000600037341L", "91320214745555318W", "121200004013590816")
		if err != nil {
			t.Fatalf("err %v, out %s", err, out)
		}
		want := "91110000600037341L\tok\n91320214745555318W\tok\n121200004013590816\tok\n"
		if out != want {
			t.Errorf("got %q, want %q", out, want)
		}
	})
	t.Run("invalid codes say why and exit 1", func(t *testing.T) {
		out, err := run(t, "91110000600037341N\n\n123456789012345678\n91110000600037341L\n", "uscc", "check")
		var ee exitError
		if !errors.As(err, &ee) || ee.code != 1 {
			t.Fatalf("want exit 1, got %v", err)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 3 {
			t.Fatalf("want 3 lines, got %q", out)
		}
		if !strings.HasPrefix(lines[0], "91110000600037341N\tinvalid\t") || !strings.Contains(lines[0], "expected L") {
			t.Errorf("check character: %q", lines[0])
		}
		if !strings.HasPrefix(lines[1], "123456789012345678\tinvalid\t") || !strings.Contains(lines[1], "organisation-code check digit (character 17) is 7, expected 8") {
			t.Errorf("organisation code: %q", lines[1])
		}
		if lines[2] != "91110000600037341L\tok" {
			t.Errorf("valid code from stdin: %q", lines[2])
		}
	})
}
