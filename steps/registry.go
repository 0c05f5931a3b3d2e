//go:generate go run ../internal/gendocs

// Package steps holds the catalogue of actions a scenario can take: one file
// per step kind, and the registry below that says everything else about
// each: its spec, its output, and what it does to the cluster.
package steps

import (
	"github.com/kdrill/kdrill/runner"
	"github.com/kdrill/kdrill/scenario"
)

// Registry is every step kind, keyed by the YAML key that selects it. A kind
// that leaves Effect unset is taken to disrupt, and passes the safety policy.
// What a kind records as its output is model's to say (model.OutputType).
var Registry = scenario.Registry{
	"apply":           {New: runner.NewAction[Apply], Effect: scenario.Writes},
	"assert":          {New: runner.NewAction[Assert], Effect: scenario.Reads},
	"capacity":        {New: runner.NewAction[Capacity], Effect: scenario.Reads},
	"connect":         {New: runner.NewAction[Connect], Effect: scenario.Reads},
	"delete":          {New: runner.NewAction[Delete], Effect: scenario.Disrupts},
	"events":          {New: runner.NewAction[Events], Effect: scenario.Reads},
	"exec":            {New: runner.NewAction[Exec], Effect: scenario.Disrupts, Local: true},
	"expectRejection": {New: runner.NewAction[ExpectRejection], Effect: scenario.Writes},
	"heal":            {New: runner.NewAction[Heal], Effect: scenario.Writes},
	"http":            {New: runner.NewAction[HTTP], Effect: scenario.Reads},
	"kill":            {New: runner.NewAction[Kill], Effect: scenario.Disrupts},
	"killPoisson":     {New: runner.NewAction[KillPoisson], Effect: scenario.Disrupts},
	"load":            {New: runner.NewAction[Load], Effect: scenario.Reads, Continuous: true},
	"logs":            {New: runner.NewAction[Logs], Effect: scenario.Reads},
	"metrics":         {New: runner.NewAction[Metrics], Effect: scenario.Reads, Continuous: true},
	"monitor":         {New: runner.NewAction[Monitor], Effect: scenario.Reads, Continuous: true},
	"node":            {New: runner.NewAction[Node], Effect: scenario.Disrupts},
	"partition":       {New: runner.NewAction[Partition], Effect: scenario.Disrupts},
	"patch":           {New: runner.NewAction[Patch], Effect: scenario.Writes},
	"podExec":         {New: runner.NewAction[PodExec], Effect: scenario.Writes},
	"resolve":         {New: runner.NewAction[Resolve], Effect: scenario.Reads},
	"rollout":         {New: runner.NewAction[Rollout], Effect: scenario.Writes},
	"scale":           {New: runner.NewAction[Scale], Effect: scenario.Writes},
	"sleep":           {New: runner.NewAction[Sleep], Effect: scenario.Reads, Control: true},
	"switchSelector":  {New: runner.NewAction[SwitchSelector], Effect: scenario.Writes},
	"stop":            {New: runner.NewAction[Stop], Effect: scenario.Reads, Control: true},
	"wait":            {New: runner.NewAction[Wait], Effect: scenario.Reads, Control: true},
}
