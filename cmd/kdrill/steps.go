package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/kdrill/kdrill/steps"
)

// StepsOptions are the inputs of kdrill steps.
type StepsOptions struct {
	Kinds  []string
	Stdout io.Writer
}

func stepsCommand() *cli.Command {
	return &cli.Command{
		Name:      "steps",
		Usage:     "list the step kinds, their fields and an example of each",
		ArgsUsage: "[KIND...]",
		Action: func(c *cli.Context) error {
			o := &StepsOptions{Kinds: c.Args().Slice(), Stdout: c.App.Writer}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run()
		},
	}
}

// Validate checks that every kind named exists.
func (o *StepsOptions) Validate() error {
	for _, k := range o.Kinds {
		if !steps.Registry.Has(k) {
			return usagef("kdrill steps: no step kind %q; kinds: %s", k, strings.Join(steps.Registry.Kinds(), ", "))
		}
	}
	return nil
}

// Run prints the catalogue.
func (o *StepsOptions) Run() error {
	kinds := o.Kinds
	if len(kinds) == 0 {
		kinds = steps.Registry.Kinds()
	}
	for i, k := range kinds {
		if i > 0 {
			fmt.Fprintln(o.Stdout)
		}
		fmt.Fprint(o.Stdout, steps.Describe(k).Text())
	}
	return nil
}
