package rpc

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCache(t *testing.T) {
	type op struct {
		put       bool
		tag, body string
	}
	type want struct {
		gets  map[string]string // tag -> body; "" means a miss
		stats CacheStats
	}
	cases := map[string]struct {
		reason string
		budget int
		ops    []op
		want   want
	}{
		"Hit": {
			reason: "A response put is got back.",
			budget: 100,
			ops:    []op{{put: true, tag: "a", body: "1234"}},
			want:   want{gets: map[string]string{"a": "1234", "b": ""}, stats: CacheStats{Entries: 1, Bytes: 5, Hits: 1, Misses: 1}},
		},
		"NoTag": {
			reason: "A request without a tag is never cached: without Crossplane's tag we cannot know it is the same request.",
			budget: 100,
			ops:    []op{{put: true, tag: "", body: "1234"}},
			want:   want{gets: map[string]string{"": ""}, stats: CacheStats{}},
		},
		"Off": {
			reason: "A budget of 0 caches nothing.",
			budget: 0,
			ops:    []op{{put: true, tag: "a", body: "1"}},
			want:   want{gets: map[string]string{"a": ""}, stats: CacheStats{Misses: 1}},
		},
		"TooLarge": {
			reason: "A response larger than the budget is not kept, and evicts nothing.",
			budget: 10,
			ops:    []op{{put: true, tag: "a", body: "1"}, {put: true, tag: "b", body: "0123456789"}},
			want:   want{gets: map[string]string{"a": "1", "b": ""}, stats: CacheStats{Entries: 1, Bytes: 2, Hits: 1, Misses: 1}},
		},
		"EvictLeastRecentlyUsed": {
			reason: "Making room drops the least recently used: a was got after b was put, so b goes.",
			budget: 10,
			ops: []op{
				{put: true, tag: "a", body: "1111"}, {put: true, tag: "b", body: "2222"},
				{tag: "a"},
				{put: true, tag: "c", body: "3333"},
			},
			want: want{gets: map[string]string{"a": "1111", "b": "", "c": "3333"}, stats: CacheStats{Entries: 2, Bytes: 10, Hits: 3, Misses: 1}},
		},
		"PutTwice": {
			reason: "Putting a tag again keeps one entry.",
			budget: 100,
			ops:    []op{{put: true, tag: "a", body: "1"}, {put: true, tag: "a", body: "1"}},
			want:   want{gets: map[string]string{"a": "1"}, stats: CacheStats{Entries: 1, Bytes: 2, Hits: 1}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := NewCache(tc.budget)
			for _, o := range tc.ops {
				if o.put {
					c.Put(o.tag, []byte(o.body))
				} else {
					c.Get(o.tag)
				}
			}
			got := want{gets: map[string]string{}}
			for tag := range tc.want.gets {
				b, _ := c.Get(tag)
				got.gets[tag] = string(b)
			}
			got.stats = c.Stats()
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("\n%s\nCache: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestNilCache(t *testing.T) {
	var c *Cache
	c.Put("a", []byte("1"))
	if _, ok := c.Get("a"); ok {
		t.Error("a nil cache has nothing")
	}
	if diff := cmp.Diff(CacheStats{}, c.Stats()); diff != "" {
		t.Errorf("Stats(): -want, +got:\n%s", diff)
	}
}
