package api

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/qcredit/qcredit/api/export"
)

// Request limits every API route shares; bodies have their own per route
// (readBody).
const (
	// MaxQueryBytes bounds the query string: no route needs more.
	MaxQueryBytes = 4 << 10
	// MaxQueryValues bounds the number of query parameters.
	MaxQueryValues = 32
)

// limits refuses oversized query strings.
func (s *Server) limits(c *gin.Context) {
	raw := c.Request.URL.RawQuery
	if len(raw) > MaxQueryBytes {
		abort(c, http.StatusRequestURITooLong, "query_too_long", fmt.Sprintf("the query string is longer than %d bytes", MaxQueryBytes))
		return
	}
	if raw != "" && len(c.Request.URL.Query()) > MaxQueryValues {
		abort(c, http.StatusBadRequest, "invalid_query", fmt.Sprintf("more than %d query parameters", MaxQueryValues))
		return
	}
	c.Next()
}

// deadline gives the request a deadline (Options.RequestTimeout), except
// for exports, which stream as long as they take, and pipeline triggers,
// which run to their end. Routes answered from the read model alone do
// without (handleFromMemory): they wait on nothing.
func (s *Server) deadline(c *gin.Context) {
	if f, err := export.ParseFormat(c.Query("format")); err == nil && f != export.FormatJSON {
		c.Next()
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), s.opts.RequestTimeout)
	defer cancel()
	c.Request = c.Request.WithContext(ctx)
	c.Next()
}

// DefaultRequestTimeout is how long a request may take (exports aside).
const DefaultRequestTimeout = 30 * time.Second
