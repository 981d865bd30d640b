package fn

import (
	"fmt"
	"slices"
	"strings"
)

// regionAZs lists, per commercial AWS region, the availability-zone letters every account can
// use. The function takes the first N in order unless the spec names the zones.
var regionAZs = map[string]string{ //nolint:gochecknoglobals // A constant table.
	"us-east-1":      "abcdef",
	"us-east-2":      "abc",
	"us-west-1":      "ac",
	"us-west-2":      "abcd",
	"ca-central-1":   "abd",
	"ca-west-1":      "abc",
	"eu-west-1":      "abc",
	"eu-west-2":      "abc",
	"eu-west-3":      "abc",
	"eu-central-1":   "abc",
	"eu-central-2":   "abc",
	"eu-north-1":     "abc",
	"eu-south-1":     "abc",
	"eu-south-2":     "abc",
	"ap-northeast-1": "acd",
	"ap-northeast-2": "abcd",
	"ap-northeast-3": "abc",
	"ap-southeast-1": "abc",
	"ap-southeast-2": "abc",
	"ap-southeast-3": "abc",
	"ap-southeast-4": "abc",
	"ap-south-1":     "abc",
	"ap-south-2":     "abc",
	"ap-east-1":      "abc",
	"sa-east-1":      "abc",
	"me-south-1":     "abc",
	"me-central-1":   "abc",
	"af-south-1":     "abc",
	"il-central-1":   "abc",
}

// knownRegion reports whether the function knows the region's availability zones.
func knownRegion(region string) bool {
	_, ok := regionAZs[region]
	return ok
}

// availabilityZones returns the AZs a region's subnets span: the override when given (checked
// to belong to the region), else the region's first n zones.
func availabilityZones(region string, n int, override []string) ([]string, error) {
	letters, ok := regionAZs[region]
	if !ok {
		return nil, fmt.Errorf("unknown AWS region %q: use one of %s", region, strings.Join(sortedRegions(), ", "))
	}
	if len(override) > 0 {
		if len(override) != n {
			return nil, fmt.Errorf("%d availability zones given but azCount is %d: list exactly %d zones or leave the list empty", len(override), n, n)
		}
		seen := map[string]bool{}
		for _, az := range override {
			if len(az) != len(region)+1 || !strings.HasPrefix(az, region) || !strings.ContainsRune(letters, rune(az[len(az)-1])) {
				return nil, fmt.Errorf("availability zone %q is not one of region %s's zones: use one of %s", az, region, strings.Join(zones(region, letters), ", "))
			}
			if seen[az] {
				return nil, fmt.Errorf("availability zone %q is listed twice: list each zone once", az)
			}
			seen[az] = true
		}
		return override, nil
	}
	if n > len(letters) {
		return nil, fmt.Errorf("region %s has %d availability zones, not %d: set azCount to at most %d", region, len(letters), n, len(letters))
	}
	return zones(region, letters[:n]), nil
}

// sortedRegions returns the known regions in order.
func sortedRegions() []string {
	out := make([]string, 0, len(regionAZs))
	for r := range regionAZs {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

func zones(region, letters string) []string {
	out := make([]string, 0, len(letters))
	for _, l := range letters {
		out = append(out, region+string(l))
	}
	return out
}
