package api

import (
	"fmt"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/qcredit/qcredit/model"
)

// timeParam reads a time query parameter: RFC 3339, or a day YYYY-MM-DD
// (its start, Asia/Shanghai); zero when absent.
func timeParam(c *gin.Context, name string) (time.Time, error) {
	v, ok := c.GetQuery(name)
	if !ok || v == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseInLocation(time.DateOnly, v, model.Shanghai); err == nil {
		return d, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s must be an RFC 3339 time (2026-12-01T08:00:00+08:00) or a day (2026-12-01), got %q", name, v)
	}
	return t, nil
}
