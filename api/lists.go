package api

import (
	"errors"
	"fmt"
	"iter"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/qcredit/qcredit/api/export"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/serving"
)

// Scopes of the partner routes: partners, and analysts read only (the
// dashboards).
var (
	listReaders = []Scope{ScopePartner, ScopeAnalyst}
	partnerOnly = []Scope{ScopePartner}
)

// listRoutes are the lists for partners (联合惩戒), answered from the read
// model's published versions, and the public disclosure (公示).
func (s *Server) listRoutes() {
	s.handle("GET", "/partner/lists/:list", listReaders, s.listSnapshot)
	s.handle("GET", "/partner/lists/:list/changes", listReaders, s.listChanges)
	s.handle("GET", "/partner/lists/:list/versions", listReaders, s.listVersions)
	s.handle("POST", "/partner/check", listReaders, s.check)
	s.handle("GET", "/partner/watches", listReaders, s.watches)
	s.handle("POST", "/partner/watches", partnerOnly, s.changeWatches)
	s.handle("PUT", "/partner/watches/webhook", partnerOnly, s.setWebhook)
	s.handle("DELETE", "/partner/watches/webhook", partnerOnly, s.removeWebhook)
	s.handle("GET", "/partner/watches/events", listReaders, s.watchEvents)
	s.handle("GET", "/public/lists/dishonest", public, s.publicDishonest)
}

// Error codes of the list routes.
const (
	codeUnknownList     = "unknown_list"
	codeListUnpublished = "list_not_published"
	codeNotRetained     = "version_not_retained" // 410: pull the snapshot
	codeVersionNotFound = "version_not_found"
)

// listHistory is the :list parameter's published history, or the error
// answered (404 before the list's first version).
func (s *Server) listHistory(c *gin.Context) (*serving.ListHistory, bool) {
	l := model.List(c.Param("list"))
	if !l.Valid() {
		abort(c, http.StatusNotFound, codeUnknownList, fmt.Sprintf("no list %q: the lists are dishonest (严重违法失信名单) and focus (重点监管名单)", l))
		return nil, false
	}
	m, ok := s.currentModel(c)
	if !ok {
		return nil, false
	}
	if p := m.Lists(); p != nil && p.History(l) != nil {
		return p.History(l), true
	}
	abort(c, http.StatusNotFound, codeListUnpublished,
		fmt.Sprintf("no version of the %s list is published yet: the lists job publishes one after its first run", l))
	return nil, false
}

// versionParam reads ?name=V (the latest when absent and latestDefault).
func versionParam(c *gin.Context, h *serving.ListHistory, name string, latestDefault bool) (int64, bool) {
	v, ok := c.GetQuery(name)
	if !ok && latestDefault {
		return h.Latest().Number, true
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		abort(c, http.StatusBadRequest, "invalid_query", fmt.Sprintf("%s must be a version number (1, 2, …), got %q", name, v))
		return 0, false
	}
	return n, true
}

// notRetained answers a version the history does not hold: 410 with what
// to do when it is older than retention, 404 when it was never published.
func notRetained(c *gin.Context, h *serving.ListHistory, n int64, what string) {
	latest := h.Latest()
	if n > latest.Number {
		abort(c, http.StatusNotFound, codeVersionNotFound, fmt.Sprintf("version %d of the %s list was never published (the latest is %d)",
			n, h.List(), latest.Number))
		return
	}
	abort(c, http.StatusGone, codeNotRetained, fmt.Sprintf(
		"%s version %d of the %s list is no longer retained (versions %d to %d are): pull the snapshot GET /api/v1/partner/lists/%s (version %d), check its manifest, then ask for changes?since=%d",
		what, n, h.List(), h.Earliest(), latest.Number, h.List(), latest.Number, latest.Number))
}

// setListHeaders names the version served and its manifest in headers, so
// every format (NDJSON and tables too) carries them.
func setListHeaders(c *gin.Context, v model.ListVersion) {
	c.Header("Qcredit-List-Version", strconv.FormatInt(v.Number, 10))
	c.Header("Qcredit-List-Manifest-Count", strconv.Itoa(v.Manifest.Count))
	c.Header("Qcredit-List-Manifest-SHA256", v.Manifest.SHA256)
}

// notModified reports whether the request's If-None-Match names etag.
func notModified(c *gin.Context, etag string) bool {
	for _, t := range strings.Split(c.GetHeader("If-None-Match"), ",") {
		if t = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(t), "W/")); t == etag || t == "*" {
			return true
		}
	}
	return false
}

// listSnapshot serves a version's snapshot (the latest, or ?version=V).
func (s *Server) listSnapshot(c *gin.Context) {
	h, ok := s.listHistory(c)
	if !ok {
		return
	}
	f, err := parseListFormat(c)
	if err != nil {
		abort(c, http.StatusBadRequest, "invalid_query", err.Error())
		return
	}
	n, ok := versionParam(c, h, "version", true)
	if !ok {
		return
	}
	v, err := h.Version(n)
	if err != nil {
		notRetained(c, h, n, "snapshot of")
		return
	}
	pg, ok := snapshotPaging(c, f)
	if !ok {
		return
	}
	auditDetail(c, "list", string(v.List))
	auditDetail(c, "version", strconv.FormatInt(v.Number, 10))
	auditDetail(c, "format", f.tag())
	// A version never changes: one ETag per list, version and representation
	// (a page of it is a representation of its own).
	tag := f.tag()
	if pg != nil {
		tag += fmt.Sprintf("-o%d-l%d", pg.offset, pg.limit)
		auditDetail(c, "offset", strconv.Itoa(pg.offset))
		auditDetail(c, "limit", strconv.Itoa(pg.limit))
	}
	etag := fmt.Sprintf(`"%s-%d-%s-%.16s"`, v.List, v.Number, tag, v.Manifest.SHA256)
	setListHeaders(c, v)
	c.Header("ETag", etag)
	c.Header("Cache-Control", "private, max-age=0, must-revalidate")
	if notModified(c, etag) {
		auditItems(c, 0)
		c.Status(http.StatusNotModified)
		return
	}
	entries, err := h.Snapshot(n)
	if err != nil {
		s.internal(c, "list snapshot", err)
		return
	}
	c.Header("Content-Type", f.contentType())
	if f.format != export.FormatJSON && f.format != export.FormatNDJSON {
		c.Header("Content-Disposition", f.format.Attachment(fmt.Sprintf("%s-v%d", v.List, v.Number)))
	}
	hdr := listHeader{List: v.List, Version: v.Number, PublishedAt: local(v.PublishedAt), Manifest: v.Manifest}
	if pg != nil {
		total := v.Manifest.Count
		hdr.Total, hdr.Offset, hdr.Limit = &total, &pg.offset, &pg.limit
		entries = pageOf(entries, pg.offset, pg.limit)
	}
	c.Status(http.StatusOK)
	count, err := writeSnapshot(c.Writer, f, hdr, entries)
	auditItems(c, count)
	if err != nil {
		s.log.Warn("list snapshot cut short", "list", v.List, "version", v.Number, "err", err)
	}
}

// listChanges serves the changes since ?since=V up to ?to=W (default the
// latest version).
func (s *Server) listChanges(c *gin.Context) {
	h, ok := s.listHistory(c)
	if !ok {
		return
	}
	f, err := parseListFormat(c)
	if err != nil {
		abort(c, http.StatusBadRequest, "invalid_query", err.Error())
		return
	}
	since, ok := versionParam(c, h, "since", false)
	if !ok {
		return
	}
	if _, err := h.Version(since); errors.Is(err, serving.ErrNotRetained) {
		notRetained(c, h, since, "changes since")
		return
	}
	n, ok := versionParam(c, h, "to", true)
	if !ok {
		return
	}
	if n < since {
		abort(c, http.StatusBadRequest, "invalid_query", fmt.Sprintf("to (%d) is before since (%d): changes go forward", n, since))
		return
	}
	to, err := h.Version(n)
	if errors.Is(err, serving.ErrNotRetained) {
		notRetained(c, h, n, "changes to")
		return
	}
	if err != nil {
		s.internal(c, "list changes", err)
		return
	}
	changes, err := h.Changes(since, to.Number)
	if err != nil {
		s.internal(c, "list changes", err)
		return
	}
	auditDetail(c, "list", string(to.List))
	auditDetail(c, "since", strconv.FormatInt(since, 10))
	auditDetail(c, "version", strconv.FormatInt(to.Number, 10))
	auditDetail(c, "format", f.tag())
	auditItems(c, len(changes))
	setListHeaders(c, to)
	c.Header("Qcredit-List-From", strconv.FormatInt(since, 10))
	c.Header("Content-Type", f.contentType())
	if f.format != export.FormatJSON && f.format != export.FormatNDJSON {
		c.Header("Content-Disposition", f.format.Attachment(fmt.Sprintf("%s-v%d-to-v%d", to.List, since, to.Number)))
	}
	c.Status(http.StatusOK)
	hdr := listHeader{List: to.List, Version: to.Number, PublishedAt: local(to.PublishedAt), Manifest: to.Manifest, From: since}
	if err := writeChanges(c.Writer, f, hdr, changes); err != nil {
		s.log.Warn("list changes cut short", "list", to.List, "since", since, "err", err)
	}
}

// maxSnapshotPage is the most entries a page of a JSON snapshot holds.
const maxSnapshotPage = 10000

// snapshotPage is the entries [offset, offset+limit) of a snapshot.
type snapshotPage struct{ offset, limit int }

// snapshotPaging reads ?offset= and ?limit=: nil (the whole version) when
// neither is given. Only JSON pages: the other formats are the partner's
// copy of the version, whole, and a page asked of them is 400.
func snapshotPaging(c *gin.Context, f listFormat) (*snapshotPage, bool) {
	_, hasOffset := c.GetQuery("offset")
	_, hasLimit := c.GetQuery("limit")
	if !hasOffset && !hasLimit {
		return nil, true
	}
	if f.format != export.FormatJSON {
		abort(c, http.StatusBadRequest, "invalid_query", fmt.Sprintf("offset and limit page format=json only: format=%s is the whole version", f.format))
		return nil, false
	}
	limit, offset, err := pageParams(c, maxSnapshotPage, maxSnapshotPage)
	if err != nil {
		abort(c, http.StatusBadRequest, "invalid_query", err.Error())
		return nil, false
	}
	return &snapshotPage{offset: offset, limit: limit}, true
}

// pageOf is the entries [offset, offset+limit) of entries.
func pageOf(entries iter.Seq[model.ListEntry], offset, limit int) iter.Seq[model.ListEntry] {
	return func(yield func(model.ListEntry) bool) {
		i := 0
		for e := range entries {
			if i >= offset+limit {
				return
			}
			if i >= offset && !yield(e) {
				return
			}
			i++
		}
	}
}

// ListVersions are a list's retained versions, newest first.
type ListVersions struct {
	List     model.List        `json:"list"`
	Total    int               `json:"total"` // retained versions
	Offset   int               `json:"offset"`
	Limit    int               `json:"limit"`
	Versions []ListVersionInfo `json:"versions"`
}

// ListVersionInfo is one published version: its manifest and how many
// entries its own changes (from the version before) add, remove and
// modify; Changes is null for the oldest retained version unless it is
// version 1 (the changes that made it are no longer held).
type ListVersionInfo struct {
	Version     int64              `json:"version"`
	PublishedAt time.Time          `json:"published_at"`
	Manifest    model.ListManifest `json:"manifest"`
	Changes     *ListChangeCounts  `json:"changes"`
}

// ListChangeCounts count a version's own changes by op.
type ListChangeCounts struct {
	Add    int `json:"add"`
	Remove int `json:"remove"`
	Modify int `json:"modify"`
}

// maxVersionsPage is the most versions a page of the versions route holds.
const maxVersionsPage = 1000

// listVersions serves the retained versions, newest first, paged by
// ?offset= and ?limit= (default 100): what the dashboards show as the
// recent versions, from the read model's history.
func (s *Server) listVersions(c *gin.Context) {
	limit, offset, err := pageParams(c, 100, maxVersionsPage)
	if err != nil {
		abort(c, http.StatusBadRequest, "invalid_query", err.Error())
		return
	}
	h, ok := s.listHistory(c)
	if !ok {
		return
	}
	all := h.Versions()
	out := ListVersions{List: h.List(), Total: len(all), Offset: offset, Limit: limit, Versions: []ListVersionInfo{}}
	for i := len(all) - 1 - offset; i >= 0 && len(out.Versions) < limit; i-- {
		v := all[i]
		info := ListVersionInfo{Version: v.Number, PublishedAt: local(v.PublishedAt), Manifest: v.Manifest}
		cc, err := h.VersionChangeCounts(v.Number)
		switch {
		case err == nil:
			info.Changes = &ListChangeCounts{Add: cc.Add, Remove: cc.Remove, Modify: cc.Modify}
		case !errors.Is(err, serving.ErrNotRetained):
			s.internal(c, "list versions", err)
			return
		}
		out.Versions = append(out.Versions, info)
	}
	auditDetail(c, "list", string(h.List()))
	auditItems(c, len(out.Versions))
	setListHeaders(c, h.Latest())
	c.JSON(http.StatusOK, out)
}
