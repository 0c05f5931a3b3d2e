//go:generate go run ../internal/gendocs

// Package steps holds the catalogue of actions a scenario can take: one file
// per step kind, and the registry below that maps each YAML key to it.
package steps

import "github.com/kdrill/kdrill/runner"

// Registry is every step kind, keyed by the YAML key that selects it.
var Registry = runner.Registry{
	"apply":           func() runner.Action { return &Apply{} },
	"assert":          func() runner.Action { return &Assert{} },
	"capacity":        func() runner.Action { return &Capacity{} },
	"delete":          func() runner.Action { return &Delete{} },
	"events":          func() runner.Action { return &Events{} },
	"expectRejection": func() runner.Action { return &ExpectRejection{} },
	"http":            func() runner.Action { return &HTTP{} },
	"kill":            func() runner.Action { return &Kill{} },
	"killPoisson":     func() runner.Action { return &KillPoisson{} },
	"monitor":         func() runner.Action { return &Monitor{} },
	"patch":           func() runner.Action { return &Patch{} },
	"rollout":         func() runner.Action { return &Rollout{} },
	"scale":           func() runner.Action { return &Scale{} },
	"sleep":           func() runner.Action { return &Sleep{} },
	"switchSelector":  func() runner.Action { return &SwitchSelector{} },
	"stop":            func() runner.Action { return &Stop{} },
	"wait":            func() runner.Action { return &Wait{} },
}
