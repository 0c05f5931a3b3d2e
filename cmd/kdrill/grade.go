package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kdrill/kdrill/kube"
	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/reports"
	"github.com/kdrill/kdrill/runner"
	"github.com/kdrill/kdrill/scenario"
)

// ScoresFile is the CSV of scores kdrill grade writes.
const ScoresFile = "scores.csv"

// GradeOptions are the inputs of kdrill grade.
type GradeOptions struct {
	Lab               string
	Connection        kube.Connection
	Namespaces        []string
	NamespaceSelector string
	// ProbeImage is --probe-image.
	ProbeImage string
	ReportDir  string
	// SelfTest grades the lab's reference solution and an empty
	// namespace, Runs times each, instead of students' namespaces.
	SelfTest       bool
	Runs           int
	Stdout, Stderr io.Writer

	lab *scenario.Scenario
	// solution applies the lab's reference solution (--self-test).
	solution *scenario.Scenario
	cluster  *kube.Cluster
	dir      *reportDir // claimed in Complete
}

func gradeCommand() *cli.Command {
	return &cli.Command{
		Name:      "grade",
		Usage:     "grade students' namespaces with a read-only lab scenario",
		ArgsUsage: "LAB.yaml",
		Flags: append(kubeconfigFlags(),
			&cli.StringSliceFlag{Name: "namespace", Aliases: []string{"n"}, Usage: "a student's namespace (repeatable, or comma-separated)"},
			&cli.StringFlag{Name: "selector", Aliases: []string{"l"}, Usage: "grade every namespace with these labels, e.g. course=ocp101"},
			&cli.StringFlag{Name: "report-dir", Usage: "where results, reports and scores.csv go (default: ./kdrill-report/<timestamp>)"},
			&cli.BoolFlag{Name: "self-test", Usage: "test the lab itself: grade its reference solution (spec.lab.solution) in a fresh namespace, expecting full marks, and an empty one, expecting spec.lab.emptyScore (default 0)"},
			&cli.IntFlag{Name: "runs", Value: 3, Usage: "with --self-test: grade each this many times, to catch checks that pass or fail by timing"},
			&cli.StringFlag{Name: "probe-image", EnvVars: []string{"KDRILL_PROBE_IMAGE"}, Usage: "the image of kdrill's own probe pods (does the cluster enforce NetworkPolicy?); it needs nc (-z -w, -l -k -p) and sleep (default: the probing pod's own image)"},
		),
		Action: func(c *cli.Context) error {
			o := &GradeOptions{
				Lab:               c.Args().First(),
				Connection:        kube.Connection{Kubeconfig: c.String("kubeconfig"), Context: c.String("context")},
				NamespaceSelector: c.String("selector"),
				ReportDir:         c.String("report-dir"),
				ProbeImage:        c.String("probe-image"),
				SelfTest:          c.Bool("self-test"),
				Runs:              c.Int("runs"),
				Stdout:            c.App.Writer,
				Stderr:            c.App.ErrWriter,
			}
			for _, n := range c.StringSlice("namespace") {
				for _, part := range strings.Split(n, ",") {
					if part = strings.TrimSpace(part); part != "" {
						o.Namespaces = append(o.Namespaces, part)
					}
				}
			}
			if c.NArg() != 1 {
				return usagef("kdrill grade: give one lab file")
			}
			return validateCompleteRun(o, func() error { return o.Run(c.Context) })
		},
	}
}

// Validate checks that students are named one way or the other.
func (o *GradeOptions) Validate() error {
	switch {
	case o.SelfTest && (len(o.Namespaces) > 0 || o.NamespaceSelector != ""):
		return usagef("kdrill grade --self-test grades namespaces of its own: give no -n or -l")
	case o.SelfTest && (o.Runs < 1 || o.Runs > 20):
		return usagef("--runs %d: want 1 to 20", o.Runs)
	case o.SelfTest:
		return nil
	case len(o.Namespaces) == 0 && o.NamespaceSelector == "":
		return usagef("kdrill grade: name the students' namespaces with -n, or select them with -l")
	case len(o.Namespaces) > 0 && o.NamespaceSelector != "":
		return usagef("kdrill grade: give -n or -l, not both")
	}
	return nil
}

// Complete loads the lab and builds the clients.
func (o *GradeOptions) Complete() error {
	s, err := loadScenario(o.Lab, scenario.LoadOptions{})
	if err != nil {
		return err
	}
	if s.Spec.Lab == nil {
		return &scenario.LoadError{File: o.Lab, Field: "spec.lab", Msg: "not a lab: kdrill grade needs a scenario with spec.lab"}
	}
	o.lab = s
	if o.SelfTest {
		if o.solution, err = solutionScenario(s); err != nil {
			return err
		}
	}
	if o.dir, err = claimReportDir(o.ReportDir); err != nil {
		return err
	}
	o.ReportDir = o.dir.Path
	o.cluster, err = kube.Connect(o.Connection)
	return err
}

// Run grades each namespace in turn and writes the scores.
func (o *GradeOptions) Run(ctx context.Context) error {
	if o.SelfTest {
		return o.selfTest(ctx)
	}
	defer o.dir.Release()
	namespaces := o.Namespaces
	if o.NamespaceSelector != "" {
		list, err := o.cluster.Typed.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: o.NamespaceSelector})
		if err != nil {
			return &kube.InfraError{Err: fmt.Errorf("list namespaces: %w", err)}
		}
		for _, ns := range list.Items {
			namespaces = append(namespaces, ns.Name)
		}
		if len(namespaces) == 0 {
			return usagef("no namespace matches -l %s", o.NamespaceSelector)
		}
	}
	var all *model.Results
	for _, ns := range namespaces {
		res := runner.Run(ctx, []*scenario.Scenario{o.lab}, runner.Options{
			Cluster: o.cluster, Namespace: ns, KdrillVersion: versionString(), ProbeImage: o.ProbeImage,
			Observers: []model.Observer{reports.NewConsole(o.Stdout, false, false, false)},
		})
		if all == nil {
			all = res
		} else {
			all.Scenarios = append(all.Scenarios, res.Scenarios...)
			all.FinishedAt = res.FinishedAt
		}
		if ctx.Err() != nil {
			break
		}
	}
	all.Outcome = all.Worst()
	if err := reports.WriteJSON(filepath.Join(o.ReportDir, reports.ResultsFile), all); err != nil {
		return err
	}
	written, err := reports.WriteRenderings(o.ReportDir, all)
	if err != nil {
		fmt.Fprintf(o.Stderr, "kdrill: reports: %v\n", err)
	}
	csvPath, err := writeScores(o.ReportDir, all)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Stdout, "\n%-32s %8s  %s\n", "namespace", "score", "result")
	for _, s := range all.Scenarios {
		if s.Score == nil {
			fmt.Fprintf(o.Stdout, "%-32s %8s  %s: %s\n", s.Namespace, "-", s.Outcome, s.Error)
			continue
		}
		result := "PASS"
		if !s.Score.Passed {
			result = "FAIL"
		}
		if n := s.Score.NotGraded + s.Score.Ungraded; n > 0 {
			result += fmt.Sprintf(" (%d points not graded: %s)", n, strings.Join(notGraded(s.Score), "; "))
		}
		fmt.Fprintf(o.Stdout, "%-32s %8s  %s\n", s.Namespace, fmt.Sprintf("%d/%d", s.Score.Earned, s.Score.Possible), result)
	}
	for _, p := range append(written, csvPath) {
		fmt.Fprintf(o.Stdout, "wrote: %s\n", p)
	}
	return outcomeExit(all.Outcome)
}

// writeScores writes one line per graded namespace.
func writeScores(dir string, r *model.Results) (string, error) {
	path := filepath.Join(dir, ScoresFile)
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	w := csv.NewWriter(f)
	_ = w.Write([]string{"namespace", "lab", "earned", "possible", "passing_score", "passed", "failed_checks", "not_graded_checks"})
	for _, s := range r.Scenarios {
		if s.Score == nil {
			_ = w.Write([]string{s.Namespace, s.Name, "", "", "", "false", s.Error, ""})
			continue
		}
		var failed []string
		for _, c := range s.Score.Checks {
			if !c.Passed && c.NotApplicable == "" && c.Ungraded == "" {
				failed = append(failed, c.Step)
			}
		}
		_ = w.Write([]string{
			s.Namespace, s.Name, fmt.Sprint(s.Score.Earned), fmt.Sprint(s.Score.Possible),
			fmt.Sprint(s.Score.PassingScore), fmt.Sprint(s.Score.Passed), strings.Join(failed, "; "),
			strings.Join(notGraded(s.Score), "; "),
		})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		_ = f.Close() // the write error is the one to report
		return "", err
	}
	return path, f.Close()
}

// notGraded names the checks a lab could not make on this cluster, with
// why.
func notGraded(sc *model.Score) []string {
	var out []string
	for _, c := range sc.Checks {
		switch {
		case c.NotApplicable != "":
			out = append(out, c.Step+" ("+c.NotApplicable+")")
		case c.Ungraded != "":
			out = append(out, c.Step+" (the cluster failed while it ran: grade again)")
		}
	}
	return out
}
