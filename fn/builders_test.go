package fn

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/crossplane/function-sdk-go/resource"
	"github.com/crossplane/function-sdk-go/resource/composed"

	inputv1alpha1 "github.com/pgdr/function-postgres-dr/input/v1alpha1"
	"github.com/pgdr/function-postgres-dr/internal/standin"
)

// Helpers shared by the builders' tests: they run a builder on its
// own, against what the data layer would report, until it desires nothing new.

const builderSpec = `{"regions":{"primary":"us-east-1","dr":"us-east-2"},
"monitoring":{"notificationEmails":["dba@example.com","Oncall@Example.com"]},"failover":{"mode":"Automatic"}}`

func builderInput() *inputv1alpha1.Input {
	return &inputv1alpha1.Input{
		AccountID:          standin.Account,
		ProviderConfigName: "aws",
		LambdaArtifacts: []inputv1alpha1.LambdaArtifacts{
			{Region: "us-east-1", Bucket: "art-use1"},
			{Region: "us-east-2", Bucket: "art-use2", ReplicationLagKey: "lag.zip", FailoverKey: "fo.zip"},
		},
	}
}

// testPlan plans a spec (JSON) with the test input, changed by the mutators.
func testPlan(t *testing.T, spec string, mutate ...func(*inputv1alpha1.Input)) *xrPlan {
	t.Helper()
	s := planSpec(t, spec)
	in := builderInput()
	for _, f := range mutate {
		f(in)
	}
	p, err := newPlan("orders-x1", "orders", s, in)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// observedFixture returns what the provider would report for a desired managed resource: ready, with
// status.atProvider filled in by the stand-in, and any extra atProvider fields.
func observedFixture(t *testing.T, name resource.Name, mr managed, extra map[string]any) resource.ObservedComposed {
	t.Helper()
	if err := registerScheme(); err != nil {
		t.Fatal(err)
	}
	cd, err := composed.From(mr)
	if err != nil {
		t.Fatalf("cannot convert %s: %v", name, err)
	}
	cd.SetName("orders-x1-" + string(name))
	a := cd.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	a[standin.AnnotationCompositionResourceName] = string(name)
	cd.SetAnnotations(a)
	standin.Observe(cd.Object)
	at, _ := cd.Object["status"].(map[string]any)["atProvider"].(map[string]any)
	for k, v := range extra {
		if v == nil {
			delete(at, k)
			continue
		}
		at[k] = v
	}
	return observedResource(t, cd.Object)
}

// dataLayer is what the lead's data layer reports once it exists: both keys and both database
// instances, the DR one a replica of the primary unless promoted.
func dataLayer(t *testing.T, p *xrPlan, promoted bool) observedState {
	t.Helper()
	d := newDesired(clusterFlavour{}, p.ProviderConfig)
	buildKMS(p, observedState{}, d)
	o := observedState{keyName(RolePrimary): observedFixture(t, keyName(RolePrimary), d.Resources[keyName(RolePrimary)], nil)}
	d = newDesired(clusterFlavour{}, p.ProviderConfig)
	buildKMS(p, o, d)
	o[keyName(RoleDR)] = observedFixture(t, keyName(RoleDR), d.Resources[keyName(RoleDR)], nil)
	d = databaseWithLogGroups(t, p, o, RolePrimary)
	o[DBInstanceName(RolePrimary)] = observedFixture(t, DBInstanceName(RolePrimary), d.Resources[DBInstanceName(RolePrimary)], nil)
	d = databaseWithLogGroups(t, p, o, RoleDR)
	var extra map[string]any
	if promoted {
		extra = map[string]any{"replicateSourceDb": nil}
	}
	o[DBInstanceName(RoleDR)] = observedFixture(t, DBInstanceName(RoleDR), d.Resources[DBInstanceName(RoleDR)], extra)
	d = newDesired(clusterFlavour{}, p.ProviderConfig)
	buildSecret(p, o, d)
	o[masterSecretName()] = observedFixture(t, masterSecretName(), d.Resources[masterSecretName()], nil)
	if dbSecretARN(o) == "" || dbEndpoint(o, DBInstanceName(RoleDR)) == "" || keyARN(o, RoleDR) == "" {
		t.Fatalf("the data layer stand-in reports no secret ARN, replica endpoint or DR key ARN: %v", o)
	}
	return o
}

// databaseWithLogGroups builds the database layer, observes the role's instance log groups
// (which its instance waits for) and builds it again.
func databaseWithLogGroups(t *testing.T, p *xrPlan, o observedState, role Role) *desiredState {
	t.Helper()
	d := newDesired(clusterFlavour{}, p.ProviderConfig)
	buildDatabase(p, o, stReplicating, d)
	for _, lt := range logExportTypes {
		n := dbLogGroupName(role, 1, lt)
		o[n] = observedFixture(t, n, d.Resources[n], nil)
	}
	d = newDesired(clusterFlavour{}, p.ProviderConfig)
	buildDatabase(p, o, stReplicating, d)
	return d
}

// settle runs build against o, observes everything it desires, and again, until a run desires
// nothing new. It returns the last run's desired resources and what was observed.
func settle(t *testing.T, p *xrPlan, o observedState, build func(o observedState, d *desiredState)) (*desiredState, observedState) {
	t.Helper()
	cur := observedState{}
	maps.Copy(cur, o)
	for range 20 {
		d := newDesired(clusterFlavour{}, p.ProviderConfig)
		build(cur, d)
		added := false
		for _, name := range d.Order {
			if !cur.Exists(name) {
				added = true
			}
			cur[name] = observedFixture(t, name, d.Resources[name], nil)
		}
		if !added {
			return d, cur
		}
	}
	t.Fatal("no fixpoint after 20 runs")
	return nil, nil
}

// names returns the desired resource names that start with one of the prefixes, sorted.
func names(d *desiredState, prefixes ...string) []string {
	var out []string
	for _, n := range d.Order {
		for _, p := range prefixes {
			if strings.HasPrefix(string(n), p) {
				out = append(out, string(n))
				break
			}
		}
	}
	slices.Sort(out)
	return out
}

// waitsNaming returns those of the names that some of d's waits name, in the order given.
func waitsNaming(d *desiredState, names []string) []string {
	var out []string
	for _, n := range names {
		for _, msg := range d.Waiting {
			if strings.Contains(msg, n) {
				out = append(out, n)
				break
			}
		}
	}
	return out
}

// cloneObserved returns a deep copy of o, for a case to change.
func cloneObserved(o observedState) observedState {
	out := make(observedState, len(o))
	for n, oc := range o {
		out[n] = resource.ObservedComposed{Resource: oc.Resource.DeepCopy(), ConnectionDetails: oc.ConnectionDetails}
	}
	return out
}

// The failover states of a first-generation pair that the builders' tests use.
var (
	// stReplicating: the primary writes, the DR instance replicates it.
	stReplicating = failoverState{Writer: RolePrimary, Instances: []dbInstance{ //nolint:gochecknoglobals // Read-only fixtures.
		{Role: RolePrimary, Gen: 1, As: asWriter}, {Role: RoleDR, Gen: 1, As: asReplica},
	}}
	// stPromotedOutOfBand: the failover Lambda promoted the DR replica; the spec still names the
	// primary region.
	stPromotedOutOfBand = failoverState{Writer: RoleDR, PromotedOutOfBand: true, Instances: []dbInstance{ //nolint:gochecknoglobals // Read-only fixtures.
		{Role: RoleDR, Gen: 1, As: asPromoted}, {Role: RolePrimary, Gen: 1, As: asFenced},
	}}
	// stSwitchedOver: a planned switchover made the DR instance the writer; the old primary is
	// fenced.
	stSwitchedOver = failoverState{Writer: RoleDR, Instances: []dbInstance{ //nolint:gochecknoglobals // Read-only fixtures.
		{Role: RoleDR, Gen: 1, As: asWriter}, {Role: RolePrimary, Gen: 1, As: asFenced},
	}}
)
