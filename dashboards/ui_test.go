package dashboards_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/qcredit/qcredit/dashboards"
)

func TestHandler(t *testing.T) {
	// Built, every page path answers the app's index.html and a missing
	// asset is a 404; not built (a fresh clone), every page says how to
	// build them.
	srv := httptest.NewServer(dashboards.Handler())
	defer srv.Close()
	get := func(path string) (int, string) {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	for _, page := range []string{"/", "/clusters", "/enterprises/91320830MA1AAA018A", "/lists", "/counties", "/draws", "/draws/draw-20270101-a1b2c3/verify"} {
		status, body := get(page)
		switch {
		case dashboards.Built() && (status != http.StatusOK || !strings.Contains(body, `<main id="app">`)):
			t.Errorf("GET %s: %d %.80q", page, status, body)
		case !dashboards.Built() && (status != http.StatusServiceUnavailable || !strings.Contains(body, "npm run build")):
			t.Errorf("GET %s without the assets: %d %.80q", page, status, body)
		}
	}
	if status, _ := get("/assets/nothing.js"); dashboards.Built() && status != http.StatusNotFound {
		t.Errorf("a missing asset: %d", status)
	}
}
