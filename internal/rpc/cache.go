package rpc

import (
	"container/list"
	"sync"
)

// A Cache holds encoded responses by request tag, least recently used first out, within a budget
// of bytes. Crossplane's tag is a SHA-256 of everything in the request, and the function is a pure
// function of its request, so an entry never goes stale: it only makes room.
//
// A response is kept the second time its tag is put, not the first: while an XR converges each
// request is new and never comes again, and keeping those would only push out the XRs whose
// requests do repeat (and grow the heap). The tags seen once are remembered, up to seenTags of
// them, oldest forgotten first.
type Cache struct {
	mu      sync.Mutex
	budget  int
	used    int
	order   *list.List // of *entry, most recently used at the front
	entries map[string]*list.Element
	seen    map[string]struct{}
	seenQ   []string // ring of the tags in seen, oldest at seenAt
	seenAt  int

	hits, misses uint64
}

// seenTags is how many tags put once a Cache remembers: a few KiB each thousand.
const seenTags = 4096

type entry struct {
	tag string
	rsp []byte
}

// NewCache returns a cache of encoded responses that holds at most budget bytes of them. A
// budget of 0 caches nothing.
func NewCache(budget int) *Cache {
	return &Cache{budget: budget, order: list.New(), entries: map[string]*list.Element{}, seen: map[string]struct{}{}}
}

// Get returns the encoded response to the request with this tag, if the cache has it.
func (c *Cache) Get(tag string) ([]byte, bool) {
	if c == nil || tag == "" {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[tag]
	if !ok {
		c.misses++
		return nil, false
	}
	c.hits++
	c.order.MoveToFront(e)
	return e.Value.(*entry).rsp, true //nolint:forcetypeassert // Only *entry goes in.
}

// Put keeps the encoded response to the request with this tag if the tag was put before, making
// room by dropping the least recently used; the first time, it only remembers the tag. A
// response larger than the whole budget is not kept.
func (c *Cache) Put(tag string, rsp []byte) {
	if c == nil || tag == "" || len(tag)+len(rsp) > c.budget {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[tag]; ok {
		c.order.MoveToFront(e)
		return
	}
	if _, ok := c.seen[tag]; !ok {
		c.remember(tag)
		return
	}
	for c.used+len(tag)+len(rsp) > c.budget {
		last := c.order.Back()
		old := last.Value.(*entry) //nolint:forcetypeassert // Only *entry goes in.
		c.order.Remove(last)
		delete(c.entries, old.tag)
		c.used -= len(old.tag) + len(old.rsp)
	}
	c.entries[tag] = c.order.PushFront(&entry{tag: tag, rsp: rsp})
	c.used += len(tag) + len(rsp)
}

// remember adds a tag to those seen once, forgetting the oldest when there are seenTags.
func (c *Cache) remember(tag string) {
	if len(c.seenQ) < seenTags {
		c.seenQ = append(c.seenQ, tag)
	} else {
		delete(c.seen, c.seenQ[c.seenAt])
		c.seenQ[c.seenAt] = tag
		c.seenAt = (c.seenAt + 1) % seenTags
	}
	c.seen[tag] = struct{}{}
}

// CacheStats are a cache's counters.
type CacheStats struct {
	Entries, Bytes int
	Hits, Misses   uint64
}

// Stats returns the cache's counters.
func (c *Cache) Stats() CacheStats {
	if c == nil {
		return CacheStats{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return CacheStats{Entries: len(c.entries), Bytes: c.used, Hits: c.hits, Misses: c.misses}
}
