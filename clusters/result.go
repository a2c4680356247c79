package clusters

import (
	"slices"
	"strings"

	"github.com/qcredit/qcredit/model"
)

// Result is one run's assessment of every cluster.
type Result struct {
	AsOf string `json:"as_of"`
	// Version is the method's version (Config.Version).
	Version string `json:"version"`
	Window  Window `json:"window"`
	// Phi is the overdispersion φ estimated over PhiClusters clusters (those
	// meeting the minimum sample); 1 when there were none.
	Phi         float64 `json:"phi"`
	PhiClusters int     `json:"phi_clusters"`
	// Clusters are in ascending key order.
	Clusters []model.ClusterAssessment `json:"clusters"`
	// Unmatched counts window records whose USCC is not among the
	// enterprises (deregistered by the cutoff, or never registered).
	Unmatched int64 `json:"unmatched"`
}

// Cluster finds a cluster's assessment by key.
func (r *Result) Cluster(key string) (model.ClusterAssessment, bool) {
	i, ok := slices.BinarySearchFunc(r.Clusters, key, func(a model.ClusterAssessment, k string) int { return strings.Compare(a.Cluster, k) })
	if !ok {
		return model.ClusterAssessment{}, false
	}
	return r.Clusters[i], true
}
