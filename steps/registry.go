//go:generate go run ../internal/gendocs

// Package steps holds the catalogue of actions a scenario can take: one file
// per step kind, and the registry below that says everything else about
// each: its spec, its output, and what it does to the cluster.
package steps

import (
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
)

// Registry is every step kind, keyed by the YAML key that selects it. A kind
// that leaves Effect unset is taken to disrupt, and passes the safety policy.
// What a kind records as its output is model's to say (model.OutputType).
var Registry = scenario.Registry{
	"apply":           {New: step.NewAction[Apply], Effect: scenario.Writes},
	"assert":          {New: step.NewAction[Assert], Effect: scenario.Reads},
	"capacity":        {New: step.NewAction[Capacity], Effect: scenario.Reads},
	"connect":         {New: step.NewAction[Connect], Effect: scenario.Reads},
	"delete":          {New: step.NewAction[Delete], Effect: scenario.Disrupts},
	"events":          {New: step.NewAction[Events], Effect: scenario.Reads},
	"exec":            {New: step.NewAction[Exec], Effect: scenario.Disrupts, Local: true},
	"expectRejection": {New: step.NewAction[ExpectRejection], Effect: scenario.Writes},
	"heal":            {New: step.NewAction[Heal], Effect: scenario.Writes},
	"http":            {New: step.NewAction[HTTP], Effect: scenario.Reads},
	"kill":            {New: step.NewAction[Kill], Effect: scenario.Disrupts},
	"killPoisson":     {New: step.NewAction[KillPoisson], Effect: scenario.Disrupts},
	"load":            {New: step.NewAction[Load], Effect: scenario.Reads, Continuous: true},
	"logs":            {New: step.NewAction[Logs], Effect: scenario.Reads},
	"metrics":         {New: step.NewAction[Metrics], Effect: scenario.Reads, Continuous: true},
	"monitor":         {New: step.NewAction[Monitor], Effect: scenario.Reads, Continuous: true},
	"node":            {New: step.NewAction[Node], Effect: scenario.Disrupts},
	"partition":       {New: step.NewAction[Partition], Effect: scenario.Disrupts},
	"patch":           {New: step.NewAction[Patch], Effect: scenario.Writes},
	"podExec":         {New: step.NewAction[PodExec], Effect: scenario.Writes},
	"resolve":         {New: step.NewAction[Resolve], Effect: scenario.Reads},
	"rollout":         {New: step.NewAction[Rollout], Effect: scenario.Writes},
	"scale":           {New: step.NewAction[Scale], Effect: scenario.Writes},
	"sleep":           {New: step.NewAction[Sleep], Effect: scenario.Reads, Control: true},
	"switchSelector":  {New: step.NewAction[SwitchSelector], Effect: scenario.Writes},
	"stop":            {New: step.NewAction[Stop], Effect: scenario.Reads, Control: true},
	"wait":            {New: step.NewAction[Wait], Effect: scenario.Reads, Control: true},
}
