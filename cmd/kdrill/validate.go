package main

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/schema"
)

// ValidateOptions are the inputs of kdrill validate.
type ValidateOptions struct {
	Paths []string
	// AllowOutsidePaths lets manifest paths leave their scenario's directory.
	AllowOutsidePaths bool
	// Verbose lists the files a directory held that are not scenarios.
	Verbose bool
	// Set overrides scenario vars (NAME=VALUE), as kdrill run --set does:
	// a scenario is checked with the values it will run with.
	Set    []string
	Stdout io.Writer

	scenarios []*scenario.Scenario
}

func validateCommand() *cli.Command {
	return &cli.Command{
		Name:      "validate",
		Usage:     "check scenario files without a cluster: syntax, fields, expressions, manifests, and the JSON Schema",
		ArgsUsage: "PATH...",
		Flags: []cli.Flag{
			allowOutsidePathsFlag(),
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "also list the files skipped in directories (manifests, other YAML) and why"},
			&cli.StringSliceFlag{Name: "set", Usage: "check with a scenario var overridden, as run --set does: --set replicas=5 (repeatable; the value is read as YAML)"},
		},
		Action: func(c *cli.Context) error {
			o := &ValidateOptions{Paths: c.Args().Slice(), AllowOutsidePaths: c.Bool("allow-outside-paths"), Verbose: c.Bool("verbose"), Set: c.StringSlice("set"), Stdout: c.App.Writer}
			return validateCompleteRun(o, o.Run)
		},
	}
}

// Validate checks that paths were given and --set values are NAME=VALUE.
func (o *ValidateOptions) Validate() error {
	if len(o.Paths) == 0 {
		return usagef("kdrill validate: name at least one scenario file or directory")
	}
	_, err := parseSet(o.Set)
	return err
}

// Complete loads every scenario as run does; any problem is returned
// with file and line.
func (o *ValidateOptions) Complete() error {
	var skipped io.Writer
	if o.Verbose {
		skipped = o.Stdout
	}
	vars, err := parseSet(o.Set)
	if err != nil {
		return err
	}
	s, err := loadScenarios(o.Paths, scenario.LoadOptions{AllowOutsidePaths: o.AllowOutsidePaths, Set: vars}, skipped)
	if err != nil {
		return err
	}
	if err := checkSetVars(vars, s); err != nil {
		return err
	}
	o.scenarios = s
	return nil
}

// Run prints what was checked.
func (o *ValidateOptions) Run() error {
	for _, s := range o.scenarios {
		fmt.Fprintf(o.Stdout, "ok %s (%s): %d steps, %d finally\n", s.File, s.DisplayName(), len(s.Spec.Steps), len(s.Spec.Finally))
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
