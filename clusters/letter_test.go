package clusters_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qcredit/qcredit/clusters"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/simulate"
)

var update = flag.Bool("update", false, "rewrite testdata/letter-golden.html")

// wellFormedSVG checks the letter's inline SVG parses as XML.
func wellFormedSVG(t *testing.T, letter []byte) {
	t.Helper()
	i, j := bytes.Index(letter, []byte("<svg")), bytes.LastIndex(letter, []byte("</svg>"))
	if i < 0 || j < i {
		t.Fatal("the letter has no inline SVG")
	}
	d := xml.NewDecoder(bytes.NewReader(letter[i : j+len("</svg>")]))
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("inline SVG: %v", err)
		}
	}
}

// mustContain checks the letter shows each text.
func mustContain(t *testing.T, id string, letter []byte, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if !bytes.Contains(letter, []byte(s)) {
			t.Errorf("letter %s lacks %q", id, s)
		}
	}
}

func cell(label, value string) string {
	return "<tr><td>" + label + `</td><td class="num">` + value + "</td></tr>"
}

func TestLettersOfSimulatedWarnings(t *testing.T) {
	// given the warnings of a simulated city, when each is rendered, then
	// every warning level gets a letter with its evidence numbers, its
	// enterprises, its county government and a well-formed funnel plot, and a
	// watch (blue) gets none
	cfg, err := clusters.Default()
	if err != nil {
		t.Fatal(err)
	}
	in, _ := simulatedCity(t, simulate.Config{Enterprises: 20000, Years: 2, Seed: 1, End: simEnd})
	res, err := cfg.Compute(in)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := cfg.Track(clusters.TrackInput{Result: res})
	if err != nil {
		t.Fatal(err)
	}
	letters := 0
	for _, w := range tr.Warnings {
		b, err := cfg.RenderLetter(clusters.LetterInput{Warning: w, Result: res})
		if w.Level == model.LevelBlue {
			if err == nil || !strings.Contains(err.Error(), "gets no letter") {
				t.Errorf("blue warning %s: error %v", w.ID, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", w.ID, err)
		}
		letters++
		ev := w.Assessment.Evidence
		addressee := "淮安经济技术开发区管理委员会："
		if r, _ := model.LookupRegion(w.County); w.County != "320871" {
			addressee = r.Name + "人民政府："
		}
		mustContain(t, w.ID, b, w.ID, addressee, cell("抽查批次 n", fmt.Sprint(ev.Checks)),
			cell("不合格批次 x", fmt.Sprint(ev.Failures)), cell("涉及企业 m", fmt.Sprint(ev.Enterprises)),
			fmt.Sprintf("%.4f（", ev.Baseline), "2026年7月28日前")
		if w.Assessment.Status == model.AssessmentStatusAssessed {
			mustContain(t, w.ID, b, cell("调整后偏差 z&#39;", fmt.Sprintf("%.3f", ev.ZAdjusted)),
				cell("离散系数 φ", fmt.Sprintf("%.3f", ev.Phi)))
		}
		for _, f := range ev.Top {
			mustContain(t, w.ID, b, string(f.USCC), f.Events[0])
		}
		wellFormedSVG(t, b)
	}
	if letters < 3 {
		t.Fatalf("only %d letters from %d warnings: the test data should hold several", letters, len(tr.Warnings))
	}
}

func TestLetterGolden(t *testing.T) {
	// given the hand-made base city, when its red warning is rendered twice,
	// then the bytes are identical and match testdata/letter-golden.html
	// (go test -run LetterGolden -update rewrites it after a deliberate change)
	cfg, err := clusters.Default()
	if err != nil {
		t.Fatal(err)
	}
	res := compute(t, &baseCity().in)
	tr, err := cfg.Track(clusters.TrackInput{Result: res})
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Warnings) != 1 || tr.Warnings[0].Level != model.LevelRed {
		t.Fatalf("warnings %+v, want the target's red one", tr.Warnings)
	}
	in := clusters.LetterInput{Warning: tr.Warnings[0], Result: res}
	a, err := cfg.RenderLetter(in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := cfg.RenderLetter(in)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("two renderings differ")
	}
	mustContain(t, in.Warning.ID, a, "盱眙县人民政府：", "盱眙县非金属矿物制品业 C30集聚区（320830-C30）", "红色预警",
		"超过99.8%控制限", "2026年7月28日前（20个工作日内）")
	golden := filepath.Join("testdata", "letter-golden.html")
	if *update {
		if err := os.WriteFile(golden, a, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(a, want) {
		t.Fatalf("letter differs from %s (run with -update after a deliberate change)", golden)
	}
}

func TestLetterRefusals(t *testing.T) {
	cfg, err := clusters.Default()
	if err != nil {
		t.Fatal(err)
	}
	res := compute(t, &baseCity().in)
	tests := []struct {
		name string
		in   clusters.LetterInput
		want string
	}{
		{"given no result, then refused", clusters.LetterInput{Warning: model.Warning{ID: "w", Status: model.WarningStatusOpen}}, "result is required"},
		{"given a closed warning, then refused",
			clusters.LetterInput{Warning: model.Warning{ID: "w", Cluster: "320830-C30", Status: model.WarningStatusClosed}, Result: res}, "letters are for open warnings"},
		{"given a cluster not in the run, then refused",
			clusters.LetterInput{Warning: model.Warning{ID: "w", Cluster: "nowhere", Status: model.WarningStatusOpen}, Result: res}, `cluster "nowhere" is not in the run`},
		{"given a cluster without a level, then refused",
			clusters.LetterInput{Warning: model.Warning{ID: "w", Cluster: "320831-C30", Status: model.WarningStatusOpen}, Result: res}, "gets no letter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := cfg.RenderLetter(tt.in); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}
