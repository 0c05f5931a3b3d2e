//go:build ignore

// gen writes kdrill.schema.json from the scenario types and the step
// registry. Run it with go generate ./schema.
package main

import (
	"fmt"
	"os"

	"github.com/kdrill/kdrill/schema"
	"github.com/kdrill/kdrill/steps"
)

func main() {
	out, err := schema.Generate(steps.Registry)
	if err == nil {
		err = os.WriteFile("kdrill.schema.json", out, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
