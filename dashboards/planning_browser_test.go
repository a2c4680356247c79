package dashboards_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/qcredit/qcredit/planning"
)

// The counties page's planning sections, the public verification of a
// draw, and signing in under `qcredit serve`: the parts of
// TestDashboardsInBrowser that need more than a page load.

func testPlanning(t *testing.T, b *browser, base, out string) {
	b.open(t, base+"/counties")
	b.checkCharts(t, "counties", "reporting", "kpi", "overdue", "self-correction", "plan")
	type shown struct {
		KPIRows, PlanLines, Reasons, Overdue, Units, Draws, Drawn int
		Summary, DrawStatus                                       string
	}
	got := eval[shown](t, b, `({
		KPIRows: document.querySelectorAll('#kpi tbody tr').length,
		PlanLines: document.querySelectorAll('#plan tbody tr').length,
		Reasons: document.querySelectorAll('#plan ul.reasons li').length,
		Overdue: document.querySelectorAll('#overdue tbody tr').length,
		Units: document.querySelectorAll('#equipment tbody tr').length,
		Draws: document.querySelectorAll('#draw-list > table tbody tr').length,
		Drawn: document.querySelectorAll('#draw-detail tbody tr').length,
		Summary: document.getElementById('plan-summary')?.textContent ?? '',
		DrawStatus: document.querySelector('#draw-list > table tbody tr .status')?.textContent ?? '',
	})`)
	// The city bureau and its eight counties each have a KPI row; the dev
	// city has overdue complaints and units under 90 % in any county.
	if got.KPIRows != 9 || got.PlanLines == 0 || got.Reasons < got.PlanLines || got.Overdue == 0 || got.Units == 0 ||
		!strings.Contains(got.Summary, "抽查计划") || got.Draws == 0 || got.DrawStatus != "已摇号" || got.Drawn < 5 {
		t.Errorf("the counties page shows %+v", got)
	}
	for _, section := range []string{"kpis", "complaints", "equipment", "plan", "draws"} {
		png := get(t, b, chromedp.Screenshot(chromedp.CSS("#s-"+section)))
		if err := os.WriteFile(filepath.Join(out, "counties-"+section+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The plan's exports go through the API with the page's credentials.
	for _, f := range []string{"csv", "xlsx"} {
		b.run(t, chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-export="/plan.%s"]`, f))))
		b.waitResponse(t, "/api/v1/plan?format="+f, http.StatusOK)
	}
}

// waitResponse polls (with a deadline) until the page got a response to a
// URL containing part, and checks its status.
func (b *browser) waitResponse(t *testing.T, part string, status int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		b.mu.Lock()
		for u, s := range b.responses {
			if strings.Contains(u, part) {
				b.mu.Unlock()
				if s != status {
					t.Errorf("%s answered %d, want %d", u, s, status)
				}
				return
			}
		}
		b.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
	}
	t.Errorf("no response to %s within 30 s", part)
}

// browserCheck is a check as the verify page reports it.
type browserCheck struct {
	Check   string `json:"check"`
	Subject string `json:"subject"`
	OK      bool   `json:"ok"`
	Detail  string `json:"detail"`
}

type browserVerification struct {
	OK         bool           `json:"ok"`
	Checks     []browserCheck `json:"checks"`
	Recomputed []struct {
		USCC       string   `json:"uscc"`
		Grade      string   `json:"grade"`
		Inspectors []string `json:"inspectors"`
		U          string   `json:"u"`
	} `json:"recomputed"`
	Strata []struct {
		Grade       string `json:"grade"`
		Firms       int64  `json:"firms"`
		Probability string `json:"probability"`
		Drawn       int64  `json:"drawn"`
	} `json:"strata"`
	Hashes         map[string]string `json:"hashes"`
	CanonicalRules string            `json:"canonicalRules"`
}

// verifyInBrowser opens a draw's verify page and returns what it found.
func verifyInBrowser(t *testing.T, b *browser, base, id string) (browserVerification, float64) {
	t.Helper()
	ms := b.open(t, base+"/draws/"+id+"/verify")
	var v browserVerification
	if err := json.Unmarshal([]byte(eval[string](t, b, `JSON.stringify(window.qcredit.verification ?? null)`)), &v); err != nil {
		t.Fatal(err)
	}
	return v, ms
}

// goChecks verifies the same bytes with planning (what `qcredit lottery
// verify` runs), for comparison check by check.
func goChecks(doc, pool, inspectors []byte) []planning.Check {
	d, err := planning.ParseDraw(doc)
	if err != nil {
		return []planning.Check{{Name: planning.CheckDocument, Detail: err.Error()}}
	}
	return planning.VerifyDraw(planning.VerifyDrawInput{Draw: d, PoolCSV: pool, InspectorsCSV: inspectors}).Checks
}

// sameChecks compares the checks made, in order: name, subject, outcome.
func sameChecks(t *testing.T, what string, browser []browserCheck, goside []planning.Check) {
	t.Helper()
	var b, g []string
	for _, c := range browser {
		b = append(b, fmt.Sprintf("%s %s %v", c.Check, c.Subject, c.OK))
	}
	for _, c := range goside {
		g = append(g, fmt.Sprintf("%s %s %v", c.Name, c.Subject, c.OK))
	}
	if !slices.Equal(b, g) {
		t.Errorf("%s: the browser's checks\n%s\ndiffer from Go's\n%s\n(browser %+v, Go %+v)", what, strings.Join(b, "\n"), strings.Join(g, "\n"), browser, goside)
	}
}

func failedNames(cs []browserCheck) []string {
	var out []string
	for _, c := range cs {
		if !c.OK && !slices.Contains(out, c.Check) {
			out = append(out, c.Check)
		}
	}
	return out
}

func fetchBytes(t *testing.T, u string) []byte {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", u, res.StatusCode, err)
	}
	return b
}

// editDraw changes a published document through a generic decoding that
// keeps numbers as written.
func editDraw(t *testing.T, doc []byte, edit func(map[string]any)) []byte {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func testVerifyDraw(t *testing.T, b *browser, base, out string) {
	var index struct {
		Draws []struct{ ID, Kind, Status string }
	}
	if err := json.Unmarshal(fetchBytes(t, base+"/api/v1/public/draws"), &index); err != nil {
		t.Fatal(err)
	}
	id := ""
	for _, d := range index.Draws {
		if d.Kind == "inspection" && d.Status == "drawn" {
			id = d.ID
		}
	}
	if id == "" {
		t.Fatalf("the dev city has no drawn inspection draw: %+v", index)
	}
	path := "/api/v1/public/draws/" + id
	doc, pool, inspectors := fetchBytes(t, base+path), fetchBytes(t, base+path+"/pool.csv"), fetchBytes(t, base+path+"/inspectors.csv")

	t.Run("AsPublished", func(t *testing.T) {
		// Given the dev city's drawn draw, when anyone opens its verify
		// page, then the page fetches the document and its two files and
		// nothing else from the API, and every check passes — the same
		// checks, in the same order, as planning.VerifyDraw on those bytes.
		b.apiRequests()
		v, ms := verifyInBrowser(t, b, base, id)
		requests := b.apiRequests()
		slices.Sort(requests)
		if want := []string{base + path, base + path + "/inspectors.csv", base + path + "/pool.csv"}; !slices.Equal(requests, want) {
			t.Errorf("the verify page requested %v, want the three published files %v", requests, want)
		}
		if !v.OK || len(v.Recomputed) == 0 {
			t.Errorf("the draw as published does not verify in the browser: %+v", v)
		}
		sameChecks(t, "as published", v.Checks, goChecks(doc, pool, inspectors))
		t.Logf("verified %s in the browser (%d firms in the pool) in %.0f ms from navigation", id, bytes.Count(pool, []byte("\n"))-1, ms)
		b.screenshot(t, out, "verify")
	})

	t.Run("Altered", func(t *testing.T) {
		// Given the same draw with one published part altered, when the
		// page is fed it (Chromium answering in the server's place), then
		// verification fails naming that part, exactly as Go's does.
		var published struct{ Drawn []struct{ USCC string } }
		if err := json.Unmarshal(doc, &published); err != nil || len(published.Drawn) == 0 {
			t.Fatalf("the published draw has no firms: %v", err)
		}
		drawn := map[string]bool{}
		for _, f := range published.Drawn {
			drawn[f.USCC] = true
		}
		lines := strings.SplitAfter(string(pool), "\n")
		notDrawn := ""
		for _, l := range lines[1 : len(lines)-1] {
			if !drawn[l[:18]] {
				notDrawn = l[:18]
				break
			}
		}
		regraded := strings.Replace(string(pool), lines[1], lines[1][:19]+map[bool]string{true: "B", false: "A"}[lines[1][19] == 'A']+lines[1][20:], 1)
		cases := []struct {
			name, want            string
			doc, pool, inspectors []byte
		}{
			{name: "pool: a firm regraded", want: "pool_sha256", pool: []byte(regraded)},
			{name: "pool: CRLF line ends", want: "pool.csv", pool: bytes.ReplaceAll(pool, []byte("\n"), []byte("\r\n"))},
			{name: "inspectors: one left out", want: "inspectors_sha256",
				inspectors: []byte(strings.Join(slices.Delete(strings.SplitAfter(string(inspectors), "\n"), 1, 2), ""))},
			{name: "rules: D's probability raised", want: "rules_sha256", doc: editDraw(t, doc, func(m map[string]any) {
				m["rules"].(map[string]any)["probabilities"].(map[string]any)["D"] = json.Number("0.5")
			})},
			{name: "seed: another one", want: "commitment", doc: editDraw(t, doc, func(m map[string]any) {
				s := m["seed"].(string)
				m["seed"] = map[bool]string{true: "1", false: "0"}[s[0] == '0'] + s[1:]
			})},
			{name: "beacon: a trailing space", want: "beacon", doc: editDraw(t, doc, func(m map[string]any) { m["beacon"] = m["beacon"].(string) + " " })},
			{name: "result: a firm swapped for one not drawn", want: "drawn", doc: editDraw(t, doc, func(m map[string]any) {
				m["drawn"].([]any)[0].(map[string]any)["uscc"] = notDrawn
			})},
			{name: "result: an inspector changed", want: "inspectors", doc: editDraw(t, doc, func(m map[string]any) {
				m["drawn"].([]any)[0].(map[string]any)["inspectors"] = []string{"SOMEONE-ELSE"}
			})},
		}
		for i, c := range cases {
			d, p, in := cmpOr(c.doc, doc), cmpOr(c.pool, pool), cmpOr(c.inspectors, inspectors)
			stop := b.fulfil(t, map[string][]byte{path: d, path + "/pool.csv": p, path + "/inspectors.csv": in})
			v, _ := verifyInBrowser(t, b, base, id)
			stop()
			verdict := get(t, b, chromedp.Text(chromedp.CSS("#verdict")))
			failed := failedNames(v.Checks)
			if v.OK || !slices.Contains(failed, c.want) || !strings.Contains(verdict, c.want) {
				t.Errorf("%s: failed %v, verdict %q; want %s named", c.name, failed, verdict, c.want)
			}
			sameChecks(t, c.name, v.Checks, goChecks(d, p, in))
			if i == 0 {
				b.screenshot(t, out, "verify-altered-pool")
			}
		}
	})

	t.Run("PublishedExample", func(t *testing.T) {
		// Given planning/testdata/draw (the published example), when the
		// page is fed its three files, then it verifies, and its
		// recomputation is byte for byte Go's: the drawn firms with their
		// inspectors, k_g per grade, the hashes and the canonical rules.
		dir := filepath.Join("..", "planning", "testdata", "draw")
		read := func(name string) []byte {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		doc, pool, inspectors := read("draw.json"), read("pool.csv"), read("inspectors.csv")
		committed, err := planning.ParseDraw(read("committed.json"))
		if err != nil {
			t.Fatal(err)
		}
		var secret struct{ Seed, Beacon string }
		if err := json.Unmarshal(read("create.json"), &secret); err != nil {
			t.Fatal(err)
		}
		seed, err := planning.ParseSeed(secret.Seed)
		if err != nil {
			t.Fatal(err)
		}
		want, err := planning.PerformDraw(planning.PerformDrawInput{Draw: committed, PoolCSV: pool, InspectorsCSV: inspectors, Seed: seed, Beacon: secret.Beacon})
		if err != nil {
			t.Fatal(err)
		}
		const exampleID = "2026-city-industrial-1"
		p := "/api/v1/public/draws/" + exampleID
		stop := b.fulfil(t, map[string][]byte{p: doc, p + "/pool.csv": pool, p + "/inspectors.csv": inspectors})
		v, _ := verifyInBrowser(t, b, base, exampleID)
		stop()
		if !v.OK {
			t.Errorf("the published example does not verify in the browser: %+v", v.Checks)
		}
		sameChecks(t, "published example", v.Checks, goChecks(doc, pool, inspectors))
		type firm struct {
			USCC       string   `json:"uscc"`
			Grade      string   `json:"grade"`
			Inspectors []string `json:"inspectors"`
		}
		var recomputed []firm
		for _, f := range v.Recomputed {
			recomputed = append(recomputed, firm{f.USCC, f.Grade, f.Inspectors})
		}
		browserJSON, _ := json.Marshal(recomputed)
		goJSON, _ := json.Marshal(want.Draw.Drawn)
		if !bytes.Equal(browserJSON, goJSON) {
			t.Errorf("drawn, browser:\n%s\nGo:\n%s", browserJSON, goJSON)
		}
		var strata, goStrata []string
		for _, s := range v.Strata {
			strata = append(strata, fmt.Sprintf("%s N=%d p=%s k=%d", s.Grade, s.Firms, s.Probability, s.Drawn))
		}
		for _, s := range want.Strata {
			goStrata = append(goStrata, fmt.Sprintf("%s N=%d p=%s k=%d", s.Grade, s.Firms, s.Probability, s.Drawn))
		}
		if !slices.Equal(strata, goStrata) {
			t.Errorf("strata, browser %v, Go %v", strata, goStrata)
		}
		if v.CanonicalRules != string(want.Draw.Rules.Canonical()) || v.Hashes["rules"] != want.Draw.RulesSHA256 ||
			v.Hashes["pool"] != want.Draw.PoolSHA256 || v.Hashes["inspectors"] != want.Draw.InspectorsSHA256 {
			t.Errorf("hashes, browser %v %s, Go %s %s %s %s", v.Hashes, v.CanonicalRules, want.Draw.Rules.Canonical(), want.Draw.RulesSHA256, want.Draw.PoolSHA256, want.Draw.InspectorsSHA256)
		}
		b.screenshot(t, out, "verify-published-example")
	})
}

func cmpOr(b, otherwise []byte) []byte {
	if b != nil {
		return b
	}
	return otherwise
}

func testSignIn(t *testing.T, chromium, bin, base, dir, out string) {
	analyst := createKey(t, bin, dir, "browser-analyst", "analyst")
	partner := createKey(t, bin, dir, "browser-partner", "partner")
	b := newBrowser(t, chromium)
	signInOpen := func() bool { return eval[bool](t, b, `document.getElementById('sign-in').open`) }
	submit := func(key string) {
		b.run(t, chromedp.SetValue(chromedp.CSS("#sign-in-key"), key), chromedp.Click(chromedp.CSS("#sign-in-submit")))
	}
	waitError := func(want string) string {
		b.run(t, chromedp.WaitVisible(chromedp.CSS("#sign-in-error")))
		deadline := time.Now().Add(30 * time.Second)
		for {
			msg := get(t, b, chromedp.Text(chromedp.CSS("#sign-in-error")))
			if strings.Contains(msg, want) || time.Now().After(deadline) {
				return msg
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	b.apiRequests()
	b.run(t, chromedp.Navigate(base+"/"))
	b.waitReady(t)
	if reqs := b.apiRequests(); !signInOpen() || !slices.Equal(reqs, []string{base + "/api/v1/session"}) {
		t.Fatalf("under serve without a key: sign-in open %v, requests %v (want only the session)", signInOpen(), reqs)
	}
	banner := eval[bool](t, b, `!document.getElementById('dev-banner').hidden`)
	if banner {
		t.Error("serve shows the development-session banner")
	}

	submit("qck_aaaaaaaaaaaaa_" + strings.Repeat("x", 52))
	if msg := waitError("密钥无效"); !strings.Contains(msg, "密钥无效") || !strings.Contains(msg, "invalid_key") {
		t.Errorf("a wrong key: %q", msg)
	}
	b.screenshot(t, out, "signin-wrong-key")
	submit(partner)
	if msg := waitError("没有分析员"); !strings.Contains(msg, "没有分析员") || !strings.Contains(msg, "forbidden") {
		t.Errorf("a partner key: %q", msg)
	}
	if n := b.forgive(regexp.MustCompile(`^40[13] .*/api/v1/dashboard/overview$`)); n != 2 {
		t.Errorf("the refused keys made %d refused requests, want 2", n)
	}
	if stored := eval[bool](t, b, `sessionStorage.getItem('qcredit.key') === null`); !stored {
		t.Error("a refused key was kept")
	}

	submit(analyst)
	b.run(t, chromedp.WaitNotVisible(chromedp.CSS("#sign-in")))
	b.waitReady(t)
	b.checkCharts(t, "overview under serve", "grades", "movement", "trend")
	kept := eval[bool](t, b, fmt.Sprintf(`sessionStorage.getItem('qcredit.key') === %q && !Object.values(localStorage).includes(%q)`, analyst, analyst))
	if !kept {
		t.Error("the analyst key is not kept in sessionStorage alone")
	}
	b.screenshot(t, out, "signin-serve-overview")
	b.open(t, base+"/counties")
	b.checkCharts(t, "counties under serve", "kpi", "plan")
	// A warning letter opens with the key (a plain link would carry none).
	b.open(t, base+"/clusters")
	if eval[int](t, b, `document.querySelectorAll('a.letter').length`) > 0 {
		b.run(t, chromedp.Click(chromedp.CSS("a.letter")))
		b.waitResponse(t, "/letter", http.StatusOK)
	} else {
		t.Log("no warning with a letter in this city: the letter's sign-in not checked")
	}

	b.run(t, chromedp.Click(chromedp.CSS("#sign-out")))
	b.run(t, chromedp.WaitVisible(chromedp.CSS("#sign-in"))) // on the reloaded page
	if !signInOpen() || !eval[bool](t, b, `sessionStorage.getItem('qcredit.key') === null`) {
		t.Error("signing out did not forget the key")
	}

	// The public pages need no key.
	anyone := newBrowser(t, chromium)
	anyone.open(t, base+"/draws")
	if rows := eval[int](t, anyone, `document.querySelectorAll('#draws tbody tr').length`); rows == 0 || eval[bool](t, anyone, `document.getElementById('sign-in').open`) {
		t.Errorf("/draws under serve without a key: %d draws listed, or a sign-in asked", rows)
	}
	b.checkProblems(t)
	anyone.checkProblems(t)
}
