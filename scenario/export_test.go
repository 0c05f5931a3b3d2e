package scenario

import (
	"sync/atomic"
	"testing"
)

// CountFileReads counts the scenario and steps files loads read until the
// test ends.
func CountFileReads(t testing.TB) *atomic.Int64 {
	var n atomic.Int64
	prev := readScenarioFile
	readScenarioFile = func(path string) ([]byte, error) {
		n.Add(1)
		return prev(path)
	}
	t.Cleanup(func() { readScenarioFile = prev })
	return &n
}
