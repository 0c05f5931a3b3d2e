package kube

import "sync"

// shared are values several steps use at once, such as one watch-fed cache
// of the same pods, counted by their users.
type shared struct {
	mu      sync.Mutex
	entries map[string]*sharedEntry
}

type sharedEntry struct {
	value any
	stop  func()
	users int
}

// Share returns the value shared under key, made by start for its first
// user; release, called once by each user, stops it with start's stop
// when the last is done. A monitor and a killPoisson on the same pods
// keep one cache of them, not one each.
func (c *Cluster) Share(key string, start func() (value any, stop func())) (value any, release func()) {
	c.shared.mu.Lock()
	defer c.shared.mu.Unlock()
	if c.shared.entries == nil {
		c.shared.entries = map[string]*sharedEntry{}
	}
	e, ok := c.shared.entries[key]
	if !ok {
		e = &sharedEntry{}
		e.value, e.stop = start()
		c.shared.entries[key] = e
	}
	e.users++
	var once sync.Once
	return e.value, func() {
		once.Do(func() {
			c.shared.mu.Lock()
			defer c.shared.mu.Unlock()
			if e.users--; e.users == 0 {
				delete(c.shared.entries, key)
				e.stop()
			}
		})
	}
}
