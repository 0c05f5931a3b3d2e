package runner

import (
	"fmt"

	"github.com/kdrill/kdrill/kube"
	"github.com/kdrill/kdrill/scenario"
)

// onClusters copies every scenario once per cluster, for a run over
// several (Options.Over): each copy runs on its cluster, in a namespace of its own there,
// and its results are named name@CONTEXT. The clusters share one Redactor,
// so a Secret read on one is hidden in everything the run records. With
// one cluster the scenarios come back as they are. on maps each copy to
// its cluster.
func onClusters(scenarios []*scenario.Scenario, clusters []*kube.Cluster) (out []*scenario.Scenario, on map[*scenario.Scenario]*kube.Cluster) {
	if len(clusters) < 2 {
		return scenarios, nil
	}
	names := map[string]int{}
	tags := make([]string, len(clusters))
	for i, c := range clusters {
		c.Redactor = clusters[0].Redactor
		tag := c.Context
		if tag == "" {
			tag = c.Server
		}
		if names[tag]++; names[tag] > 1 {
			tag = fmt.Sprintf("%s#%d", tag, names[tag])
		}
		tags[i] = tag
	}
	on = map[*scenario.Scenario]*kube.Cluster{}
	for _, s := range scenarios {
		for i, c := range clusters {
			cp := *s
			cp.TargetName = tags[i]
			out = append(out, &cp)
			on[&cp] = c
		}
	}
	return out, on
}
