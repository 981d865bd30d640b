package fn

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAvailabilityZones(t *testing.T) {
	type args struct {
		region   string
		n        int
		override []string
	}
	type want struct {
		azs []string
		err string
	}
	cases := map[string]struct {
		reason string
		args   args
		want   want
	}{
		"FirstN":        {"The region's first n zones.", args{"us-east-1", 3, nil}, want{azs: []string{"us-east-1a", "us-east-1b", "us-east-1c"}}},
		"SkipsMissing":  {"us-west-1 has zones a and c.", args{"us-west-1", 2, nil}, want{azs: []string{"us-west-1a", "us-west-1c"}}},
		"Override":      {"Named zones are used as given.", args{"us-east-1", 2, []string{"us-east-1d", "us-east-1f"}}, want{azs: []string{"us-east-1d", "us-east-1f"}}},
		"TooMany":       {"us-east-2 has three zones.", args{"us-east-2", 4, nil}, want{err: "has 3 availability zones, not 4"}},
		"Unknown":       {"An unknown region is refused with the known ones.", args{"mars-north-1", 3, nil}, want{err: "unknown AWS region"}},
		"WrongRegion":   {"A zone of another region is refused.", args{"us-east-1", 2, []string{"us-east-1a", "us-east-2b"}}, want{err: "is not one of region us-east-1's zones"}},
		"Duplicate":     {"A zone listed twice is refused.", args{"us-east-1", 2, []string{"us-east-1a", "us-east-1a"}}, want{err: "listed twice"}},
		"CountMismatch": {"The override must list azCount zones.", args{"us-east-1", 3, []string{"us-east-1a"}}, want{err: "list exactly 3"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := availabilityZones(tc.args.region, tc.args.n, tc.args.override)
			if tc.want.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want.err) {
					t.Fatalf("\n%s\nAvailabilityZones(...): want error containing %q, got %v", tc.reason, tc.want.err, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("\n%s\nAvailabilityZones(...): %v", tc.reason, err)
			}
			if diff := cmp.Diff(tc.want.azs, got); diff != "" {
				t.Errorf("\n%s\nAvailabilityZones(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
