package model

import (
	"bufio"
	_ "embed"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Shanghai is the bureau's time zone (Asia/Shanghai, +08:00): as_of days,
// deadlines and schedules are read in it. China keeps no daylight saving
// time, so a fixed zone needs no tz database.
var Shanghai = time.FixedZone("Asia/Shanghai", 8*3600)

//go:embed data/cn-public-holidays.tsv
var holidaysTSV string

// Calendar counts working days (工作日): Monday to Friday, minus the State
// Council's public holidays, plus its make-up working weekend days (调休).
// Years after the last one in its data are counted Monday to Friday, and
// the deadlines that reach them say so (Deadline.Estimated).
type Calendar struct {
	// holidays and workdays are keyed by dayKey: deadlines look up a day at
	// a time, millions of them for a year of complaints, and formatting each
	// date as text to look it up cost more than the rest of the count.
	holidays map[int32]bool
	workdays map[int32]bool
	lastYear int
}

// dayKey is a date as YYYYMMDD.
func dayKey(y int, m time.Month, d int) int32 { return int32(y*10000 + int(m)*100 + d) }

// DefaultCalendar is the embedded calendar (data/cn-public-holidays.tsv,
// 2023–2026 from the State Council General Office's notices).
var DefaultCalendar = sync.OnceValue(func() *Calendar {
	c, err := ParseCalendar(strings.NewReader(holidaysTSV))
	if err != nil {
		panic(fmt.Sprintf("embedded holiday calendar: %v", err)) // a broken embedded file is a build defect
	}
	return c
})

// ParseCalendar reads a holiday TSV (date, kind holiday|workday, name,
// notice; # comments and a header line), so the bureau can add each year
// when its notice appears.
func ParseCalendar(r io.Reader) (*Calendar, error) {
	c := &Calendar{holidays: map[int32]bool{}, workdays: map[int32]bool{}}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "date\t") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) < 2 {
			return nil, fmt.Errorf("line %d: want date<TAB>kind", n)
		}
		d, err := time.Parse(time.DateOnly, f[0])
		if err != nil {
			return nil, fmt.Errorf("line %d: date %q: want YYYY-MM-DD", n, f[0])
		}
		key := dayKey(d.Date())
		switch f[1] {
		case "holiday":
			c.holidays[key] = true
		case "workday":
			c.workdays[key] = true
		default:
			return nil, fmt.Errorf("line %d: kind %q: want holiday or workday", n, f[1])
		}
		// A notice covers its year; a holiday run may start on 12-31 before it.
		if y := d.Year(); y > c.lastYear && !(d.Month() == time.December && d.Day() == 31) {
			c.lastYear = y
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

// LastYear is the last year the calendar's data covers.
func (c *Calendar) LastYear() int { return c.lastYear }

// IsWorkingDay reports whether the date (its year, month and day) is a working day.
func (c *Calendar) IsWorkingDay(d time.Time) bool {
	key := dayKey(d.Date())
	if c.workdays[key] {
		return true
	}
	if c.holidays[key] {
		return false
	}
	wd := d.Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// Deadline is a date counted in working days.
type Deadline struct {
	Date time.Time // the last day of the period (midnight, in from's location)
	// Estimated is true when the count went past the calendar's data and
	// counted Monday to Friday there: the State Council may still move days.
	Estimated bool
}

// AddWorkingDays counts n working days from the day after from (the
// triggering day itself does not count): AddWorkingDays(Friday, 1) is the
// next Monday unless that is a holiday. n ≤ 0 gives from's day.
func (c *Calendar) AddWorkingDays(from time.Time, n int) Deadline {
	y, m, d := from.Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, from.Location())
	var out Deadline
	for n > 0 {
		day = day.AddDate(0, 0, 1)
		if day.Year() > c.lastYear {
			out.Estimated = true
		}
		if c.IsWorkingDay(day) {
			n--
		}
	}
	out.Date = day
	return out
}

// WorkingDaysBetween counts the working days after from up to and including to
// (0 when to is not after from).
func (c *Calendar) WorkingDaysBetween(from, to time.Time) int {
	y, m, d := from.Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, from.Location())
	ty, tm, td := to.Date()
	end := time.Date(ty, tm, td, 0, 0, 0, 0, from.Location())
	n := 0
	for day.Before(end) {
		day = day.AddDate(0, 0, 1)
		if c.IsWorkingDay(day) {
			n++
		}
	}
	return n
}
