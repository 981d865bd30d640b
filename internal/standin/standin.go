// Package standin does, for tests, what provider-aws would do to a managed resource once AWS
// has made it, and only that: it marks the resource Ready and Synced and fills the
// status.atProvider fields the function reads (ids, ARNs, endpoints), with values derived
// deterministically from the resource so fixtures are stable. It never touches spec.
package standin

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"strings"
)

// Account is the AWS account id the stand-in pretends to be.
const Account = "123456789012"

// AnnotationCompositionResourceName is where Crossplane records a composed resource's name.
const AnnotationCompositionResourceName = "crossplane.io/composition-resource-name"

// Observe marks a managed resource (as an unstructured object) ready and fills its atProvider
// from its forProvider, as the provider would after creating it.
//
//nolint:gocyclo // One case per kind whose AWS attributes differ, as in provider-aws.
func Observe(obj map[string]any) {
	kind, _ := obj["kind"].(string)
	apiVersion, _ := obj["apiVersion"].(string)
	group, _, found := strings.Cut(apiVersion, "/")
	if !found {
		// A core kind (the connection Secret): the API server keeps it as it is; no provider.
		return
	}
	service, _, _ := strings.Cut(group, ".")
	fp := getMap(obj, "spec", "forProvider")
	region, _ := fp["region"].(string)
	key := identity(obj)
	h := shortHash(key)

	at := map[string]any{}
	for k, v := range fp {
		// The provider reflects what it was asked for; refs and selectors are spec-only.
		if !strings.HasSuffix(k, "Ref") && !strings.HasSuffix(k, "Selector") && !strings.HasSuffix(k, "Refs") {
			at[k] = v
		}
	}
	id := idFor(kind, h, fp)
	at["id"] = id
	at["arn"] = fmt.Sprintf("arn:aws:%s:%s:%s:%s/%s", service, region, Account, strings.ToLower(kind), id)

	switch kind {
	case "Instance": // rds
		ident := getString(obj, "metadata", "annotations", "crossplane.io/external-name")
		if ident == "" {
			ident, _ = fp["identifier"].(string)
		}
		if ident == "" {
			ident = "db-" + h
		}
		at["id"] = ident
		at["identifier"] = ident
		at["arn"] = fmt.Sprintf("arn:aws:rds:%s:%s:db:%s", region, Account, ident)
		at["address"] = fmt.Sprintf("%s.c%s.%s.rds.amazonaws.com", ident, h[:10], region)
		at["port"] = float64(5432)
		at["endpoint"] = fmt.Sprintf("%s:5432", at["address"])
		at["resourceId"] = "db-" + strings.ToUpper(h)
	case "Key", "ReplicaKey":
		at["keyId"] = "mrk-" + h + h[:16]
		at["id"] = at["keyId"]
		at["arn"] = fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", region, Account, at["keyId"])
	case "Bucket":
		name := getString(obj, "metadata", "annotations", "crossplane.io/external-name")
		if name == "" {
			name = getString(obj, "metadata", "name")
		}
		at["id"] = name
		at["bucket"] = name
		at["arn"] = "arn:aws:s3:::" + name
	case "Secret":
		name, _ := fp["name"].(string)
		at["arn"] = fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-%s", region, Account, name, h[:6])
		at["id"] = at["arn"]
	case "Topic":
		at["arn"] = fmt.Sprintf("arn:aws:sns:%s:%s:%s", region, Account, id)
	case "Role", "Policy":
		at["arn"] = fmt.Sprintf("arn:aws:iam::%s:%s/%s", Account, strings.ToLower(kind), id)
	case "Function":
		at["arn"] = fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", region, Account, id)
	case "MetricAlarm", "CompositeAlarm":
		at["arn"] = fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s", region, Account, id)
	case "Zone":
		at["zoneId"] = id
	case "Record":
		name, _ := fp["name"].(string)
		at["fqdn"] = strings.TrimSuffix(name, ".")
	case "HealthCheck":
		at["id"] = h + "-hc"
	}

	status := getMap(obj, "status")
	if status == nil {
		status = map[string]any{}
		obj["status"] = status
	}
	status["atProvider"] = at
	status["conditions"] = []any{
		condition("Ready", "Available"),
		condition("Synced", "ReconcileSuccess"),
	}
}

// identity is what makes a resource unique within an XR's graph: its composition-resource name
// when it has one, else its name.
func identity(obj map[string]any) string {
	if n := getString(obj, "metadata", "annotations", AnnotationCompositionResourceName); n != "" {
		return n
	}
	return getString(obj, "metadata", "name")
}

func idFor(kind, h string, fp map[string]any) string {
	prefixes := map[string]string{
		"VPC": "vpc", "Subnet": "subnet", "InternetGateway": "igw", "EIP": "eipalloc",
		"NATGateway": "nat", "RouteTable": "rtb", "Route": "r", "RouteTableAssociation": "rtbassoc",
		"SecurityGroup": "sg", "SecurityGroupIngressRule": "sgr", "SecurityGroupEgressRule": "sgr",
		"VPCEndpoint": "vpce", "VPCPeeringConnection": "pcx", "Zone": "Z",
	}
	switch kind {
	case "VPCPeeringConnectionAccepter":
		if id, ok := fp["vpcPeeringConnectionId"].(string); ok {
			return id
		}
	case "Zone":
		return "Z" + strings.ToUpper(h) + "EXAMPLE"
	}
	if p, ok := prefixes[kind]; ok {
		return p + "-" + h
	}
	return strings.ToLower(kind) + "-" + h
}

func condition(typ, reason string) map[string]any {
	return map[string]any{"type": typ, "status": "True", "reason": reason, "lastTransitionTime": "2026-01-01T00:00:00Z"}
}

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:17]
}

func getMap(obj map[string]any, path ...string) map[string]any {
	cur := obj
	for _, p := range path {
		next, ok := cur[p].(map[string]any)
		if !ok {
			return nil
		}
		cur = next
	}
	return cur
}

func getString(obj map[string]any, path ...string) string {
	m := getMap(obj, path[:len(path)-1]...)
	if m == nil {
		return ""
	}
	s, _ := m[path[len(path)-1]].(string)
	return s
}

// Runner runs one reconcile: from the observed composed resources (by composition-resource name,
// as objects) to the desired ones.
type Runner func(observed map[string]map[string]any) (desired map[string]map[string]any, err error)

// Converge reconciles like Crossplane and provider-aws together: each pass observes, through
// Observe, every resource the previous pass desired, named <xrName>-<resource name>. It stops
// after passes passes, or with passes 0 when a pass desires nothing new (everything observed
// ready), and returns the observed resources.
func Converge(run Runner, xrName string, passes int) (map[string]map[string]any, error) {
	return ConvergeFrom(run, xrName, map[string]map[string]any{}, passes, nil)
}

// ConvergeFrom converges like Converge from what is observed already, and lets world change
// what is observed after each pass as something outside Crossplane would (a Lambda that runs
// when its Invocation is created, say).
func ConvergeFrom(run Runner, xrName string, observed map[string]map[string]any, passes int, world func(observed map[string]map[string]any)) (map[string]map[string]any, error) {
	for pass := 1; passes == 0 || pass <= passes; pass++ {
		desired, err := run(observed)
		if err != nil {
			return nil, fmt.Errorf("pass %d: %w", pass, err)
		}
		next := make(map[string]map[string]any, len(desired))
		for name, obj := range desired {
			md, _ := obj["metadata"].(map[string]any)
			if md == nil {
				md = map[string]any{}
				obj["metadata"] = md
			}
			if n, _ := md["name"].(string); n == "" {
				md["name"] = xrName + "-" + name
			}
			ann, _ := md["annotations"].(map[string]any)
			if ann == nil {
				ann = map[string]any{}
				md["annotations"] = ann
			}
			ann[AnnotationCompositionResourceName] = name
			Observe(obj)
			next[name] = obj
		}
		done := passes == 0 && len(next) == len(observed) && sameSpecs(next, observed)
		observed = next
		if world != nil {
			world(observed)
		}
		if done {
			break
		}
		if pass > 50 {
			return nil, fmt.Errorf("no fixpoint after %d passes", pass)
		}
	}
	return observed, nil
}

// sameSpecs reports whether b observes every resource of a with the same spec.
func sameSpecs(a, b map[string]map[string]any) bool {
	for n, o := range a {
		prev, ok := b[n]
		if !ok || !reflect.DeepEqual(o["spec"], prev["spec"]) {
			return false
		}
	}
	return true
}
