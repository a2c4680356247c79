package planning

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/qcredit/qcredit/model"
)

// Period is a span of calendar days, both ends included, published as
// {"from": "YYYY-MM-DD", "to": "YYYY-MM-DD"}.
type Period struct {
	From, To time.Time // midnight in model.Shanghai
}

// ParsePeriod reads two YYYY-MM-DD dates.
func ParsePeriod(from, to string) (Period, error) {
	f, errF := time.ParseInLocation(time.DateOnly, from, model.Shanghai)
	t, errT := time.ParseInLocation(time.DateOnly, to, model.Shanghai)
	if err := errors.Join(errF, errT); err != nil {
		return Period{}, fmt.Errorf("period %s to %s: want YYYY-MM-DD: %w", from, to, err)
	}
	p := Period{From: f, To: t}
	return p, p.Validate()
}

// Validate says what is wrong with the period.
func (p Period) Validate() error {
	switch {
	case p.From.IsZero() || p.To.IsZero():
		return errors.New("period needs a from and a to date")
	case p.To.Before(p.From):
		return fmt.Errorf("period ends (%s) before it starts (%s)", p.To.Format(time.DateOnly), p.From.Format(time.DateOnly))
	case p.Days() > 3660:
		return fmt.Errorf("period of %d days is longer than ten years", p.Days())
	}
	return nil
}

// Days counts the period's days, both ends included. It counts civil dates,
// so it is immune to the hour or zone the times carry.
func (p Period) Days() int64 {
	return civilDays(p.To) - civilDays(p.From) + 1
}

// civilDays is the number of days from 1970-01-01 to t's date.
func civilDays(t time.Time) int64 {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

func (p Period) String() string {
	return p.From.Format(time.DateOnly) + " to " + p.To.Format(time.DateOnly)
}

type periodJSON struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// MarshalJSON writes the two dates.
func (p Period) MarshalJSON() ([]byte, error) {
	return json.Marshal(periodJSON{From: p.From.Format(time.DateOnly), To: p.To.Format(time.DateOnly)})
}

// UnmarshalJSON reads {"from", "to"}.
func (p *Period) UnmarshalJSON(b []byte) error {
	var v periodJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("period: %w", err)
	}
	got, err := ParsePeriod(v.From, v.To)
	if err != nil {
		return err
	}
	*p = got
	return nil
}

// Month is a calendar month, written YYYY-MM.
type Month struct {
	Year  int
	Month time.Month
}

// MonthOf is the month of t in Asia/Shanghai.
func MonthOf(t time.Time) Month {
	y, m, _ := t.In(model.Shanghai).Date()
	return Month{Year: y, Month: m}
}

// ParseMonth reads YYYY-MM.
func ParseMonth(s string) (Month, error) {
	t, err := time.Parse("2006-01", s)
	if err != nil {
		return Month{}, fmt.Errorf("month %q: want YYYY-MM", s)
	}
	return Month{Year: t.Year(), Month: t.Month()}, nil
}

func (m Month) String() string { return fmt.Sprintf("%04d-%02d", m.Year, int(m.Month)) }

// Compare orders months in time.
func (m Month) Compare(o Month) int {
	return (m.Year*12 + int(m.Month)) - (o.Year*12 + int(o.Month))
}

// MarshalText writes YYYY-MM.
func (m Month) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText reads YYYY-MM.
func (m *Month) UnmarshalText(b []byte) error {
	v, err := ParseMonth(string(b))
	*m = v
	return err
}

// dayOf is t's date at midnight in Asia/Shanghai: the day deadlines count from.
func dayOf(t time.Time) time.Time {
	y, m, d := t.In(model.Shanghai).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, model.Shanghai)
}
