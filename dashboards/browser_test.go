package dashboards_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/qcredit/qcredit/internal/testenv"
)

// The dashboards in Debian's headless Chromium against `qcredit dev` on a
// small simulated city (QCREDIT_TEST_DASHBOARD_ENTERPRISES, default 1500;
// 20000 for the dev city's load figure). Screenshots of every page go to
// QCREDIT_TEST_OUTPUT (default test-output/dashboards at the repository's
// root, which git ignores).

func TestDashboardsInBrowser(t *testing.T) {
	bin := testenv.Binary(t)
	chromium := testenv.Chromium(t)
	enterprises := 1500
	if n, err := strconv.Atoi(os.Getenv("QCREDIT_TEST_DASHBOARD_ENTERPRISES")); err == nil && n > 0 {
		enterprises = n
	}
	base := devCity(t, bin, enterprises)
	out := screenshotDir(t)
	b := newBrowser(t, chromium)

	t.Run("Overview", func(t *testing.T) {
		// Given the dev city, when the overview opens, then it loads without
		// a console error or failed request, every chart has data drawn,
		// and it is interactive; the time to that is logged.
		ms := b.open(t, base+"/")
		t.Logf("overview interactive after %.0f ms (%d enterprises; data drawn, handlers attached)", ms, enterprises)
		b.checkCharts(t, "overview", "grades", "movement", "trend")
		b.screenshot(t, out, "overview")
	})
	t.Run("EveryPage", func(t *testing.T) {
		for _, p := range []struct{ name, path string }{
			{"clusters", "/clusters"}, {"lists", "/lists"}, {"counties", "/counties"}, {"enterprises", "/enterprises"},
		} {
			b.open(t, base+p.path)
			b.checkCharts(t, p.name)
			b.screenshot(t, out, p.name)
		}
	})
	t.Run("SearchOpensCreditFile", func(t *testing.T) {
		// Given a simulated firm, when an analyst searches a part of its
		// Chinese name and picks it, then its credit file opens with its
		// grade, score history and records.
		name := firmName(t, base)
		part := []rune(name)
		query := string(part[len(part)-6 : len(part)-4]) // e.g. 润昌 of 清江浦区润昌钢材有限公司
		b.open(t, base+"/enterprises")
		b.run(t, chromedp.SendKeys(chromedp.CSS("#search-input"), query), chromedp.Click(chromedp.CSS("#search-submit")))
		b.waitReady(t)
		hits := eval[[]string](t, b, `[...document.querySelectorAll('.search-hit a')].map(a => a.textContent)`)
		if !contains(hits, name) {
			t.Fatalf("searching %q found %v, not %s", query, hits, name)
		}
		b.run(t, chromedp.Click(chromedp.Search(fmt.Sprintf(`//li[contains(@class,"search-hit")]/a[text()=%q]`, name))))
		b.waitReady(t)
		h1 := get(t, b, chromedp.Text(chromedp.CSS("h1")))
		page := eval[string](t, b, `document.body.dataset.page`)
		if page != "enterprise" || !strings.Contains(h1, name) {
			t.Fatalf("after clicking %s: page %q, heading %q", name, page, h1)
		}
		b.checkCharts(t, "credit file", "score-history")
		b.screenshot(t, out, "enterprise")
	})
	t.Run("EnglishSwitch", func(t *testing.T) {
		b.open(t, base+"/counties")
		b.run(t, chromedp.Click(chromedp.CSS("#lang-switch")))
		b.waitReady(t)
		nav := get(t, b, chromedp.Text(chromedp.CSS("#nav")))
		lang := eval[string](t, b, `document.documentElement.lang`)
		if lang != "en" || !strings.Contains(nav, "Overview") || strings.Contains(nav, "总览") {
			t.Errorf("after the switch: lang %q, navigation %q", lang, nav)
		}
		b.screenshot(t, out, "counties-en")
		b.run(t, chromedp.Click(chromedp.CSS("#lang-switch")))
		b.waitReady(t)
		nav = get(t, b, chromedp.Text(chromedp.CSS("#nav")))
		if !strings.Contains(nav, "总览") {
			t.Errorf("switched back: navigation %q", nav)
		}
	})
	t.Run("SharedURLReopensTheView", func(t *testing.T) {
		// Given an analyst who filtered the overview (grades by industry,
		// the trend of one county) and the counties page (6 months), when
		// the URL is opened in a fresh browser, then the same view shows.
		b.open(t, base+"/")
		b.run(t, chromedp.Click(chromedp.CSS(`button[data-by="industry"]`)))
		b.waitReady(t)
		b.run(t, chromedp.SetValue(chromedp.CSS("#trend-county"), "320830"))
		eval[bool](t, b, `document.getElementById('trend-county').dispatchEvent(new Event('change'))`)
		b.waitReady(t)
		shared := get(t, b, chromedp.Location())
		points := eval[int](t, b, `+document.querySelector('[data-chart=grades]').dataset.points`)
		if u, _ := url.Parse(shared); u.Query().Get("by") != "industry" || u.Query().Get("county") != "320830" {
			t.Fatalf("the URL does not carry the filters: %s", shared)
		}
		fresh := newBrowser(t, chromium)
		fresh.open(t, shared)
		active := eval[string](t, fresh, `document.querySelector('.tabs button.active').dataset.by`)
		county := get(t, fresh, chromedp.Value(chromedp.CSS("#trend-county")))
		freshPoints := eval[int](t, fresh, `+document.querySelector('[data-chart=grades]').dataset.points`)
		if active != "industry" || county != "320830" || freshPoints != points {
			t.Errorf("reopened %s: tab %q, county %q, %d groups (had %d)", shared, active, county, freshPoints, points)
		}
		fresh.open(t, base+"/counties?months=6")
		months := get(t, fresh, chromedp.Value(chromedp.CSS("#months")))
		if months != "6" {
			t.Errorf("/counties?months=6 shows %q months", months)
		}
	})
	b.checkProblems(t)
}

// devCity runs `qcredit dev` on a simulated city in a temporary directory
// and returns its address once it serves.
func devCity(t *testing.T, bin string, enterprises int) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(bin, "dev", "--enterprises", strconv.Itoa(enterprises), "--listen", "127.0.0.1:0", "--broker", "127.0.0.1:0")
	cmd.Dir = dir
	logf, err := os.Create(filepath.Join(dir, "dev.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGINT)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("qcredit dev's log (end):\n%s", tail(string(b), 4000))
		}
	})
	addr := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`dashboards: (http://\S+)/`)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
	}()
	select {
	case a := <-addr:
		checkBuilt(t, a)
		return a
	case <-time.After(8 * time.Minute):
		t.Fatal("qcredit dev did not serve within 8 minutes")
	}
	return ""
}

// checkBuilt fails when the binary was built without the dashboards.
func checkBuilt(t *testing.T, base string) {
	t.Helper()
	res, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET / answers %s: the binary holds no dashboards (make build builds them first)", res.Status)
	}
}

func firmName(t *testing.T, base string) string {
	t.Helper()
	// The dev session's cookie comes with a page; the API needs it.
	jar := &cookieJar{}
	c := &http.Client{Jar: jar}
	if res, err := c.Get(base + "/"); err == nil {
		res.Body.Close()
	}
	res, err := c.Get(base + "/api/v1/dashboard/enterprises?q=" + url.QueryEscape("有限公司") + "&limit=50")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct{ Items []struct{ Name string } }
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil || len(body.Items) == 0 {
		t.Fatalf("no firm to search for: %v %+v", err, body)
	}
	return body.Items[len(body.Items)/2].Name
}

type cookieJar struct {
	mu      sync.Mutex
	cookies []*http.Cookie
}

func (j *cookieJar) SetCookies(_ *url.URL, cs []*http.Cookie) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.cookies = append(j.cookies, cs...)
}

func (j *cookieJar) Cookies(*url.URL) []*http.Cookie {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.cookies
}

func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := testenv.OutputDir(t, "dashboards")
	if base := os.Getenv("QCREDIT_TEST_OUTPUT"); base != "" {
		dir = filepath.Join(base, "dashboards")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	abs, _ := filepath.Abs(dir)
	t.Logf("screenshots in %s", abs)
	return dir
}

// browser is one headless Chromium with what went wrong on its pages.
type browser struct {
	ctx      context.Context
	mu       sync.Mutex
	problems []string
}

func newBrowser(t *testing.T, chromium string) *browser {
	t.Helper()
	// The flags keep Chromium off the network beyond localhost (this
	// machine refuses outside connections) and out of the sandbox (root).
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		chromedp.WindowSize(1440, 1000))
	actx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	b := &browser{}
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithListener(b.listen))
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b.ctx = ctx
	if err := chromedp.Do(ctx); err != nil { // starts the browser and its tab
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	return b
}

// listen notes what goes wrong on a page: console errors, uncaught
// exceptions, failed requests and error responses.
func (b *browser) listen(ev any) {
	{
		switch e := ev.(type) {
		case *cdpruntime.EventConsoleAPICalled:
			if e.Type == cdpruntime.ConsoleAPICalledTypeError {
				b.problem("console error: %s", consoleText(e.Args))
			}
		case *cdpruntime.EventExceptionThrown:
			b.problem("uncaught exception: %s at %s:%d", e.ExceptionDetails.Text, e.ExceptionDetails.URL, e.ExceptionDetails.LineNumber)
		case *network.EventLoadingFailed:
			if !e.Canceled {
				b.problem("request failed: %s", e.ErrorText)
			}
		case *network.EventResponseReceived:
			if e.Response.Status >= 400 {
				b.problem("%d %s", int(e.Response.Status), e.Response.URL)
			}
		}
	}
}

func consoleText(args []*cdpruntime.RemoteObject) string {
	var parts []string
	for _, a := range args {
		if a.Value != nil {
			parts = append(parts, string(a.Value))
		} else {
			parts = append(parts, a.Description)
		}
	}
	return strings.Join(parts, " ")
}

func (b *browser) problem(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.problems = append(b.problems, fmt.Sprintf(format, args...))
}

func (b *browser) checkProblems(t *testing.T) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.problems {
		t.Error(p)
	}
	b.problems = nil
}

func (b *browser) run(t *testing.T, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	get(t, b, chromedp.Steps(actions...))
}

// get runs one action and returns its value.
func get[T any](t *testing.T, b *browser, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 90*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](t *testing.T, b *browser, expr string) T {
	t.Helper()
	return get(t, b, chromedp.Evaluate[T](expr))
}

// open loads a page and waits until it is ready (data loaded, charts
// drawn); it returns the milliseconds from navigation to that moment.
func (b *browser) open(t *testing.T, u string) float64 {
	t.Helper()
	b.run(t, chromedp.Navigate(u))
	b.waitReady(t)
	ms := eval[float64](t, b, `+document.body.dataset.readyMs`)
	b.checkProblems(t)
	return ms
}

func (b *browser) waitReady(t *testing.T) {
	t.Helper()
	b.run(t, chromedp.WaitVisible(chromedp.CSS(`body[data-ready="1"]`)))
}

type chartState struct {
	Name     string `json:"name"`
	Points   int    `json:"points"`
	Rendered bool   `json:"rendered"`
	State    string `json:"state"`
	Pixels   int    `json:"pixels"`
}

// checkCharts asserts that every chart on the page has data drawn (its
// canvas holds pixels in colour: the series, not the grey axes), or, for routes this server does not have
// yet, says so; required names must be drawn.
func (b *browser) checkCharts(t *testing.T, page string, required ...string) {
	t.Helper()
	charts := eval[[]chartState](t, b, `[...document.querySelectorAll('.chart')].map(el => {
		// Painted pixels in colour on any of its canvases (ECharts draws some
		// series on layers of their own): axes, grid lines and labels are grey, the data is not.
		let px = 0;
		for (const c of el.querySelectorAll('canvas')) { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
			for (let i = 0; i < d.length; i += 8) if (d[i + 3] > 0 && Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 60) px++; }
		const s = el.querySelector('[data-state]');
		return {name: el.dataset.chart, points: +(el.dataset.points || 0), rendered: !!el.dataset.rendered, state: s ? s.dataset.state : '', pixels: px};
	})`)
	drawn := map[string]bool{}
	for _, c := range charts {
		switch {
		case c.Rendered && c.Points > 0 && c.Pixels > 200:
			drawn[c.Name] = true
		case c.State == "unavailable":
			t.Logf("%s: chart %s not drawn: its API route is not on this server yet", page, c.Name)
		default:
			t.Errorf("%s: chart %s has no data drawn: %+v", page, c.Name, c)
		}
	}
	for _, name := range required {
		if !drawn[name] {
			t.Errorf("%s: chart %s not drawn (charts: %+v)", page, name, charts)
		}
	}
}

func (b *browser) screenshot(t *testing.T, dir, name string) {
	t.Helper()
	png := get(t, b, chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.TrimSpace(x) == s {
			return true
		}
	}
	return false
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
