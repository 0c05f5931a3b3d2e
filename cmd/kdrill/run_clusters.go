package main

import (
	"fmt"
	"maps"
	"slices"

	"github.com/kdrill/kdrill/kube"
	"github.com/kdrill/kdrill/scenario"
)

// connect connects every cluster the run goes to (each --context in each
// --kubeconfig) and every context the scenarios name in spec.clusters, and
// holds each to the safety policy before anything is sent.
func (o *RunOptions) connect() error {
	if len(o.Connections) == 0 {
		o.Connections = []kube.Connection{o.Connection}
	}
	var clusters []*kube.Cluster
	for _, conn := range o.Connections {
		conn.DryRun = o.DryRun
		c, err := kube.Connect(conn)
		if err != nil {
			return err
		}
		// The engine's safety policy, checked now, per cluster, so a
		// refusal is exit 2 with nothing sent; runner.Run checks it again
		// for any other caller.
		if err := scenario.CheckPolicy(o.scenarios, scenario.PolicyOptions{
			Namespace: o.Namespace, Context: c.Context, AllowContexts: o.AllowContexts, DryRun: o.DryRun,
		}); err != nil {
			return err
		}
		clusters = append(clusters, c)
	}
	o.cluster = clusters[0]
	// The contexts scenarios name in spec.clusters, from the same
	// kubeconfig; a run's own cluster is used as it is.
	o.named = map[string]*kube.Cluster{}
	for _, c := range clusters {
		o.named[c.Context] = c
	}
	for _, s := range o.scenarios {
		for _, name := range slices.Sorted(maps.Keys(s.Spec.Clusters)) {
			ref := s.Spec.Clusters[name]
			if _, ok := o.named[ref.Context]; ok {
				continue
			}
			conn := o.Connections[0]
			conn.Context, conn.DryRun = ref.Context, o.DryRun
			c, err := kube.Connect(conn)
			if err != nil {
				return &scenario.LoadError{File: s.File, Line: ref.Line, Field: "spec.clusters." + name + ".context", Msg: fmt.Sprintf("%v (the kubeconfig the run uses must hold it: merge files with KUBECONFIG=a:b)", err)}
			}
			c.Redactor = o.cluster.Redactor
			o.named[ref.Context] = c
		}
	}
	o.over = clusters
	return nil
}

// connections are the clusters --kubeconfig and --context name: every
// context given, in every kubeconfig given (none: the default).
func connections(kubeconfigs, contexts []string) []kube.Connection {
	if len(kubeconfigs) == 0 {
		kubeconfigs = []string{""}
	}
	if len(contexts) == 0 {
		contexts = []string{""}
	}
	var out []kube.Connection
	for _, k := range kubeconfigs {
		for _, c := range contexts {
			out = append(out, kube.Connection{Kubeconfig: k, Context: c})
		}
	}
	return out
}

// checkConnections refuses a cluster named twice (the same --context, or
// the same --kubeconfig, given again): each scenario would run twice on it.
func checkConnections(conns []kube.Connection) error {
	seen := map[kube.Connection]bool{}
	for _, c := range conns {
		if seen[c] {
			what := "--context " + c.Context
			if c.Context == "" {
				what = "--kubeconfig " + c.Kubeconfig
			}
			return usagef("%s is given twice: each scenario would run twice on the same cluster", what)
		}
		seen[c] = true
	}
	return nil
}
