package planning_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/planning"
)

var update = flag.Bool("update", false, "rewrite the published example under testdata/draw from testdata/draw/create.json")

// exampleInput is testdata/draw/create.json: what the bureau fixed at
// creation, the seed it kept and the beacon value as typed by a clerk.
type exampleInput struct {
	ID               string                      `json:"id"`
	Name             string                      `json:"name"`
	Period           planning.Period             `json:"period"`
	AnnualRates      planning.GradeProbabilities `json:"annual_rates"`
	ExcludeOwnCounty bool                        `json:"exclude_own_county"`
	BeaconSource     string                      `json:"beacon_source"`
	Seed             string                      `json:"seed"`
	Beacon           string                      `json:"beacon"`
	Firms            []struct {
		USCC   model.USCC  `json:"uscc"`
		Grade  model.Grade `json:"grade"`
		County string      `json:"county"`
	} `json:"firms"`
	Inspectors []struct {
		ID     string `json:"id"`
		County string `json:"county"`
	} `json:"inspectors"`
}

const exampleDir = "testdata/draw"

func readExample(t *testing.T) (planning.CreateDrawInput, string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(exampleDir, "create.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ex exampleInput
	if err := json.Unmarshal(b, &ex); err != nil {
		t.Fatal(err)
	}
	s, err := planning.ParseSeed(ex.Seed)
	if err != nil {
		t.Fatal(err)
	}
	in := planning.CreateDrawInput{ID: ex.ID, Name: ex.Name, Period: ex.Period, AnnualRates: ex.AnnualRates,
		ExcludeOwnCounty: ex.ExcludeOwnCounty, BeaconSource: ex.BeaconSource, Seed: s}
	for _, f := range ex.Firms {
		in.Firms = append(in.Firms, planning.PoolFirm{USCC: f.USCC, Grade: f.Grade, County: f.County})
	}
	for _, i := range ex.Inspectors {
		in.Inspectors = append(in.Inspectors, planning.Inspector{ID: i.ID, County: i.County})
	}
	return in, ex.Beacon
}

// publishedJSON is how the example's draw.json is written: indented, LF at the end.
func publishedJSON(t *testing.T, d planning.Draw) []byte {
	t.Helper()
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// Given the example's inputs, when the draw is created and performed, then
// the three published files are byte for byte those under testdata/draw.
func TestPublishedExample(t *testing.T) {
	in, beacon := readExample(t)
	created, res := testDraw(t, in, beacon)
	files := map[string][]byte{
		"pool.csv":       created.PoolCSV,
		"inspectors.csv": created.InspectorsCSV,
		"committed.json": publishedJSON(t, created.Draw),
		"draw.json":      publishedJSON(t, res.Draw),
	}
	for name, got := range files {
		path := filepath.Join(exampleDir, name)
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the published example (go test -update rewrites it):\n%s", name, got)
		}
	}
	if len(created.Ungraded) != 3 {
		t.Errorf("ungraded firms left out: %v, want the 3 without a grade", created.Ungraded)
	}
	// The example is chosen to exercise k_g at exact halves (1.5 + 0.5 and
	// 0.5 + 0.5 round up) and an understaffed county.
	want := map[model.Grade]int64{model.GradeA: 1, model.GradeB: 1, model.GradeC: 2, model.GradeD: 4}
	for _, s := range res.Strata {
		if s.Drawn != want[s.Grade] {
			t.Errorf("grade %s: N=%d p=%s drew %d, want %d", s.Grade, s.Firms, s.Probability, s.Drawn, want[s.Grade])
		}
	}
	if len(res.Short) == 0 {
		t.Error("no drawn firm was flagged short of inspectors; the example should have one in 清江浦区")
	}
}

// Given the published example, when VerifyDraw reads only the published
// files, then every check passes, including against the copy kept at creation.
func TestPublishedExampleVerifies(t *testing.T) {
	d, pool, insp := readPublished(t, exampleDir)
	committed := readDoc(t, filepath.Join(exampleDir, "committed.json"))
	v := planning.VerifyDraw(planning.VerifyDrawInput{Draw: d, PoolCSV: pool, InspectorsCSV: insp, Committed: &committed})
	if err := v.Err(); err != nil {
		t.Fatal(err)
	}
}

func readDoc(t *testing.T, path string) planning.Draw {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d, err := planning.ParseDraw(b)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func readPublished(t *testing.T, dir string) (planning.Draw, []byte, []byte) {
	t.Helper()
	pool, err := os.ReadFile(filepath.Join(dir, "pool.csv"))
	if err != nil {
		t.Fatal(err)
	}
	insp, err := os.ReadFile(filepath.Join(dir, "inspectors.csv"))
	if err != nil {
		t.Fatal(err)
	}
	return readDoc(t, filepath.Join(dir, "draw.json")), pool, insp
}

// Given the published example, when an independent Python recomputation
// (standard library only) reads it, then it agrees; and when the result is
// altered, it disagrees, so its agreement means something.
func TestPythonRecomputesExample(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("python3 is required in CI to recompute the published draw independently")
		}
		t.Skip("python3 not found; the independent recomputation needs it")
	}
	script := filepath.Join("testdata", "verify_draw.py")
	t.Run("the published example", func(t *testing.T) {
		out, err := exec.CommandContext(t.Context(), python, script, exampleDir).CombinedOutput()
		if err != nil {
			t.Fatalf("verify_draw.py: %v\n%s", err, out)
		}
		if !strings.Contains(string(out), "ok   drawn") {
			t.Fatalf("verify_draw.py did not check the drawn firms:\n%s", out)
		}
	})
	t.Run("an altered result", func(t *testing.T) {
		dir := t.TempDir()
		for _, name := range []string{"pool.csv", "inspectors.csv"} {
			b, err := os.ReadFile(filepath.Join(exampleDir, name))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		d, _, _ := readPublished(t, exampleDir)
		d.Drawn[0].Inspectors = []string{"insp-qjp-01", "insp-qjp-02"}
		if err := os.WriteFile(filepath.Join(dir, "draw.json"), publishedJSON(t, d), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.CommandContext(t.Context(), python, script, dir).CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || !strings.Contains(string(out), "FAIL inspectors of "+string(d.Drawn[0].USCC)) {
			t.Fatalf("verify_draw.py accepted altered inspectors (%v):\n%s", err, out)
		}
	})
}
