// Package dashboards holds the analysts' web UI (TypeScript and Apache
// ECharts, built by Vite into dist/app and embedded here) and the Grafana
// dashboards for the ClickHouse warehouse (grafana/).
//
// A binary built before the assets serves a page that says how to build
// them, so `go build` and `go test` work on a fresh clone.
package dashboards

import (
	"bytes"
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed all:dist
var dist embed.FS

// Built reports whether the binary holds the built dashboards.
func Built() bool {
	_, err := fs.Stat(dist, "dist/app/index.html")
	return err == nil
}

// Handler serves the dashboards: files under /assets/ as built (named by
// content hash, so cached for a year), and index.html for every page path,
// the router in the page choosing the view.
func Handler() http.Handler {
	app, err := fs.Sub(dist, "dist/app")
	if err != nil || !Built() {
		return http.HandlerFunc(notBuilt)
	}
	index, err := fs.ReadFile(app, "index.html")
	if err != nil {
		return http.HandlerFunc(notBuilt)
	}
	files := http.FileServerFS(app)
	started := time.Now()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := path.Clean(r.URL.Path)
		if strings.HasPrefix(p, "/assets/") || p == "/favicon.svg" {
			if _, err := fs.Stat(app, strings.TrimPrefix(p, "/")); err != nil {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
			files.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; frame-src 'self'")
		http.ServeContent(w, r, "index.html", started, bytes.NewReader(index))
	})
}

const notBuiltPage = `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>qcredit 仪表盘未构建 · dashboards not built</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 4em auto; line-height: 1.6">
<h1>仪表盘尚未构建 · The dashboards are not built</h1>
<p>这个 qcredit 二进制文件构建时没有仪表盘资源。This qcredit binary was built without the dashboards' assets.
Build them, then the binary:</p>
<pre>make build        # npm ci &amp;&amp; npm run build in dashboards/, then go build
# or by hand:
cd dashboards &amp;&amp; npm ci &amp;&amp; npm run build &amp;&amp; cd .. &amp;&amp; go build -o bin/qcredit ./cmd/qcredit</pre>
<p>The API under <code>/api/v1</code> works without them.</p>
</body></html>
`

func notBuilt(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusServiceUnavailable)
	w.Write([]byte(notBuiltPage))
}
