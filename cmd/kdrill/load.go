package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/schema"
	"github.com/kdrill/kdrill/steps"
)

// loadScenarios discovers and loads every scenario, collecting all
// errors. run, validate and grade all load through it, so they apply the
// same checks. What discovery skipped is listed on skipped, when given.
func loadScenarios(paths []string, opts scenario.LoadOptions, skipped io.Writer) ([]*scenario.Scenario, error) {
	paths, err := unpackArchives(paths)
	if err != nil {
		return nil, err
	}
	found, err := scenario.Discover(paths)
	if skipped != nil && found != nil {
		for _, s := range found.Skipped {
			fmt.Fprintf(skipped, "skipped %s: %s\n", s.Path, s.Reason)
		}
	}
	if err != nil {
		return nil, err
	}
	var out []*scenario.Scenario
	var errs scenario.LoadErrors
	for _, f := range found.Files {
		s, err := loadScenario(f, opts)
		var instances []*scenario.Scenario
		if err == nil {
			instances, err = scenario.Instances(s, registry(), opts)
		}
		if err != nil {
			var le scenario.LoadErrors
			if errors.As(err, &le) {
				errs = append(errs, le...)
				continue
			}
			return nil, err
		}
		out = append(out, instances...)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

// loadScenario loads one scenario file and checks its document against
// the JSON Schema editors use, so the two cannot disagree unnoticed.
func loadScenario(file string, opts scenario.LoadOptions) (*scenario.Scenario, error) {
	opts.Check = schema.CheckDocument
	return scenario.LoadWith(file, registry(), opts)
}

// registry is the step catalogue the commands load scenarios with.
func registry() scenario.Registry { return steps.Registry }

// parseSet reads --set NAME=VALUE pairs; the runner types each value
// against the scenario's declared var.
func parseSet(pairs []string) (map[string]string, error) {
	out := map[string]string{}
	for _, p := range pairs {
		name, value, ok := strings.Cut(p, "=")
		if !ok || name == "" {
			return nil, usagef("--set %q: want NAME=VALUE", p)
		}
		out[name] = value
	}
	return out, nil
}

// checkSetVars refuses a --set name that no scenario declares: usually a typo.
func checkSetVars(vars map[string]string, scenarios []*scenario.Scenario) error {
	for name := range vars {
		known := false
		for _, s := range scenarios {
			if _, ok := s.Spec.Vars[name]; ok {
				known = true
				break
			}
		}
		if !known {
			return usagef("--set %s: no scenario declares a var named %q in spec.vars", name, name)
		}
	}
	return nil
}

// allowOutsidePathsFlag is the same flag for run and validate (a new value
// each time: urfave/cli keeps state in a flag).
func allowOutsidePathsFlag() cli.Flag {
	return &cli.BoolFlag{Name: "allow-outside-paths", Usage: "let manifest paths leave the scenario's directory (through .., a symbolic link or an absolute path)"}
}
