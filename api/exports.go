package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/qcredit/qcredit/api/export"
	"github.com/qcredit/qcredit/model"
)

// List views answer JSON pages by default and, with ?format=csv|xlsx|ndjson,
// stream every matching row as a download (api/export): CSV in UTF-8 with
// a BOM, XLSX through excelize's stream writer, so no export is built in
// memory. An export is audited with the number of rows it wrote.

// formatParam reads ?format=.
func formatParam(c *gin.Context) (export.Format, error) {
	return export.ParseFormat(c.Query("format"))
}

// streamTable answers an export of a table named name (the download's
// file name, e.g. scores-2025-06-30). rows writes the rows; if it fails
// before anything was sent (XLSX sends nothing before the end) the answer
// is a 500, else the download ends early and the error is logged.
func (s *Server) streamTable(c *gin.Context, f export.Format, name string, cols []export.Column, rows func(*export.Writer) error) {
	h := c.Writer.Header()
	h.Set("Content-Type", f.ContentType())
	h.Set("Content-Disposition", f.Attachment(name))
	h.Set("Cache-Control", "no-store")
	c.Status(http.StatusOK)
	w, err := export.NewWriter(c.Writer, f, cols)
	if err == nil {
		err = rows(w)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		auditItems(c, w.Rows())
	}
	auditDetail(c, "format", string(f))
	if err == nil {
		return
	}
	if !c.Writer.Written() {
		h.Del("Content-Disposition")
		s.internal(c, "export", err)
		return
	}
	s.log.Error("export ended early", "path", c.Request.URL.Path, "err", err)
	c.Abort()
}

// decimal is a score for an export: the exact text, a number in XLSX.
func decimal(p model.Points) export.Decimal { return export.Decimal(p.String()) }

// dayOf is the day of t in Asia/Shanghai, for file names.
func dayOf(t time.Time) string { return t.In(model.Shanghai).Format(time.DateOnly) }
