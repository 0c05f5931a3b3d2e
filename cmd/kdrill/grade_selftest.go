package main

// kdrill grade --self-test: a lab grades its own reference solution (full
// marks expected) and an empty namespace (its emptyScore expected), each
// several times, so a check that is wrong, or right only by timing, is
// found before students meet it.

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"sigs.k8s.io/yaml"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/reports"
	"github.com/kdrill/kdrill/runner"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
)

// selfTestParallel is how many namespaces a self-test grades at once.
const selfTestParallel = 4

// solutionError says the lab's reference solution could not be applied.
type solutionError struct{ error }

// selfTestCase is one namespace the lab grades in a self-test.
type selfTestCase struct {
	name  string // "reference solution" or "empty namespace"
	apply *scenario.Scenario
}

// checkTally counts a check's passes over the self-test's runs.
type checkTally struct {
	step                    string
	solutionPass, emptyPass int
	notApplicable           string
	found                   string // what it saw when it failed on the solution
}

// selfTest runs the self-test and prints which checks are at fault.
func (o *GradeOptions) selfTest(ctx context.Context) error {
	defer o.dir.Release()
	lab, solution := o.lab.Spec.Lab, o.solution
	empty := 0
	if lab.EmptyScore != nil {
		empty = *lab.EmptyScore
	}
	cases := []selfTestCase{{"reference solution", solution}, {"empty namespace", nil}}
	all := &model.Results{APIVersion: model.APIVersion, Kind: model.ResultsKind, FormatVersion: model.ResultsVersion, KdrillVersion: versionString()}
	tallies := map[string]*checkTally{}
	var order []string
	var emptyScores []int
	fmt.Fprintf(o.Stdout, "self-test of %s: the reference solution (%s) and an empty namespace, %d runs each, %d at a time\n", o.lab.Metadata.Name, strings.Join(lab.Solution, ", "), o.Runs, selfTestParallel)
	// Every run of every case grades a namespace of its own, side by side:
	// the runs are independent, and a check that races the cluster shows
	// it as well (or better) under load.
	type graded struct {
		sr  *model.ScenarioResult
		res *model.Results
		err error
	}
	jobs := make([]graded, o.Runs*len(cases))
	var wg sync.WaitGroup
	slots := make(chan struct{}, selfTestParallel)
	for i := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			if ctx.Err() == nil {
				jobs[i].sr, jobs[i].res, jobs[i].err = o.gradeFresh(ctx, cases[i%len(cases)])
			}
		}()
	}
	wg.Wait()
	var firstErr error
	for i, j := range jobs {
		run, c := i/len(cases)+1, cases[i%len(cases)]
		if j.res != nil {
			if all.StartedAt.IsZero() || j.res.StartedAt.Before(all.StartedAt) {
				all.StartedAt, all.Cluster = j.res.StartedAt, j.res.Cluster
			}
			if j.res.FinishedAt.After(all.FinishedAt) {
				all.FinishedAt = j.res.FinishedAt
			}
			for _, s := range j.res.Scenarios {
				s.Name = fmt.Sprintf("%s (%s, run %d)", s.Name, c.name, run)
			}
			all.Scenarios = append(all.Scenarios, j.res.Scenarios...)
		}
		if j.err != nil || j.sr == nil {
			if firstErr == nil {
				firstErr = j.err
			}
			continue
		}
		sr := j.sr
		fmt.Fprintf(o.Stdout, "  run %d, %-18s %d/%d\n", run, c.name+":", sr.Score.Earned, sr.Score.Possible)
		if c.apply == nil {
			emptyScores = append(emptyScores, sr.Score.Earned)
		}
		for _, ch := range sr.Score.Checks {
			t := tallies[ch.Step]
			if t == nil {
				t = &checkTally{step: ch.Step}
				tallies[ch.Step] = t
				order = append(order, ch.Step)
			}
			switch {
			case ch.NotApplicable != "":
				t.notApplicable = ch.NotApplicable
			case ch.Ungraded != "" && firstErr == nil:
				// No verdict on the check: the cluster failed under it.
				firstErr = fmt.Errorf("check %q could not be made (%s, run %d): the cluster failed while it ran: %s", ch.Step, c.name, run, ch.Ungraded)
			case ch.Passed && c.apply != nil:
				t.solutionPass++
			case ch.Passed:
				t.emptyPass++
			case c.apply != nil && t.found == "":
				t.found = ch.Found
			}
		}
	}
	if ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	if firstErr != nil {
		return o.finishSelfTest(all, firstErr)
	}
	faults := o.printTallies(order, tallies, empty, emptyScores)
	if err := o.finishSelfTest(all, nil); err != nil {
		return err
	}
	if faults > 0 {
		fmt.Fprintf(o.Stdout, "self-test FAILED: %d check(s) at fault\n", faults)
		return exitCode(exitFailed)
	}
	fmt.Fprintf(o.Stdout, "self-test PASSED: full marks for the reference solution and %d for an empty namespace in every run\n", empty)
	return nil
}

// printTallies prints each check's passes and returns how many are at
// fault: one that failed the reference solution (every time: wrong; some
// times: timing), or gave an empty namespace points it should not have.
func (o *GradeOptions) printTallies(order []string, tallies map[string]*checkTally, empty int, emptyScores []int) int {
	faults := 0
	fmt.Fprintf(o.Stdout, "\n  %-44s %-20s %-20s\n", "check", "reference solution", "empty namespace")
	for _, step := range order {
		t := tallies[step]
		if t.notApplicable != "" {
			fmt.Fprintf(o.Stdout, "  ○ %-42s not verified on this cluster: %s\n", step, t.notApplicable)
			continue
		}
		var fault string
		switch {
		case t.solutionPass == 0:
			fault = "fails on the reference solution"
			if t.found != "" {
				fault += "; found: " + t.found
			}
		case t.solutionPass < o.Runs:
			fault = fmt.Sprintf("depends on timing: passed %d of %d runs on the reference solution", t.solutionPass, o.Runs)
		case empty == 0 && t.emptyPass > 0 && t.emptyPass < o.Runs:
			fault = fmt.Sprintf("depends on timing: gave points to an empty namespace in %d of %d runs", t.emptyPass, o.Runs)
		case empty == 0 && t.emptyPass > 0:
			fault = "gives points to an empty namespace"
		}
		mark := "✓"
		if fault != "" {
			mark = "✗"
			faults++
		}
		fmt.Fprintf(o.Stdout, "  %s %-42s %-20s %-20s %s\n", mark, step, fmt.Sprintf("%d/%d passed", t.solutionPass, o.Runs), fmt.Sprintf("%d/%d passed", t.emptyPass, o.Runs), fault)
	}
	if empty > 0 {
		for _, got := range emptyScores {
			if got != empty {
				fmt.Fprintf(o.Stdout, "  ✗ an empty namespace earned %v points; the lab declares emptyScore %d\n", emptyScores, empty)
				faults++
				break
			}
		}
	}
	return faults
}

// gradeFresh grades the lab in a namespace made for it, after applying the
// case's manifests, and removes the namespace.
func (o *GradeOptions) gradeFresh(ctx context.Context, c selfTestCase) (*model.ScenarioResult, *model.Results, error) {
	nsClient := o.cluster.Typed.CoreV1().Namespaces()
	prefix := o.lab.Metadata.Name
	if len(prefix) > 40 {
		prefix = strings.TrimRight(prefix[:40], "-")
	}
	ns, err := nsClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name:   "kdrill-selftest-" + prefix + "-" + utilrand.String(5),
		Labels: map[string]string{step.LabelManagedBy: "kdrill", step.LabelScenario: o.lab.Metadata.Name},
	}}, metav1.CreateOptions{})
	if err != nil {
		return nil, nil, fmt.Errorf("create a namespace for the self-test: %w", err)
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), runner.DefaultCleanupTimeout)
		defer cancel()
		if err := nsClient.Delete(dctx, ns.Name, metav1.DeleteOptions{}); err != nil {
			fmt.Fprintf(o.Stderr, "kdrill: left behind: namespace %s: %v (kdrill leftovers removes it)\n", ns.Name, err)
		}
	}()
	scenarios := []*scenario.Scenario{o.lab}
	if c.apply != nil {
		scenarios = []*scenario.Scenario{c.apply, o.lab}
	}
	res := runner.Run(ctx, scenarios, runner.Options{Cluster: o.cluster, Namespace: ns.Name, KdrillVersion: versionString(), ProbeImage: o.ProbeImage})
	if ctx.Err() != nil {
		return nil, res, ctx.Err()
	}
	sr := res.Scenarios[len(res.Scenarios)-1]
	if c.apply != nil {
		if a := res.Scenarios[0]; a.Outcome != model.Passed {
			return nil, res, solutionError{fmt.Errorf("the reference solution did not apply in %s: %s", ns.Name, a.Error)}
		}
	}
	if sr.Score == nil {
		return nil, res, fmt.Errorf("the lab did not grade %s (%s): %s", ns.Name, sr.Outcome, sr.Error)
	}
	return sr, res, nil
}

// finishSelfTest writes what the self-test graded and turns err into the
// command's result.
func (o *GradeOptions) finishSelfTest(all *model.Results, err error) error {
	all.Outcome = all.Worst()
	if len(all.Scenarios) > 0 {
		if werr := reports.WriteJSON(filepath.Join(o.ReportDir, reports.ResultsFile), all); werr != nil {
			return werr
		}
		written, werr := reports.WriteRenderings(o.ReportDir, all)
		if werr != nil {
			fmt.Fprintf(o.Stderr, "kdrill: reports: %v\n", werr)
		}
		for _, p := range written {
			fmt.Fprintf(o.Stdout, "wrote: %s\n", p)
		}
	}
	var bad solutionError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.Canceled):
		return exitCode(exitInterrupted)
	case errors.As(err, &bad):
		// The lab's own files are at fault, not the cluster.
		fmt.Fprintf(o.Stderr, "kdrill: self-test: %v\n", err)
		return exitCode(exitFailed)
	}
	fmt.Fprintf(o.Stderr, "kdrill: self-test: %v\n", err)
	return exitCode(exitInfra)
}

// solutionScenario is a scenario that applies the lab's solution files in
// order, each waited for, as if written beside the lab.
func solutionScenario(lab *scenario.Scenario) (*scenario.Scenario, error) {
	files := lab.Spec.Lab.Solution
	if len(files) == 0 {
		return nil, &scenario.LoadError{File: lab.File, Field: "spec.lab.solution", Msg: "names no files: --self-test applies the lab's reference solution, so the lab must name it"}
	}
	var stepsList []any
	for _, f := range files {
		stepsList = append(stepsList, map[string]any{"name": "apply " + f, "apply": map[string]any{"file": f, "wait": true}})
	}
	doc := map[string]any{
		"apiVersion": "kdrill.dev/v1alpha1", "kind": "Scenario",
		"metadata": map[string]any{"name": lab.Metadata.Name + "-solution"},
		"spec":     map[string]any{"stepTimeout": "3m", "steps": stepsList},
	}
	data, err := yaml.Marshal(doc)
	if err != nil {
		return nil, err
	}
	return scenario.Parse(filepath.Join(filepath.Dir(lab.File), ".self-test-"+filepath.Base(lab.File)), data, registry())
}
