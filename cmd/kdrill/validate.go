package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/kdrill/kdrill/runner"
	"github.com/kdrill/kdrill/schema"
)

// ValidateOptions are the inputs of kdrill validate.
type ValidateOptions struct {
	Paths []string
	// AllowOutsidePaths lets manifest paths leave their scenario's directory.
	AllowOutsidePaths bool
	Stdout            io.Writer

	scenarios []*runner.Scenario
}

func validateCommand() *cli.Command {
	return &cli.Command{
		Name:      "validate",
		Usage:     "check scenario files without a cluster: syntax, fields, expressions, manifests, and the JSON Schema",
		ArgsUsage: "PATH...",
		Flags:     []cli.Flag{allowOutsidePathsFlag()},
		Action: func(c *cli.Context) error {
			o := &ValidateOptions{Paths: c.Args().Slice(), AllowOutsidePaths: c.Bool("allow-outside-paths"), Stdout: c.App.Writer}
			if err := o.Validate(); err != nil {
				return err
			}
			if err := o.Complete(); err != nil {
				return err
			}
			return o.Run()
		},
	}
}

// Validate checks that paths were given.
func (o *ValidateOptions) Validate() error {
	if len(o.Paths) == 0 {
		return runner.Usagef("kdrill validate: name at least one scenario file or directory")
	}
	return nil
}

// Complete loads every scenario and checks it against the JSON Schema
// editors use, so the two cannot disagree unnoticed; any problem is
// returned with file and line.
func (o *ValidateOptions) Complete() error {
	s, err := loadScenarios(o.Paths, runner.LoadOptions{AllowOutsidePaths: o.AllowOutsidePaths})
	if err != nil {
		return err
	}
	var errs runner.LoadErrors
	for _, sc := range s {
		data, err := runner.ReadFileLimited(sc.File, runner.MaxScenarioBytes)
		if err != nil {
			return err
		}
		if err := schema.Check(sc.File, data); err != nil {
			var le runner.LoadErrors
			if !errors.As(err, &le) {
				return err
			}
			errs = append(errs, le...)
		}
	}
	if len(errs) > 0 {
		return errs
	}
	o.scenarios = s
	return nil
}

// Run prints what was checked.
func (o *ValidateOptions) Run() error {
	for _, s := range o.scenarios {
		fmt.Fprintf(o.Stdout, "ok %s (%s): %d steps, %d finally\n", s.File, s.Metadata.Name, len(s.Spec.Steps), len(s.Spec.Finally))
	}
	return nil
}

func schemaCommand() *cli.Command {
	return &cli.Command{
		Name:  "schema",
		Usage: "print the JSON Schema of scenario files, for editors (see the README)",
		Action: func(c *cli.Context) error {
			_, err := c.App.Writer.Write(schema.JSON)
			return err
		},
	}
}
