package api_test

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/qcredit/qcredit/api"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// readmeExample is the README's partner-side example (the python block
// after "A partner's copy").
func readmeExample(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "**A partner's copy**")
	_, code, ok2 := strings.Cut(rest, "```python\n")
	code, _, ok3 := strings.Cut(code, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("the README has no python block after “A partner's copy”")
	}
	return code
}

func TestTheREADMEPartnerExampleKeepsACopy(t *testing.T) {
	// given a published list with Chinese names, quotes and angle brackets, and then a new version, when the
	// README's partner example runs (Python, standard library only) — pull the snapshot, verify its manifest,
	// then apply the changes since its version and verify again — then it succeeds: the manifest is
	// reproducible outside Go, and the copy ends at the latest version
	python, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("python3 is needed to run the README's partner example (scripts/test.sh installs it)")
		}
		t.Skip("no python3: run `make test`")
	}
	c, _ := listedThenWithdrawn(t, api.Options{})
	c.write([]warehouse.Item{c.event(model.EventPenaltyDecided, c.firms[1], day("2024-05-06").Add(10*time.Hour),
		map[string]any{"case_no": "盱市监罚〔2024〕9号", "violation": "obstruction", "severity": "heavy"})})
	c.run(day("2024-05-20"))
	code := readmeExample(t)
	code = strings.Replace(code, `"https://qcredit.example/api/v1/partner/lists"`, `"`+c.srv.URL+`/api/v1/partner/lists"`, 1)
	code = strings.Replace(code, `"qck_…"`, `"`+c.srv.Keys[api.ScopePartner]+`"`, 1)
	// Start from version 2 (firm 0 listed), so the changes remove firm 0 and add firm 1.
	code = strings.Replace(code, `snap = get("")`, `snap = get("?version=2")`, 1)
	code += "\nprint(version, len(copy))\n"
	var out, stderr bytes.Buffer
	cmd := exec.CommandContext(t.Context(), python, "-c", code)
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("the README's example failed: %v\n%s", err, stderr.String())
	}
	if got := strings.TrimSpace(out.String()); got != "4 1" {
		t.Errorf("the example ended at version and entries %q, want 4 1", got)
	}
}
