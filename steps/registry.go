//go:generate go run ../internal/gendocs

// Package steps holds the catalogue of actions a scenario can take: one file
// per step kind, and the registry below that says everything else about
// each: its spec, its output, and what it does to the cluster.
package steps

import "github.com/kdrill/kdrill/runner"

// Registry is every step kind, keyed by the YAML key that selects it. A kind
// that leaves Effect unset is taken to disrupt, and passes the safety policy.
// What a kind records as its output is model's to say (model.OutputType).
var Registry = runner.Registry{
	"apply":           {New: func() runner.Action { return &Apply{} }, Effect: runner.Writes},
	"assert":          {New: func() runner.Action { return &Assert{} }, Effect: runner.Reads},
	"capacity":        {New: func() runner.Action { return &Capacity{} }, Effect: runner.Reads},
	"delete":          {New: func() runner.Action { return &Delete{} }, Effect: runner.Disrupts},
	"events":          {New: func() runner.Action { return &Events{} }, Effect: runner.Reads},
	"exec":            {New: func() runner.Action { return &Exec{} }, Effect: runner.Disrupts, Local: true},
	"expectRejection": {New: func() runner.Action { return &ExpectRejection{} }, Effect: runner.Writes},
	"http":            {New: func() runner.Action { return &HTTP{} }, Effect: runner.Reads},
	"kill":            {New: func() runner.Action { return &Kill{} }, Effect: runner.Disrupts},
	"killPoisson":     {New: func() runner.Action { return &KillPoisson{} }, Effect: runner.Disrupts},
	"logs":            {New: func() runner.Action { return &Logs{} }, Effect: runner.Reads},
	"monitor":         {New: func() runner.Action { return &Monitor{} }, Effect: runner.Reads, Continuous: true},
	"node":            {New: func() runner.Action { return &Node{} }, Effect: runner.Disrupts},
	"patch":           {New: func() runner.Action { return &Patch{} }, Effect: runner.Writes},
	"podExec":         {New: func() runner.Action { return &PodExec{} }, Effect: runner.Writes},
	"rollout":         {New: func() runner.Action { return &Rollout{} }, Effect: runner.Writes},
	"scale":           {New: func() runner.Action { return &Scale{} }, Effect: runner.Writes},
	"sleep":           {New: func() runner.Action { return &Sleep{} }, Effect: runner.Reads, Control: true},
	"switchSelector":  {New: func() runner.Action { return &SwitchSelector{} }, Effect: runner.Writes},
	"stop":            {New: func() runner.Action { return &Stop{} }, Effect: runner.Reads, Control: true},
	"wait":            {New: func() runner.Action { return &Wait{} }, Effect: runner.Reads, Control: true},
}
