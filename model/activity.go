package model

// CountyMonth is what one county bureau reported and what was found in one
// month (Asia/Shanghai): the statistics the dashboards draw as trends and
// county indicators. The stats job computes them; serving and the API read them.
type CountyMonth struct {
	// County is the reporting bureau's GB/T 2260 code (the event's source;
	// for dead letters the source read from the refused input, "" when
	// unreadable).
	County string `json:"county"`
	Month  string `json:"month"` // YYYY-MM
	// Events are the events the county reported that occurred in the month.
	Events int64 `json:"events"`
	// SpotChecks and SpotCheckFailures count spot_check.completed events of
	// the month (re-checks included) and those that failed.
	SpotChecks        int64 `json:"spot_checks"`
	SpotCheckFailures int64 `json:"spot_check_failures"`
	// Reported are the events that say when the bureau reported them
	// (reported_at), and DelaySeconds Σ max(0, reported_at − occurred_at)
	// over them in whole seconds: the mean reporting delay is
	// DelaySeconds / Reported. (The time qcredit took to store them is the
	// planning KPIs' ingest delay.)
	Reported     int64 `json:"reported"`
	DelaySeconds int64 `json:"delay_seconds"`
	// DeadLetters is the input refused in the month (by the time it arrived).
	DeadLetters int64 `json:"dead_letters"`
}

// CountyComplaints are a county's complaints still open at the end of an
// as_of day (received, not closed) and, of those, the overdue ones: open
// beyond ComplaintOverdueWorkingDays working days after receipt.
type CountyComplaints struct {
	County  string `json:"county"`
	Open    int64  `json:"open"`
	Overdue int64  `json:"overdue"`
}

// ComplaintOverdueWorkingDays is the latest a complaint may still be open:
// 7 working days to accept it and 45 to close it once accepted (DOMAIN.md,
// complaints), counted from its receipt.
const ComplaintOverdueWorkingDays = 7 + 45
