package dashboards_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/qcredit/qcredit/model"
)

// testAcknowledgeWarning acknowledges an open warning on /clusters through
// its form, then runs the clusters job through the API and waits for the
// read model to show the warning acknowledged by that event.
func testAcknowledgeWarning(t *testing.T, b *browser, base, out string) {
	b.open(t, base+"/clusters")
	// A warning raised before today: a clusters run as of today tracks the
	// warnings of the run before its as_of, so it knows this one.
	today := time.Now().In(model.Shanghai).Format(time.DateOnly)
	id := eval[string](t, b, fmt.Sprintf(`[...document.querySelectorAll('details.warning')]
		.find((d) => d.dataset.raised < %q && d.querySelector('.ack')?.dataset.acknowledged === 'false')?.dataset.warning ?? ''`, today))
	if id == "" {
		t.Fatalf("/clusters shows no open warning raised before %s and not acknowledged", today)
	}
	card := fmt.Sprintf(`details[data-warning=%q]`, id)
	form := card + ` form[data-decision="acknowledge"]`
	eval[bool](t, b, fmt.Sprintf(`document.querySelector(%q).open = true`, card))
	b.run(t,
		chromedp.SendKeys(chromedp.CSS(form+` input[name="note"]`), "已转县局核查"),
		chromedp.Click(chromedp.CSS(form+` button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(form+` .decision-result[data-state="stored"]`)),
	)
	event := eval[string](t, b, fmt.Sprintf(`document.querySelector(%q).dataset.event ?? ''`, form+" .decision-result"))
	if event == "" {
		t.Fatal("the acknowledgement shows no event id")
	}
	b.screenshot(t, out, "clusters-acknowledged-form")

	api := devClient(t, base)
	run, err := json.Marshal(map[string]string{"job": "clusters"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := api.Post(base+"/api/v1/pipeline/runs", "application/json", bytes.NewReader(run))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("clusters run: %s", res.Status)
	}
	// The read model takes the run within a few seconds: poll with a deadline.
	var w struct {
		Acknowledgement *struct {
			EventID string `json:"event_id"`
			Note    string `json:"note"`
		} `json:"acknowledgement"`
	}
	deadline := time.Now().Add(60 * time.Second)
	for w.Acknowledgement == nil || w.Acknowledgement.EventID != event {
		if time.Now().After(deadline) {
			t.Fatalf("warning %s: acknowledgement %+v a minute after the clusters run, want event %s", id, w.Acknowledgement, event)
		}
		time.Sleep(200 * time.Millisecond)
		res, err := api.Get(base + "/api/v1/clusters/warnings/" + id)
		if err != nil {
			t.Fatal(err)
		}
		err = json.NewDecoder(res.Body).Decode(&w)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	if w.Acknowledgement.Note != "已转县局核查" {
		t.Errorf("acknowledgement note %q", w.Acknowledgement.Note)
	}
	b.open(t, base+"/clusters")
	if shown := eval[string](t, b, fmt.Sprintf(`document.querySelector(%q)?.dataset.acknowledged ?? ''`, card+" .ack")); shown != "true" {
		t.Errorf("/clusters shows warning %s acknowledged=%q after the run", id, shown)
	}
}

// devClient is an HTTP client holding the dev session's cookie.
func devClient(t *testing.T, base string) *http.Client {
	t.Helper()
	c := &http.Client{Jar: &cookieJar{}}
	res, err := c.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return c
}
