//go:generate go run ../internal/gendocs

// Package model is the recorded run: the results a run writes to
// results.json and every step kind's output. It is the contract between the
// engine (runner, steps), which fills it, and the reports, which only read
// it; it imports neither.
package model

// DocComment returns the doc comment of a type ("MonitorOutput") or a field
// ("MonitorOutput.Recovery") of this package, for the reference docs.
func DocComment(key string) string { return docComments[key] }
