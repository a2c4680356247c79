package api

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"net/http"

	"github.com/gin-gonic/gin"
)

// The dashboards' pages (Options.UI) are served at these paths, each
// opening its page directly; their assets under /assets/. /draws and
// /draws/{id}/verify are public (the draws and their verification in the
// browser): the page asks for no key there.
var uiPages = []string{"/", "/clusters", "/enterprises", "/enterprises/:uscc", "/lists", "/counties", "/draws", "/draws/:id/verify"}

func (s *Server) uiRoutes(ui http.Handler) {
	if ui == nil {
		return
	}
	h := func(c *gin.Context) {
		s.dev.issue(c)
		ui.ServeHTTP(c.Writer, c.Request)
	}
	for _, p := range uiPages {
		s.engine.GET(p, h)
	}
	s.engine.GET("/assets/*file", gin.WrapH(ui))
	s.engine.GET("/favicon.svg", gin.WrapH(ui))
}

// devSession is the development-only session of `qcredit dev`: the
// dashboards open ready to use, with no key to type. Serving a page sets an
// HttpOnly, SameSite=Strict cookie holding a random token made at start;
// authorize lets a request carrying it in with scope analyst. `serve`
// never has one.
type devSession struct{ token string }

const devCookie = "qcredit_dev_session"

func newDevSession() *devSession {
	b := make([]byte, 32)
	rand.Read(b)
	return &devSession{token: hex.EncodeToString(b)}
}

// issue sets the session's cookie on a page response.
func (d *devSession) issue(c *gin.Context) {
	if d == nil {
		return
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: devCookie, Value: d.token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// admits reports whether the request carries the session's cookie: the
// one hook authorize needs (the caller then has scope analyst).
func (d *devSession) admits(r *http.Request) bool {
	if d == nil {
		return false
	}
	ck, err := r.Cookie(devCookie)
	return err == nil && subtle.ConstantTimeCompare([]byte(ck.Value), []byte(d.token)) == 1
}

// Session tells the dashboards how to sign in.
type Session struct {
	// Dev is true under `qcredit dev`: a development-only session admits the
	// dashboards with scope analyst, no key needed.
	Dev bool `json:"dev"`
	// Analyst is true when this request was admitted with scope analyst
	// (an analyst key, or the dev session's cookie).
	Analyst bool `json:"analyst"`
	// Routes are the API routes this server has ("GET /api/v1/scores", gin
	// syntax), so the dashboards request only routes that exist and show
	// the others as not available yet.
	Routes []string `json:"routes"`
}

func (s *Server) session(c *gin.Context) {
	out := Session{Dev: s.dev != nil, Analyst: caller(c).Scope == ScopeAnalyst || s.dev.admits(c.Request), Routes: []string{}}
	for _, r := range s.routeTable {
		out.Routes = append(out.Routes, r.Method+" "+r.Path)
	}
	c.JSON(http.StatusOK, out)
}
