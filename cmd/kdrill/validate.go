package main

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/kdrill/kdrill/runner"
)

// ValidateOptions are the inputs of kdrill validate.
type ValidateOptions struct {
	Paths  []string
	Stdout io.Writer

	scenarios []*runner.Scenario
}

func validateCommand() *cli.Command {
	return &cli.Command{
		Name:      "validate",
		Usage:     "check scenario files without a cluster: syntax, fields, expressions, manifests",
		ArgsUsage: "PATH...",
		Action: func(c *cli.Context) error {
			o := &ValidateOptions{Paths: c.Args().Slice(), Stdout: c.App.Writer}
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

// Complete loads every scenario; any problem is returned with file and line.
func (o *ValidateOptions) Complete() error {
	s, err := loadScenarios(o.Paths)
	o.scenarios = s
	return err
}

// Run prints what was checked.
func (o *ValidateOptions) Run() error {
	for _, s := range o.scenarios {
		fmt.Fprintf(o.Stdout, "ok %s (%s): %d steps, %d finally\n", s.File, s.Metadata.Name, len(s.Spec.Steps), len(s.Spec.Finally))
	}
	return nil
}
