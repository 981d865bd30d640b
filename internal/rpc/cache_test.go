package rpc

import (
	"fmt"
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
	put := func(tag, body string) op { return op{put: true, tag: tag, body: body} }
	forget := []op{put("x", "1")}
	for i := range seenTags {
		forget = append(forget, put(fmt.Sprint(i), "2"))
	}
	forget = append(forget, put("x", "1"))
	cases := map[string]struct {
		reason string
		budget int
		ops    []op
		want   want
	}{
		"FirstPutRemembers": {
			reason: "A response put once is not kept: most requests of a converging XR never come again.",
			budget: 100,
			ops:    []op{put("a", "1234")},
			want:   want{gets: map[string]string{"a": ""}, stats: CacheStats{Misses: 1}},
		},
		"SecondPutKeeps": {
			reason: "A response put a second time is kept and got back.",
			budget: 100,
			ops:    []op{put("a", "1234"), {tag: "a"}, put("a", "1234")},
			want:   want{gets: map[string]string{"a": "1234", "b": ""}, stats: CacheStats{Entries: 1, Bytes: 5, Hits: 1, Misses: 2}},
		},
		"NoTag": {
			reason: "A request without a tag is never cached: without Crossplane's tag we cannot know it is the same request.",
			budget: 100,
			ops:    []op{put("", "1234"), put("", "1234")},
			want:   want{gets: map[string]string{"": ""}, stats: CacheStats{}},
		},
		"Off": {
			reason: "A budget of 0 caches nothing.",
			budget: 0,
			ops:    []op{put("a", "1"), put("a", "1")},
			want:   want{gets: map[string]string{"a": ""}, stats: CacheStats{Misses: 1}},
		},
		"TooLarge": {
			reason: "A response larger than the budget is not kept, and evicts nothing.",
			budget: 10,
			ops:    []op{put("a", "1"), put("a", "1"), put("b", "0123456789"), put("b", "0123456789")},
			want:   want{gets: map[string]string{"a": "1", "b": ""}, stats: CacheStats{Entries: 1, Bytes: 2, Hits: 1, Misses: 1}},
		},
		"EvictLeastRecentlyUsed": {
			reason: "Making room drops the least recently used: a was got after b was kept, so b goes.",
			budget: 10,
			ops: []op{
				put("a", "1111"), put("a", "1111"), put("b", "2222"), put("b", "2222"),
				{tag: "a"},
				put("c", "3333"), put("c", "3333"),
			},
			want: want{gets: map[string]string{"a": "1111", "b": "", "c": "3333"}, stats: CacheStats{Entries: 2, Bytes: 10, Hits: 3, Misses: 1}},
		},
		"PutAgain": {
			reason: "Putting a kept tag again keeps one entry.",
			budget: 100,
			ops:    []op{put("a", "1"), put("a", "1"), put("a", "1")},
			want:   want{gets: map[string]string{"a": "1"}, stats: CacheStats{Entries: 1, Bytes: 2, Hits: 1}},
		},
		"ForgetsOldest": {
			reason: "After seenTags other tags the first is forgotten: put again, it is only remembered again.",
			budget: 1 << 20,
			ops:    forget,
			want:   want{gets: map[string]string{"x": ""}, stats: CacheStats{Misses: 1}},
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
