package dashboards_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/qcredit/qcredit/internal/testenv"
)

// The dashboards in Debian's headless Chromium against `qcredit dev` on a
// simulated city (QCREDIT_TEST_DASHBOARD_ENTERPRISES, default 1500; 20000
// for the dev city of `make run` and its load figure: run it with
// -timeout 60m), then against `qcredit serve` on the same warehouse, signing
// in with a key. Screenshots of every page go to QCREDIT_TEST_OUTPUT
// (default test-output/dashboards at the repository's root, which git
// ignores).

func TestDashboardsInBrowser(t *testing.T) {
	bin := testenv.Binary(t)
	chromium := testenv.Chromium(t)
	enterprises := 1500
	if n, err := strconv.Atoi(os.Getenv("QCREDIT_TEST_DASHBOARD_ENTERPRISES")); err == nil && n > 0 {
		enterprises = n
	}
	dev, base, dir := devCity(t, bin, enterprises)
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
			{"clusters", "/clusters"}, {"lists", "/lists"}, {"counties", "/counties"}, {"enterprises", "/enterprises"}, {"draws", "/draws"},
		} {
			b.open(t, base+p.path)
			b.checkCharts(t, p.name)
			b.screenshot(t, out, p.name)
		}
	})
	t.Run("ListsThroughTheAPI", func(t *testing.T) {
		// Given the dev city's published lists, when the lists page opens,
		// then the snapshot comes a page at a time from the API (limit=50),
		// the recent versions are shown newest first with their counts, a
		// version's button shows the changes from the one before, and a
		// list longer than a page moves to offset=50 by the pager, the URL
		// keeping it.
		testLists(t, b, base, out)
	})
	t.Run("PlanDrawsAndKPIs", func(t *testing.T) {
		// Given the dev city's plan, kpi and demonstration draw, when the
		// counties page opens, then the KPIs by county, the overdue
		// complaints, the units under 90 %, the plan with its reasons and
		// the drawn draw with its firms are shown, every chart drawn, and
		// the plan exports as CSV and XLSX.
		testPlanning(t, b, base, out)
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
	t.Run("VerifyDraw", func(t *testing.T) {
		testVerifyDraw(t, b, base, out)
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
		fresh.open(t, base+"/counties?months=6&kpi=self_correction")
		months := get(t, fresh, chromedp.Value(chromedp.CSS("#months")))
		kpi := get(t, fresh, chromedp.Value(chromedp.CSS("#kpi-chart")))
		if months != "6" || kpi != "self_correction" {
			t.Errorf("/counties?months=6&kpi=self_correction shows %q months, KPI %q", months, kpi)
		}
	})
	t.Run("AcknowledgeWarning", func(t *testing.T) {
		// Given an open warning on /clusters, when the analyst acknowledges
		// it through its form, then the page shows the stored event's id,
		// and after a clusters run the API and the page show the warning
		// acknowledged by that event.
		testAcknowledgeWarning(t, b, base, out)
	})
	b.checkProblems(t)

	t.Run("SignInUnderServe", func(t *testing.T) {
		// Given the same warehouse under `qcredit serve` (no development
		// session) and keys made with `qcredit keys create` through it,
		// when an analyst opens the dashboards, then the page asks for a key
		// and fetches nothing; a wrong key and a partner key are refused
		// with a message saying why; an analyst key shows the data, is kept
		// for the browser session only, and signing out forgets it.
		dev.stop(t)
		testSignIn(t, chromium, bin, serveCity(t, bin, dir), dir, out)
	})
}

// process is a qcredit command the test started, with its log.
type process struct {
	cmd  *exec.Cmd
	log  *os.File
	done chan error
}

// start runs bin with args in dir; every line of its stderr goes to the
// log, and the first match of re on stdout or stderr is sent to found.
func start(t *testing.T, bin, dir, logName string, re *regexp.Regexp, args ...string) (*process, <-chan string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	logf, err := os.Create(filepath.Join(dir, logName))
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, log: logf, done: make(chan error, 1)}
	found := make(chan string, 2)
	var mu sync.Mutex
	scan := func(r io.Reader, keep bool) {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if keep {
				mu.Lock()
				fmt.Fprintln(logf, sc.Text())
				mu.Unlock()
			}
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}
	var scanned sync.WaitGroup
	scanned.Add(2)
	go func() { defer scanned.Done(); scan(stdout, false) }()
	go func() { defer scanned.Done(); scan(stderr, true) }()
	go func() { scanned.Wait(); p.done <- cmd.Wait() }()
	t.Cleanup(func() { p.stop(t) })
	return p, found
}

// stop interrupts the process and waits for it (killed after 30 s); on a
// failed test it logs the end of its log.
func (p *process) stop(t *testing.T) {
	if p.cmd.ProcessState != nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
	p.log.Close()
	if t.Failed() {
		b, _ := os.ReadFile(p.log.Name())
		t.Logf("%s (end):\n%s", filepath.Base(p.log.Name()), tail(string(b), 4000))
	}
}

// wait returns what start found, or fails after limit.
func wait(t *testing.T, p *process, found <-chan string, limit time.Duration, what string) string {
	t.Helper()
	select {
	case v := <-found:
		return v
	case err := <-p.done:
		p.done <- err
		t.Fatalf("%s: the process ended (%v) first", what, err)
	case <-time.After(limit):
		t.Fatalf("%s: not within %s", what, limit)
	}
	return ""
}

// devCity runs `qcredit dev` on a simulated city in a temporary directory
// and returns it and its address once it serves.
func devCity(t *testing.T, bin string, enterprises int) (*process, string, string) {
	t.Helper()
	dir := t.TempDir()
	started := time.Now()
	p, found := start(t, bin, dir, "dev.log", regexp.MustCompile(`dashboards: (http://\S+)/`),
		"dev", "--enterprises", strconv.Itoa(enterprises), "--listen", "127.0.0.1:0", "--broker", "127.0.0.1:0")
	base := wait(t, p, found, 20*time.Minute, "qcredit dev serving the dashboards")
	t.Logf("qcredit dev served %d enterprises after %s (simulation, import, history)", enterprises, time.Since(started).Round(time.Second))
	checkBuilt(t, base)
	return p, base, dir
}

// serveCity runs `qcredit serve` on the warehouse in dir (a dev city's,
// stopped) and returns its address.
func serveCity(t *testing.T, bin, dir string) string {
	t.Helper()
	p, found := start(t, bin, dir, "serve.log", regexp.MustCompile(`msg=serving addr=(\S+)`), "serve", "--listen", "127.0.0.1:0")
	base := "http://" + wait(t, p, found, 5*time.Minute, "qcredit serve listening")
	checkBuilt(t, base)
	return base
}

// createKey makes a key with `qcredit keys create` in dir, which goes
// through the running server's admin socket.
func createKey(t *testing.T, bin, dir, name, scope string, extra ...string) string {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"keys", "create", "--name", name, "--scope", scope}, extra...)...)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("qcredit keys create --name %s --scope %s: %v: %s", name, scope, err, stderr.String())
	}
	return strings.TrimSpace(string(out))
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

// browser is one headless Chromium with what went wrong on its pages, the
// API requests they made and the responses they got, and the answers it
// gives in the server's place (fulfil).
type browser struct {
	ctx       context.Context
	mu        sync.Mutex
	problems  []string
	requests  []string         // URLs of /api/ requests, in order
	responses map[string]int64 // URL → status of /api/ responses
	answers   map[string][]byte
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
	b := &browser{responses: map[string]int64{}}
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
			if strings.Contains(e.Response.URL, "/api/") {
				b.mu.Lock()
				b.responses[e.Response.URL] = e.Response.Status
				b.mu.Unlock()
			}
		case *network.EventRequestWillBeSent:
			if strings.Contains(e.Request.URL, "/api/") {
				b.mu.Lock()
				b.requests = append(b.requests, e.Request.URL)
				b.mu.Unlock()
			}
		case *fetch.EventRequestPaused:
			go b.answer(e)
		}
	}
}

// fulfil answers the page's requests for these paths (with their query)
// with the bytes given, in the server's place, until the returned func is
// called: Chromium's Fetch domain pauses each request to the draw routes.
func (b *browser) fulfil(t *testing.T, answers map[string][]byte) func() {
	t.Helper()
	b.mu.Lock()
	b.answers = answers
	b.mu.Unlock()
	if _, err := chromedp.Call(b.ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*/api/v1/public/draws/*"}}}); err != nil {
		t.Fatal(err)
	}
	return func() {
		if _, err := chromedp.Call(b.ctx, fetch.Disable, cdp.Empty{}); err != nil {
			t.Error(err)
		}
		b.mu.Lock()
		b.answers = nil
		b.mu.Unlock()
	}
}

// answer fulfils a paused request from answers, or lets it through.
func (b *browser) answer(e *fetch.EventRequestPaused) {
	u, err := url.Parse(e.Request.URL)
	b.mu.Lock()
	body, ok := b.answers[u.RequestURI()]
	b.mu.Unlock()
	if err == nil && ok {
		_, err = chromedp.Call(b.ctx, fetch.FulfillRequest, fetch.FulfillRequestParams{RequestID: e.RequestID, ResponseCode: 200,
			ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: "application/octet-stream"}}, Body: body})
	} else {
		_, err = chromedp.Call(b.ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: e.RequestID})
	}
	if err != nil && b.ctx.Err() == nil {
		b.problem("answering %s: %v", e.Request.URL, err)
	}
}

// apiRequests returns the /api/ requests made since the last call.
func (b *browser) apiRequests() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.requests
	b.requests = nil
	return r
}

// forgive drops the problems that match re (responses a step expects,
// such as the 401 of a wrong key) and returns how many it dropped.
func (b *browser) forgive(re *regexp.Regexp) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	kept := b.problems[:0]
	for _, p := range b.problems {
		if !re.MatchString(p) {
			kept = append(kept, p)
		}
	}
	n := len(b.problems) - len(kept)
	b.problems = kept
	return n
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

func testLists(t *testing.T, b *browser, base string, out string) {
	// The dev city lists a minute after each score, live: a version
	// published between the page's requests makes its parts disagree, so
	// a disagreement is looked at again, twice at most.
	for attempt := 1; ; attempt++ {
		errs := testListsOnce(t, b, base, out)
		if len(errs) == 0 {
			break
		}
		if attempt == 3 {
			for _, err := range errs {
				t.Error(err)
			}
			break
		}
		t.Logf("the lists page again (a version may have been published meanwhile): %v", errs)
	}
	b.checkProblems(t)
}

func testListsOnce(t *testing.T, b *browser, base string, out string) []error {
	var errs []error
	b.apiRequests()
	b.open(t, base+"/lists")
	snapshotPaged := func(reqs []string, offset int) bool {
		for _, r := range reqs {
			u, err := url.Parse(r)
			if err == nil && strings.HasSuffix(u.Path, "/partner/lists/dishonest") && u.Query().Get("limit") == "50" &&
				u.Query().Get("offset") == strconv.Itoa(offset) {
				return true
			}
		}
		return false
	}
	if reqs := b.apiRequests(); !snapshotPaged(reqs, 0) {
		errs = append(errs, fmt.Errorf("the lists page did not fetch a page of the snapshot (limit=50, offset=0): %v", reqs))
	}
	versions := eval[[]int](t, b, `[...document.querySelectorAll('#versions tbody tr')].map(tr => +tr.cells[0].textContent)`)
	if len(versions) == 0 {
		return append(errs, errors.New("the recent versions table has no rows"))
	}
	for i := 1; i < len(versions); i++ {
		if versions[i] != versions[i-1]-1 {
			errs = append(errs, fmt.Errorf("recent versions %v: not newest first", versions))
			break
		}
	}
	counts := eval[[]string](t, b, `[...document.querySelectorAll('#versions tbody tr')].map(tr => tr.cells[2].textContent)`)
	header := get(t, b, chromedp.Text(chromedp.CSS("#snapshot p.sub")))
	if !strings.Contains(header, fmt.Sprintf(" %d ", versions[0])) || !strings.Contains(header, " "+counts[0]+" ") {
		errs = append(errs, fmt.Errorf("the snapshot's header %q is not the latest version %d with %s entries", header, versions[0], counts[0]))
	}
	b.screenshot(t, out, "lists-versions")
	if enabled := eval[int](t, b, `[...document.querySelectorAll('#versions button.show-changes')].filter(x => !x.disabled).length`); enabled > 0 {
		v := eval[int](t, b, `+[...document.querySelectorAll('#versions button.show-changes')].filter(x => !x.disabled).pop().dataset.version`)
		b.run(t, chromedp.Click(chromedp.CSS(fmt.Sprintf(`#versions button.show-changes[data-version="%d"]`, v))))
		b.waitReady(t)
		loc, _ := url.Parse(get(t, b, chromedp.Location()))
		from := get(t, b, chromedp.Text(chromedp.CSS("#changes p.sub")))
		// the version's own changes: as many rows as its counts say (+a −r ~m), at most 200 shown
		own := eval[int](t, b, fmt.Sprintf(`[...document.querySelectorAll('#versions tbody tr')].filter(tr => tr.cells[0].textContent === '%d')
			.map(tr => [...tr.cells[3].querySelectorAll('.op')].reduce((n, x) => n + +x.textContent.slice(1), 0))[0] ?? -1`, v))
		rows := eval[int](t, b, `document.querySelectorAll('#changes tbody tr').length`)
		if loc.Query().Get("since") != strconv.Itoa(v-1) || loc.Query().Get("to") != strconv.Itoa(v) ||
			strings.TrimSpace(from) != fmt.Sprintf("%d → %d", v-1, v) || rows != min(own, 200) {
			errs = append(errs, fmt.Errorf("the changes of version %d: URL %s, changes %q, %d rows for %d own changes", v, loc, from, rows, own))
		}
		b.apiRequests()
	}
	// The next page: by the pager when the list is longer than a page,
	// else opened by its URL (the second half of the one page).
	total := eval[int](t, b, `+(document.querySelector('#versions tbody tr')?.cells[2].textContent ?? 0)`)
	offset := 50
	if total > 50 {
		b.run(t, chromedp.Click(chromedp.CSS("#snapshot .pager button.next")))
		b.waitReady(t)
	} else {
		offset = total / 2
		b.open(t, fmt.Sprintf("%s/lists?offset=%d", base, offset))
	}
	loc, _ := url.Parse(get(t, b, chromedp.Location()))
	rows := eval[int](t, b, `document.querySelectorAll('#snapshot tbody tr').length`)
	pager := eval[string](t, b, `document.querySelector('#snapshot .pager')?.textContent ?? ''`)
	if reqs := b.apiRequests(); loc.Query().Get("offset") != strconv.Itoa(offset) || !snapshotPaged(reqs, offset) ||
		rows != min(50, total-offset) || pager == "" {
		errs = append(errs, fmt.Errorf("the page at %d of %d entries: URL %s, %d rows, pager %q, requests %v", offset, total, loc, rows, pager, reqs))
	}
	b.screenshot(t, out, "lists-page-2")
	return errs
}
