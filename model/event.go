package model

import (
	"encoding/json"
	"time"
)

// EventType names one kind of supervision record in the v1 event contract.
type EventType string

const (
	EventEnterpriseRegistered   EventType = "enterprise.registered"
	EventEnterpriseUpdated      EventType = "enterprise.updated"
	EventEnterpriseDeregistered EventType = "enterprise.deregistered"
	EventLicenceGranted         EventType = "licence.granted"
	EventLicenceRevoked         EventType = "licence.revoked"
	EventSpotCheckCompleted     EventType = "spot_check.completed"
	EventPenaltyDecided         EventType = "penalty.decided"
	EventPenaltyRevoked         EventType = "penalty.revoked"
	EventEquipmentRegistered    EventType = "equipment.registered"
	EventEquipmentInspected     EventType = "equipment.inspected"
	EventEquipmentHazardFound   EventType = "equipment.hazard_found"
	EventEquipmentHazardFixed   EventType = "equipment.hazard_corrected"
	EventEquipmentAccident      EventType = "equipment.accident"
	EventComplaintReceived      EventType = "complaint.received"
	EventComplaintClosed        EventType = "complaint.closed"
	EventStandardDeclared       EventType = "standard.declared"
	EventCertificationGranted   EventType = "certification.granted"
	EventCertificationWithdrawn EventType = "certification.withdrawn"
	EventAwardGranted           EventType = "award.granted"
	EventCreditRepaired         EventType = "credit.repaired"
	// EventRetracted withdraws a record sent in error (its data.event_id),
	// accepted only from the bureau that sent that record, about the same
	// enterprise.
	EventRetracted EventType = "event.retracted"
)

// Event is one supervision record as a bureau reports it (contract v1).
type Event struct {
	ID         string          `json:"id"`
	Type       EventType       `json:"type"`
	USCC       USCC            `json:"uscc"`
	Source     string          `json:"source"`
	OccurredAt time.Time       `json:"occurred_at"`
	ReportedAt *time.Time      `json:"reported_at,omitempty"`
	Data       json.RawMessage `json:"data,omitempty"`
}

// Facets are the few typed values of an event's data that the warehouse keeps
// in columns of their own, so pipelines aggregate without parsing JSON. Which
// data field fills which facet is declared per type in the contract (see
// EventSpecs); unused facets are empty.
type Facets struct {
	Ref      string   // the record's own id: check_id, case_no, licence_no, hazard_id, complaint_id, accident_id, …
	Link     string   // another record it refers to: retest_of, equipment_id of a hazard or accident
	Result   string   // pass/fail; verified/unverified; self_found/reported
	Severity string   // spot-check and penalty severity, accident grade, serious/ordinary hazard
	Category string   // product, violation, licence kind or revocation reason, equipment category, channel
	Amount   *float64 // fine_yuan
	Due      string   // YYYY-MM-DD: hazard deadline, licence valid_until
}

// Record is a validated event ready for the warehouse: the event, its data in
// canonical form (compact JSON, keys sorted), its facets and a content hash
// that tells an exact resend (same hash) from a conflicting reuse of an id.
type Record struct {
	Event
	Facets Facets
	Hash   uint64
}

// Origin says where raw input came from: "kafka" with topic/partition/offset,
// "file" with path:line, or "http" with the client.
type Origin struct {
	Kind     string `json:"kind"`
	Name     string `json:"name"`     // topic, file path or client
	Position string `json:"position"` // partition/offset, line number or request index
}

func (o Origin) String() string { return string(o.AppendTo(nil)) }

// AppendTo appends the text of String to dst without allocating.
func (o Origin) AppendTo(dst []byte) []byte {
	dst = append(dst, o.Kind...)
	dst = append(dst, ':')
	dst = append(dst, o.Name...)
	dst = append(dst, ':')
	return append(dst, o.Position...)
}

// DeadLetterReason is a stable word for why input was refused.
type DeadLetterReason string

const (
	DeadLetterMalformedJSON DeadLetterReason = "malformed_json"
	DeadLetterUnknownType   DeadLetterReason = "unknown_type"
	DeadLetterUnknownField  DeadLetterReason = "unknown_field" // a top-level field contract v1 does not have
	DeadLetterMissingField  DeadLetterReason = "missing_field"
	DeadLetterInvalidField  DeadLetterReason = "invalid_field"
	DeadLetterInvalidUSCC   DeadLetterReason = "invalid_uscc"
	DeadLetterConflict      DeadLetterReason = "conflict" // a different event reuses a stored id
)

// DeadLetterReasons lists every reason, in the order the README names them.
func DeadLetterReasons() []DeadLetterReason {
	return []DeadLetterReason{DeadLetterMalformedJSON, DeadLetterUnknownType, DeadLetterUnknownField,
		DeadLetterMissingField, DeadLetterInvalidField, DeadLetterInvalidUSCC, DeadLetterConflict}
}

// The names the reasons had before they followed the <Type><Value> rule,
// kept for one release so code written against them still builds.
const (
	// Deprecated: use DeadLetterMalformedJSON.
	ReasonMalformedJSON = DeadLetterMalformedJSON
	// Deprecated: use DeadLetterUnknownType.
	ReasonUnknownType = DeadLetterUnknownType
	// Deprecated: use DeadLetterMissingField.
	ReasonMissingField = DeadLetterMissingField
	// Deprecated: use DeadLetterInvalidField.
	ReasonInvalidField = DeadLetterInvalidField
	// Deprecated: use DeadLetterInvalidUSCC.
	ReasonInvalidUSCC = DeadLetterInvalidUSCC
	// Deprecated: use DeadLetterConflict.
	ReasonConflict = DeadLetterConflict
)

// DeadLetter is input that was not stored as an event, kept whole with why and
// where from, so nothing is silently dropped.
type DeadLetter struct {
	Origin  Origin
	Reason  DeadLetterReason
	Detail  string
	Raw     []byte
	EventID string // when it could be read
	// Source is the event's source field when it could be read (even an
	// invalid one: it is what the input said), so a bureau can find its own.
	Source   string
	Received time.Time
}
