package pipelines

import (
	"strings"
	"time"
)

// HasSlotOn reports whether the schedule spec has a slot on day's date
// (Asia/Shanghai): a yearly job only on its day, a daily one every day.
// "off" and "after JOB" have no slot of their own.
func HasSlotOn(spec string, day time.Time) (bool, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" || spec == "off" || strings.HasPrefix(spec, "after ") {
		return false, nil
	}
	sched, err := cronParser.Parse(spec)
	if err != nil {
		return false, err
	}
	y, m, d := day.In(Shanghai).Date()
	start := time.Date(y, m, d, 0, 0, 0, 0, Shanghai)
	return sched.Next(start.Add(-time.Nanosecond)).Before(start.AddDate(0, 0, 1)), nil
}
