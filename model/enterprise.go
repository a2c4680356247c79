package model

import "time"

// Scale is an enterprise's size class.
type Scale string

const (
	ScaleMicro  Scale = "micro"
	ScaleSmall  Scale = "small"
	ScaleMedium Scale = "medium"
	ScaleLarge  Scale = "large"
)

// Enterprise is an enterprise's latest registered state, folded from its
// enterprise.* events (updates are partial: the latest value of each field wins).
type Enterprise struct {
	USCC         USCC      `json:"uscc"`
	Name         string    `json:"name"`
	Region       string    `json:"region"`
	Industry     string    `json:"industry"`
	Cluster      string    `json:"cluster,omitempty"`
	Scale        Scale     `json:"scale,omitempty"`
	RegisteredAt time.Time `json:"registered_at"`
	Deregistered bool      `json:"deregistered"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// ClusterKey is the industrial cluster an enterprise belongs to: its declared
// cluster id, else county + GB/T 4754 division (e.g. "320830-C30").
func (e Enterprise) ClusterKey() string {
	if e.Cluster != "" {
		return e.Cluster
	}
	return e.Region + "-" + Division(e.Industry)
}
