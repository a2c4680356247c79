package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// Chromium returns the path of Debian's chromium (scripts/test.sh installs
// it); in CI a missing browser fails the test instead of skipping it.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{os.Getenv("QCREDIT_TEST_CHROMIUM"), "chromium", "chromium-browser"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is required in CI but is not installed: scripts/test.sh installs it (apt-get install chromium fonts-noto-cjk)")
	}
	t.Skip("chromium not installed (apt-get install chromium fonts-noto-cjk, or run `make test`)")
	return ""
}
