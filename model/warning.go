package model

import "time"

// Warning is one episode of a cluster's risk (产业集聚区质量风险预警): raised
// when the cluster first gets a level, escalated and de-escalated as runs
// change it, closed when it has none. Its id is stable for the episode.
type Warning struct {
	// ID is "cw-<cluster>-<YYYYMMDD of the raising as_of>"; a cluster key
	// that is not URL-safe appears as "h" and 12 hex digits of its SHA-256.
	ID       string        `json:"id"`
	Cluster  string        `json:"cluster"`
	Division string        `json:"division"`
	County   string        `json:"county"`
	Status   WarningStatus `json:"status"`
	// Level is the current level (none once closed); Peak the highest it had.
	Level     Level  `json:"level"`
	Peak      Level  `json:"peak"`
	RaisedOn  string `json:"raised_on"`
	ChangedOn string `json:"changed_on"`
	ClosedOn  string `json:"closed_on,omitempty"`
	// LetterOn is the as_of of the run that wrote the warning's current
	// letter (质量风险提示函): the last run that raised or escalated it to a
	// level with a letter. Empty when it never had one (a watch).
	LetterOn string `json:"letter_on,omitempty"`
	// Assessment is the cluster's latest assessment (at closing, for a
	// closed warning).
	Assessment      ClusterAssessment `json:"assessment"`
	Acknowledgement *Acknowledgement  `json:"acknowledgement,omitempty"`
	// NeedsAcknowledgement is true while open and not acknowledged at its
	// current level or above (an escalation asks again).
	NeedsAcknowledgement bool            `json:"needs_acknowledgement"`
	Actions              []WarningAction `json:"actions"`
	History              []WarningChange `json:"history"`
}

// WarningStatus says whether a warning is open.
type WarningStatus string

const (
	WarningStatusOpen   WarningStatus = "open"
	WarningStatusClosed WarningStatus = "closed"
)

// ChangeKind is one kind of change in a warning's history.
type ChangeKind string

const (
	ChangeKindRaised         ChangeKind = "raised"
	ChangeKindEscalated      ChangeKind = "escalated"
	ChangeKindDeescalated    ChangeKind = "deescalated"
	ChangeKindClosed         ChangeKind = "closed"
	ChangeKindAcknowledged   ChangeKind = "acknowledged"
	ChangeKindActionRecorded ChangeKind = "action_recorded"
)

// WarningChange is one change of a warning, in the run (AsOf) that recorded
// it. Analysts' changes carry their event's id, analyst and time.
type WarningChange struct {
	AsOf    string     `json:"as_of"`
	Change  ChangeKind `json:"change"`
	From    Level      `json:"from"`
	To      Level      `json:"to"`
	EventID string     `json:"event_id,omitempty"`
	Analyst string     `json:"analyst,omitempty"`
	At      time.Time  `json:"at,omitzero"`
	Detail  string     `json:"detail,omitempty"`
}

// Acknowledgement is the latest acknowledgement of a warning, at the level
// the warning had then.
type Acknowledgement struct {
	EventID string    `json:"event_id"`
	Analyst string    `json:"analyst"`
	At      time.Time `json:"at"`
	Level   Level     `json:"level"`
	Note    string    `json:"note,omitempty"`
}

// WarningAction is an action taken on a warning, as an analyst recorded it.
type WarningAction struct {
	EventID string    `json:"event_id"`
	Analyst string    `json:"analyst"`
	At      time.Time `json:"at"`
	Action  string    `json:"action"`
	Note    string    `json:"note,omitempty"`
}
