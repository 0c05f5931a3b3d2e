//go:generate go run ../internal/gendocs

// Package steps holds the catalogue of actions a scenario can take: one file
// per step kind, and the registry below that says everything else about
// each: its spec, its output, and what it does to the cluster.
package steps

import (
	"reflect"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/runner"
)

// Registry is every step kind, keyed by the YAML key that selects it. A kind
// that leaves Effect unset is taken to disrupt, and passes the safety policy.
var Registry = runner.Registry{
	"apply":           {New: func() runner.Action { return &Apply{} }, Output: out[model.ApplyOutput](), Effect: runner.Writes},
	"assert":          {New: func() runner.Action { return &Assert{} }, Output: out[model.AssertOutput](), Effect: runner.Reads},
	"capacity":        {New: func() runner.Action { return &Capacity{} }, Output: out[model.CapacityOutput](), Effect: runner.Reads},
	"delete":          {New: func() runner.Action { return &Delete{} }, Output: out[model.DeleteOutput](), Effect: runner.Disrupts},
	"events":          {New: func() runner.Action { return &Events{} }, Output: out[model.EventsOutput](), Effect: runner.Reads},
	"expectRejection": {New: func() runner.Action { return &ExpectRejection{} }, Output: out[model.ExpectRejectionOutput](), Effect: runner.Writes},
	"http":            {New: func() runner.Action { return &HTTP{} }, Output: out[model.HTTPOutput](), Effect: runner.Reads},
	"kill":            {New: func() runner.Action { return &Kill{} }, Output: out[model.KillOutput](), Effect: runner.Disrupts},
	"killPoisson":     {New: func() runner.Action { return &KillPoisson{} }, Output: out[model.KillPoissonOutput](), Effect: runner.Disrupts},
	"monitor":         {New: func() runner.Action { return &Monitor{} }, Output: out[model.MonitorOutput](), Effect: runner.Reads, Continuous: true},
	"patch":           {New: func() runner.Action { return &Patch{} }, Output: out[model.PatchOutput](), Effect: runner.Writes},
	"rollout":         {New: func() runner.Action { return &Rollout{} }, Output: out[model.RolloutOutput](), Effect: runner.Writes},
	"scale":           {New: func() runner.Action { return &Scale{} }, Output: out[model.ScaleOutput](), Effect: runner.Writes},
	"sleep":           {New: func() runner.Action { return &Sleep{} }, Effect: runner.Reads, Control: true},
	"switchSelector":  {New: func() runner.Action { return &SwitchSelector{} }, Output: out[model.SwitchOutput](), Effect: runner.Writes},
	"stop":            {New: func() runner.Action { return &Stop{} }, Effect: runner.Reads, Control: true},
	"wait":            {New: func() runner.Action { return &Wait{} }, Effect: runner.Reads, Control: true},
}

func out[T any]() reflect.Type { return reflect.TypeFor[T]() }
