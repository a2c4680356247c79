package simulate

import "github.com/qcredit/qcredit/model"

// Truth is the planted ground truth the pipelines must find, and exact counts
// of what was written, so tests can check an import against them.
type Truth struct {
	Seed           int64           `json:"seed"`
	End            string          `json:"end"`
	Enterprises    int             `json:"enterprises"` // registered in the output
	BadEnterprises []model.USCC    `json:"bad_enterprises"`
	RisingClusters []RisingCluster `json:"rising_clusters"`
	// Accidents are the equipment.accident events written (a rare event,
	// not planted), so tests can tell a cluster warned for an accident.
	Accidents []Accident `json:"accidents"`
	// CleanEnterprisesCount is firms registered in the output with no negative
	// record: no failed check or inspection, penalty, revoked licence or
	// certification, serious hazard, accident or verified complaint.
	CleanEnterprisesCount int                            `json:"clean_enterprises_count"`
	Lines                 int                            `json:"lines"`
	BadLines              int                            `json:"bad_lines"`
	BadReasons            map[model.DeadLetterReason]int `json:"bad_reasons"`
	DuplicateLines        int                            `json:"duplicate_lines"`
	ConflictLines         int                            `json:"conflict_lines"`
	ValidUniqueEvents     int                            `json:"valid_unique_events"`
}

// RisingCluster is a cluster whose spot-check failure rate rises from about
// 6 % to about 30 % in the last year of the period.
type RisingCluster struct {
	Cluster  string `json:"cluster"`
	Division string `json:"division"` // GB/T 4754 division, e.g. C30
	Region   string `json:"region"`   // GB/T 2260 county code
}

// Accident is one equipment.accident event as written.
type Accident struct {
	EventID    string     `json:"event_id"`
	USCC       model.USCC `json:"uscc"`
	OccurredAt string     `json:"occurred_at"` // RFC 3339, +08:00
	Grade      string     `json:"grade"`       // general, larger, major
}

// LineKind says what a written line is, so tests and tools know what ingest
// should make of it.
type LineKind int

const (
	LineValid     LineKind = iota // a new valid event
	LineDuplicate                 // an exact resend of an earlier valid line
	LineConflict                  // a different event reusing an earlier valid line's id
	LineBad                       // malformed: ingest refuses it with Line.Reason
)

// Line is one line of output: the Kafka key (the USCC, empty when the line
// has none), the JSON, and what it is. Key and Value are only valid during
// the callback.
type Line struct {
	Key    []byte
	Value  []byte
	Kind   LineKind
	Reason model.DeadLetterReason // for LineBad
}
