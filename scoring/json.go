package scoring

import (
	"strconv"

	"github.com/qcredit/qcredit/model"
)

// AppendReasonsJSON appends the reasons as a JSON array, the same document
// encoding/json would give (field order and omitempty included) but without
// reflection: a score run encodes millions of reasons, and this is several
// times faster. Strings are escaped as JSON requires; non-ASCII text stays
// UTF-8 (invalid bytes become U+FFFD, as with encoding/json).
func AppendReasonsJSON(b []byte, rs []model.Reason) []byte {
	b = append(b, '[')
	for i, r := range rs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"rule":`...)
		b = model.AppendJSONString(b, r.Rule, true)
		b = append(b, `,"points":`...)
		b = r.Points.AppendText(b)
		if r.Count != 0 {
			b = append(b, `,"count":`...)
			b = strconv.AppendInt(b, r.Count, 10)
		}
		if len(r.Events) > 0 {
			b = append(b, `,"events":[`...)
			for j, id := range r.Events {
				if j > 0 {
					b = append(b, ',')
				}
				b = model.AppendJSONString(b, id, true)
			}
			b = append(b, ']')
		}
		b = append(b, `,"basis":`...)
		b = model.AppendJSONString(b, r.Basis, true)
		if len(r.Windows) > 0 {
			b = append(b, `,"windows":[`...)
			for j, n := range r.Windows {
				if j > 0 {
					b = append(b, ',')
				}
				b = strconv.AppendInt(b, n, 10)
			}
			b = append(b, ']')
		}
		if r.Detail != "" {
			b = append(b, `,"detail":`...)
			b = model.AppendJSONString(b, r.Detail, true)
		}
		b = append(b, '}')
	}
	return append(b, ']')
}
