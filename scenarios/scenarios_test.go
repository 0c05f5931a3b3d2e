// Package scenarios_test runs every shipped scenario against the local
// cluster: a scenario in this directory is known to work.
package scenarios_test

import (
	"context"
	"testing"
	"time"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/runner"
	"github.com/kdrill/kdrill/runner/testcluster"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/steps"
)

func TestShippedScenarios(t *testing.T) {
	found, err := scenario.Discover([]string{"."})
	if err != nil {
		t.Fatal(err)
	}
	files := found.Files
	if len(files) < 3 {
		t.Fatalf("found %d scenarios, want the shipped ones", len(files))
	}
	// Every shipped scenario must load without a cluster first.
	var loaded []*scenario.Scenario
	for _, f := range files {
		s, err := scenario.Load(f, steps.Registry)
		if err != nil {
			t.Fatalf("%v", err)
		}
		// A matrix runs every instance.
		instances, err := scenario.Instances(s, steps.Registry, scenario.LoadOptions{})
		if err != nil {
			t.Fatalf("%v", err)
		}
		loaded = append(loaded, instances...)
	}
	c := testcluster.Connect(t)
	for _, s := range loaded {
		if s.Spec.Lab != nil {
			continue // labs grade prepared namespaces: TestLabGradesStudents
		}
		name := s.File
		if s.Instance != "" {
			name += "[" + s.Instance + "]"
		}
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			if s.Metadata.Labels["area"] == "real" {
				// Real containers: the local cluster's real node runs them.
				testcluster.RealNode(t)
			}
			var pool *testcluster.NodePool
			if s.Metadata.Labels["disrupts"] == "nodes" {
				// Node chaos runs on nodes of its own, so the tests running
				// beside it keep theirs.
				pool = testcluster.NewNodePool(t, 3)
				sel, tol := pool.PodSpecYAML()
				var err error
				if s, err = scenario.LoadWith(s.File, steps.Registry, scenario.LoadOptions{Set: map[string]string{
					"nodes": pool.Selector(), "nodeSelector": sel, "tolerations": tol,
				}}); err != nil {
					t.Fatal(err)
				}
			}
			opts := runner.Options{Cluster: c}
			if len(s.Spec.Clusters) > 0 {
				// A scenario across clusters needs the second local cluster.
				opts.Clusters = testcluster.Contexts(t)
			}
			res := runner.Run(ctx, []*scenario.Scenario{s}, opts)
			if pool != nil {
				pool.AssertUntouched(t, 10*time.Second)
			}
			sr := res.Scenarios[0]
			for _, st := range sr.Steps {
				if st.Outcome != model.Passed {
					t.Errorf("%s[%d] %q: %s: %s", st.Phase, st.Index, st.Name, st.Outcome, st.Error)
				}
			}
			if sr.Outcome != model.Passed {
				t.Fatalf("scenario %s: %s: %s", sr.Name, sr.Outcome, sr.Error)
			}
		})
	}
}
