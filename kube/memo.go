package kube

import "sync"

// memo keeps what a run learned about the cluster once, such as whether it
// enforces NetworkPolicy, so every step that needs it asks once.
type memo struct {
	mu      sync.Mutex
	entries map[string]*memoEntry
}

type memoEntry struct {
	mu    sync.Mutex
	done  bool
	value any
}

// Learn returns what fn found out about the cluster under key, running fn
// the first time only; callers asking at once wait for the first. An error
// is not kept: the next caller tries again.
func (c *Cluster) Learn(key string, fn func() (any, error)) (any, error) {
	c.memo.mu.Lock()
	if c.memo.entries == nil {
		c.memo.entries = map[string]*memoEntry{}
	}
	e, ok := c.memo.entries[key]
	if !ok {
		e = &memoEntry{}
		c.memo.entries[key] = e
	}
	c.memo.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.done {
		return e.value, nil
	}
	v, err := fn()
	if err != nil {
		return nil, err
	}
	e.value, e.done = v, true
	return v, nil
}
