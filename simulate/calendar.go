package simulate

import (
	"time"

	"github.com/qcredit/qcredit/model"
)

const daySeconds = 86400

// china is the +08:00 offset every simulated time is written in.
var china = model.Shanghai

// calendar turns day numbers of the period into dates. Dates are formatted
// once per day, not once per event, because formatting dominates encoding.
type calendar struct {
	start time.Time // local midnight of day 0
	days  int       // days in the period
	dates []string  // YYYY-MM-DD of day 0 … days+extra
}

// newCalendar covers months ending on end's date, plus six years after it
// for deadlines and licence expiry dates.
func newCalendar(end time.Time, months int) calendar {
	last := time.Date(end.Year(), end.Month(), end.Day(), 0, 0, 0, 0, china)
	start := last.AddDate(0, -months, 1)
	days := int(last.Sub(start).Hours()/24+0.5) + 1
	c := calendar{start: start, days: days, dates: make([]string, days+6*366)}
	for i := range c.dates {
		c.dates[i] = start.AddDate(0, 0, i).Format(time.DateOnly)
	}
	return c
}

// date is the YYYY-MM-DD of a day number.
func (c calendar) date(day int) string {
	if day < len(c.dates) && day >= 0 {
		return c.dates[day]
	}
	return c.start.AddDate(0, 0, day).Format(time.DateOnly)
}

// year is the calendar year of a day number.
func (c calendar) year(day int) int { return c.start.AddDate(0, 0, day).Year() }

// appendTime writes seconds since the period start as RFC 3339 with +08:00.
func (c calendar) appendTime(b []byte, at int64) []byte {
	day, sec := int(at/daySeconds), int(at%daySeconds)
	b = append(b, c.date(day)...)
	b = append(b, 'T')
	b = append2(b, sec/3600)
	b = append(b, ':')
	b = append2(b, sec/60%60)
	b = append(b, ':')
	b = append2(b, sec%60)
	return append(b, "+08:00"...)
}

func append2(b []byte, n int) []byte { return append(b, byte('0'+n/10), byte('0'+n%10)) }
