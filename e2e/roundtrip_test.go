//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pgdr/function-postgres-dr/lambda/contract"
	"github.com/pkg/errors"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// The round trip (README "Failover is a state: the round trip") on the real control plane, the
// provider stand-in answering the failover Lambda's Invocations as AWS and the Lambda would:
// Replicating → spec.activeRegion = DR: switchover, FailedOver, the old primary fenced →
// spec.generations.primary = 2: re-seeded, Replicating the other way → spec.retireInstance = the
// old primary: deleted → spec.activeRegion = primary: switchover back → spec.generations.dr = 2,
// spec.retireInstance = the old DR instance: Replicating as at the start. Throughout, no DB
// instance, bucket or key that existed may be deleted but the one spec.retireInstance names, after
// it named it.

// roundTripClaim is the claim the round trip walks: examples/claim.yaml under another name. The
// first claim is promoted out of band and the second measures the default circuit breaker; this
// one runs with the raised breaker and is deleted at the end of its stage.
const roundTripClaim = "orders-db-rt"

// roundTripStep bounds each step's wait.
const roundTripStep = 3 * time.Minute

const (
	gkBucket     = "s3.aws.upbound.io/Bucket"
	annDesiredAs = "pgdr.io/desired-as"
	labelRes     = "pgdr.io/resource"
	fenceParam   = "default_transaction_read_only"
)

// statefulKinds hold data: none may be deleted before spec.retireInstance confirms it.
var statefulKinds = map[string]bool{gkRDSInstance: true, gkBucket: true, gkKMSKey: true, gkKMSReplicaKey: true}

type roundTrip struct {
	c     *claimRun
	s     *standIn
	xrUID types.UID
	begin time.Time

	mu       sync.Mutex
	stateful map[types.UID]*statefulRes
	mine     map[types.UID]bool   // every managed resource the XR controlled during the round trip
	retired  map[string]time.Time // RDS identifier: when spec.retireInstance named it
}

// statefulRes is one stateful resource of the XR seen during the round trip.
type statefulRes struct {
	crn, gk, name, id string
	deleted           time.Time // first seen being deleted or gone
	how               string
	reported          bool
}

// roundTripStage takes the round-trip claim to Ready, walks it round and deletes it; it returns
// the figure.
func roundTripStage(ctx context.Context, t *testing.T, e *env, s *standIn) string {
	c := applyRenamedClaim(ctx, t, e, roundTripClaim, map[string]any{})
	c.waitReady(ctx, t, roundTripStep)
	c.checkReadiness(t, false)
	e.mark("claim %s Ready after %s", roundTripClaim, c.ready.Round(100*time.Millisecond))
	xr, err := c.xr(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r := &roundTrip{c: c, s: s, xrUID: xr.GetUID(), stateful: map[types.UID]*statefulRes{}, mine: map[types.UID]bool{}, retired: map[string]time.Time{}}
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); r.watch(wctx) }()
	deleted := false
	defer func() {
		stop()
		<-done
		if !deleted {
			// Out of the way of the stages after this one, without checking anything.
			_, _ = e.kubectl(ctx, nil, "patch", strings.ToLower(c.claim.GetKind()), c.claim.GetName(), "-n", c.claim.GetNamespace(),
				"--type=merge", "-p", `{"spec":{"deletionProtection":false}}`)
			_, _ = e.kubectl(ctx, nil, "delete", "-f", c.file, "--wait=false")
			e.mark("claim %s deleted without checks (the round trip stopped)", roundTripClaim)
		}
	}()
	fig := r.walk(ctx, t)
	r.poll()
	r.check(t, "the end")
	r.checkRules(t)
	deleted = true
	e.mark("claim %s after the round trip: %s", roundTripClaim, c.delete(ctx, t, s))
	return fig
}

// watch polls the stand-in's cache of the XR's managed resources until ctx is done.
func (r *roundTrip) watch(ctx context.Context) {
	for {
		r.poll()
		select {
		case <-ctx.Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// poll records every stateful resource of the XR, and when one is first seen being deleted or
// gone.
func (r *roundTrip) poll() {
	now := time.Now()
	seen := map[types.UID]bool{}
	objs := r.s.Controlled(r.xrUID)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, o := range objs {
		r.mine[o.GetUID()] = true
		gk := groupKind(o)
		if !statefulKinds[gk] {
			continue
		}
		seen[o.GetUID()] = true
		sr := r.stateful[o.GetUID()]
		if sr == nil {
			sr = &statefulRes{crn: o.GetAnnotations()[annCRN], gk: gk, name: o.GetName()}
			if gk == gkRDSInstance {
				sr.id = identifier(o)
			}
			r.stateful[o.GetUID()] = sr
		}
		if o.GetDeletionTimestamp() != nil && sr.deleted.IsZero() {
			sr.deleted, sr.how = now, "being deleted"
		}
	}
	for uid, sr := range r.stateful {
		if !seen[uid] && sr.deleted.IsZero() {
			sr.deleted, sr.how = now, "gone"
		}
	}
}

// check fails t for every stateful resource deleted that spec.retireInstance had not named before.
func (r *roundTrip) check(t *testing.T, step string) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, sr := range r.stateful {
		if sr.deleted.IsZero() || sr.reported {
			continue
		}
		sr.reported = true
		if at, ok := r.retired[sr.id]; ok && sr.id != "" && at.Before(sr.deleted) {
			continue
		}
		t.Errorf("by %s: %s %s (%s) %s at +%.1fs of the round trip, and spec.retireInstance did not name it",
			step, kindOf(sr.gk), sr.crn, sr.name, sr.how, sr.deleted.Sub(r.begin).Seconds())
	}
}

// deletions lists the stateful resources deleted, with when.
func (r *roundTrip) deletions() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var gone []*statefulRes
	for _, sr := range r.stateful {
		if !sr.deleted.IsZero() {
			gone = append(gone, sr)
		}
	}
	sort.Slice(gone, func(i, j int) bool { return gone[i].deleted.Before(gone[j].deleted) })
	out := make([]string, 0, len(gone))
	for _, sr := range gone {
		out = append(out, fmt.Sprintf("%s %s (%s) at +%.1fs", kindOf(sr.gk), sr.crn, sr.id, sr.deleted.Sub(r.begin).Seconds()))
	}
	return out
}

// checkRules reports what deleteRules said about the deletes of the round trip: a delete that
// broke a DB instance (its source, its key, its monitoring role) fails the test; the rest (the
// failover path moving, its refusals the provider retries) is reported.
func (r *roundTrip) checkRules(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	mine := r.mine
	r.mu.Unlock()
	counts := map[string]int{}
	for _, h := range r.s.Hits() {
		if !mine[h.of.uid] || h.first.Before(r.begin) {
			continue
		}
		k := fmt.Sprintf("%s %s of %s by %s", h.rule.outcome, h.rule.api, kindOf(h.of.gk), kindOf(h.by.gk))
		counts[k]++
		if h.rule.outcome == broken && h.by.gk == gkRDSInstance {
			t.Errorf("during the round trip AWS deleted %s while %s still used it (%s): %s [%s]", h.of, h.by, h.field, h.rule.aws, h.rule.source)
		}
	}
	var parts []string
	for _, k := range sortedKeys(counts) {
		parts = append(parts, fmt.Sprintf("%s %d", k, counts[k]))
	}
	if len(parts) == 0 {
		parts = []string{"none"}
	}
	r.c.e.mark("round trip: deletes a rule applied to: %s", strings.Join(parts, ", "))
}

// composed returns the XR's managed resources as the stand-in's cache has them, by composition
// resource name.
func (r *roundTrip) composed() map[string]*unstructured.Unstructured {
	out := map[string]*unstructured.Unstructured{}
	for _, o := range r.s.Controlled(r.xrUID) {
		out[o.GetAnnotations()[annCRN]] = o
	}
	return out
}

// patch changes the claim's spec as its owner would, with kubectl.
func (r *roundTrip) patch(ctx context.Context, t *testing.T, spec string) time.Time {
	t.Helper()
	c := r.c
	if out, err := c.e.kubectl(ctx, nil, "patch", strings.ToLower(c.claim.GetKind()), c.claim.GetName(), "-n", c.claim.GetNamespace(),
		"--type=merge", "-p", `{"spec":`+spec+`}`); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	c.e.mark("kubectl patch %s: spec %s", c.claim.GetName(), spec)
	return time.Now()
}

// wait polls cond with the XR's managed resources until it holds, at most roundTripStep; then checks
// that nothing stateful was deleted.
func (r *roundTrip) wait(ctx context.Context, t *testing.T, step string, cond func(ctx context.Context, cur map[string]*unstructured.Unstructured) error) {
	t.Helper()
	if err := eventually(ctx, roundTripStep, 250*time.Millisecond, func(ctx context.Context) error {
		return cond(ctx, r.composed())
	}); err != nil {
		r.diagnose(ctx, t)
		t.Fatalf("%s: %v", step, err)
	}
	r.poll()
	r.check(t, step)
}

// diagnose logs what the XR waits for and what the stand-in did last.
func (r *roundTrip) diagnose(ctx context.Context, t *testing.T) {
	t.Helper()
	if xr, err := r.c.xr(ctx); err == nil {
		w, _, _ := unstructured.NestedFieldNoCopy(xr.Object, "status", "waitingFor")
		conds, _, _ := unstructured.NestedSlice(xr.Object, "status", "conditions")
		t.Logf("XR phase %q, waiting for %v, conditions %v", str(xr, "status", "phase"), w, conds)
	}
	for crn, o := range r.composed() {
		if st, why := conditionStatus(o, "Ready"); st != "True" {
			_, synced := conditionStatus(o, "Synced")
			t.Logf("not ready: %s %s %s: %s; synced: %s", crn, o.GetKind(), o.GetName(), why, synced)
		}
	}
	ev := r.s.Events()
	if len(ev) > 40 {
		ev = ev[len(ev)-40:]
	}
	for _, l := range ev {
		t.Log("stand-in: " + l)
	}
}

// phase is the claim's status.phase, as its owner sees it.
func (r *roundTrip) phase(ctx context.Context, want string) error {
	cl, err := r.c.get(ctx)
	if err != nil {
		return err
	}
	if p := str(cl, "status", "phase"); p != want {
		return errors.Errorf("claim phase %q, want %s", p, want)
	}
	return nil
}

// secret returns the claim's connection secret.
func (r *roundTrip) secret(ctx context.Context) (map[string]string, error) {
	c := r.c
	sec, err := c.e.kube.CoreV1().Secrets(c.claim.GetNamespace()).Get(ctx, str(c.claim, "spec", "writeConnectionSecretToRef", "name"), metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for k, v := range sec.Data {
		out[k] = string(v)
	}
	return out, nil
}

func present(cur map[string]*unstructured.Unstructured, crn string) (*unstructured.Unstructured, error) {
	o := cur[crn]
	if o == nil {
		return nil, errors.Errorf("no %s", crn)
	}
	if o.GetDeletionTimestamp() != nil {
		return nil, errors.Errorf("%s (%s) is being deleted", crn, o.GetName())
	}
	return o, nil
}

// writer checks that an instance is desired as the writer, without a replication source, in region.
func writer(cur map[string]*unstructured.Unstructured, crn, region string) error {
	o, err := present(cur, crn)
	if err != nil {
		return err
	}
	if as := o.GetAnnotations()[annDesiredAs]; as != "writer" {
		return errors.Errorf("%s desired as %q, want writer", crn, as)
	}
	if src := str(o, "spec", "forProvider", "replicateSourceDb"); src != "" {
		return errors.Errorf("the writer %s is still asked to replicate %s", crn, src)
	}
	if rg := str(o, "spec", "forProvider", "region"); rg != region {
		return errors.Errorf("the writer %s in %s, want %s", crn, rg, region)
	}
	return nil
}

// replicaOf checks that an instance is a Ready cross-region replica of source in region.
func replicaOf(cur map[string]*unstructured.Unstructured, crn, source, region string) error {
	o, err := present(cur, crn)
	if err != nil {
		return err
	}
	src := cur[source]
	if src == nil {
		return errors.Errorf("no %s, the source of %s", source, crn)
	}
	if as := o.GetAnnotations()[annDesiredAs]; as != "replica" {
		return errors.Errorf("%s desired as %q, want replica", crn, as)
	}
	if got, want := str(o, "spec", "forProvider", "replicateSourceDb"), str(src, "status", "atProvider", "arn"); got == "" || got != want {
		return errors.Errorf("%s replicateSourceDb %q, want %s's ARN %q", crn, got, source, want)
	}
	if rg := str(o, "spec", "forProvider", "region"); rg != region {
		return errors.Errorf("the replica %s in %s, want %s", crn, rg, region)
	}
	if st, why := conditionStatus(o, "Ready"); st != "True" {
		return errors.Errorf("the replica %s Ready=%q (%s)", crn, st, why)
	}
	return nil
}

// fenced checks that a region's generation-1 instance is the fenced old writer: read-only by its
// own parameter group (applied at once), closed by the region's fenced security group, protected.
func fenced(cur map[string]*unstructured.Unstructured, role string) error {
	crn := role + "-db-instance"
	o, err := present(cur, crn)
	if err != nil {
		return err
	}
	if as := o.GetAnnotations()[annDesiredAs]; as != "fenced" {
		return errors.Errorf("%s desired as %q, want fenced", crn, as)
	}
	if src := str(o, "spec", "forProvider", "replicateSourceDb"); src != "" {
		return errors.Errorf("the fenced %s is asked to replicate %s", crn, src)
	}
	sg, _, _ := unstructured.NestedString(o.Object, "spec", "forProvider", "vpcSecurityGroupIdSelector", "matchLabels", labelRes)
	if want := role + "-sg-fenced"; sg != want {
		return errors.Errorf("%s's vpcSecurityGroupIdSelector selects %q, want %s", crn, sg, want)
	}
	if _, err := present(cur, role+"-sg-fenced"); err != nil {
		return err
	}
	if p, _, _ := unstructured.NestedBool(o.Object, "spec", "forProvider", "deletionProtection"); !p {
		return errors.Errorf("the fenced %s has no deletion protection", crn)
	}
	pg, err := present(cur, role+"-db-parameter-group")
	if err != nil {
		return err
	}
	ps, _, _ := unstructured.NestedSlice(pg.Object, "spec", "forProvider", "parameter")
	for _, p := range ps {
		m := asMap(p)
		if m["name"] == fenceParam {
			if m["value"] != "1" || m["applyMethod"] != "immediate" {
				return errors.Errorf("%s: %s=%v applyMethod %v, want 1 immediate", pg.GetAnnotations()[annCRN], fenceParam, m["value"], m["applyMethod"])
			}
			return nil
		}
	}
	return errors.Errorf("%s has no %s", pg.GetAnnotations()[annCRN], fenceParam)
}

// noneWith checks that no managed resource's composition resource name starts with prefix.
func noneWith(cur map[string]*unstructured.Unstructured, prefix string) error {
	var left []string
	for crn := range cur {
		if strings.HasPrefix(crn, prefix) {
			left = append(left, crn)
		}
	}
	if len(left) > 0 {
		sort.Strings(left)
		return errors.Errorf("%d %s* resources left: %v", len(left), prefix, left)
	}
	return nil
}

// failoverPathIn checks that the failover Lambda is in region and not in the other.
func failoverPathIn(cur map[string]*unstructured.Unstructured, role, region string) error {
	o, err := present(cur, role+"-lambda-failover")
	if err != nil {
		return err
	}
	if rg := str(o, "spec", "forProvider", "region"); rg != region {
		return errors.Errorf("%s-lambda-failover in %s, want %s", role, rg, region)
	}
	other := map[string]string{"primary": "dr", "dr": "primary"}[role]
	if _, ok := cur[other+"-lambda-failover"]; ok {
		return errors.Errorf("%s-lambda-failover still exists", other)
	}
	return nil
}

// answered returns the switchover the stand-in ran, as the failover Lambda, from the Invocation
// <role>-switchover since after; it must be in region and promote the instance crn.
func (r *roundTrip) answered(cur map[string]*unstructured.Unstructured, role, region, crn string, after time.Time) (*switchover, error) {
	var sw *switchover
	for _, x := range r.s.Switchovers() {
		if x.invocation == role+"-switchover" && x.at.After(after) {
			sw = &x
		}
	}
	if sw == nil {
		return nil, errors.Errorf("the stand-in has not answered an Invocation %s-switchover yet", role)
	}
	if sw.region != region {
		return nil, errors.Errorf("the Invocation %s-switchover is in %s, want %s", role, sw.region, region)
	}
	if o := cur[crn]; o == nil || identifier(o) != sw.instance {
		return nil, errors.Errorf("the switchover promoted %s, want %s", sw.instance, crn)
	}
	return sw, nil
}

// reported checks that the XR reports the switchover Promoted with its id, region and fenced LSN,
// within 30 s of the promotion; the trace says what was seen when.
func (r *roundTrip) reported(ctx context.Context, t *testing.T, sw *switchover, region string, tr *trace) {
	t.Helper()
	err := eventually(ctx, 30*time.Second, 250*time.Millisecond, func(ctx context.Context) error {
		xr, err := r.c.xr(ctx)
		if err != nil {
			return err
		}
		so, _, _ := unstructured.NestedMap(xr.Object, "status", "switchover")
		if so["state"] != contract.SwitchoverPromoted || so["id"] != sw.request.ID || so["to"] != region {
			return errors.Errorf("XR status.switchover %v, want state Promoted, id %s, to %s", so, sw.request.ID, region)
		}
		// The LSNs come only from the Invocation's result: the function keeps the Invocation
		// until the XR's status holds them.
		if so["fencedLsn"] != sw.result.FencedLSN || so["replicaLsn"] != sw.result.ReplicaLSN {
			return errors.Errorf("XR status.switchover fencedLsn %v, replicaLsn %v, want %s and %s from the Invocation's result", so["fencedLsn"], so["replicaLsn"], sw.result.FencedLSN, sw.result.ReplicaLSN)
		}
		return nil
	})
	if err == nil {
		return
	}
	var ev []string
	for _, l := range r.s.Events() {
		if strings.Contains(l, "invoke ") || strings.Contains(l, "promote") {
			ev = append(ev, l)
		}
	}
	t.Errorf("after the switchover %s: %v\nwhat the API server held, from the kubectl patch:\n  %s\nthe stand-in:\n  %s",
		sw.request.ID, err, strings.Join(tr.lines, "\n  "), strings.Join(ev, "\n  "))
}

// trace records what a step saw, each change with its time.
type trace struct {
	begin time.Time
	last  string
	lines []string
}

func (tr *trace) see(s string) {
	if s != tr.last {
		tr.lines = append(tr.lines, fmt.Sprintf("+%.2fs %s", time.Since(tr.begin).Seconds(), s))
		tr.last = s
	}
}

// switchSignature is what a switchover step watches: the XR's phase and switchover, the
// Invocation, and the instance it promotes.
func (r *roundTrip) switchSignature(ctx context.Context, cur map[string]*unstructured.Unstructured, invocation, crn string) string {
	xr, err := r.c.xr(ctx)
	if err != nil {
		return err.Error()
	}
	inv := "absent"
	if o := cur[invocation]; o != nil {
		inv = "without result"
		if str(o, "status", "atProvider", "result") != "" {
			inv = "with result"
		}
		if o.GetDeletionTimestamp() != nil {
			inv += ", being deleted"
		}
	}
	db := "absent"
	if o := cur[crn]; o != nil {
		db = fmt.Sprintf("desired as %s, spec replicateSourceDb set: %v, status: %v", o.GetAnnotations()[annDesiredAs],
			str(o, "spec", "forProvider", "replicateSourceDb") != "", str(o, "status", "atProvider", "replicateSourceDb") != "")
	}
	return fmt.Sprintf("XR phase %s, switchover %s; Invocation %s %s; %s %s", str(xr, "status", "phase"), str(xr, "status", "switchover", "state"), invocation, inv, crn, db)
}

// retire sets spec.retireInstance to the region's old instance and waits until it is gone from
// the API server, deleted in AWS (so its deletion protection was off) with a final snapshot.
func (r *roundTrip) retire(ctx context.Context, t *testing.T, old *unstructured.Unstructured) time.Duration {
	t.Helper()
	id := identifier(old)
	r.mu.Lock()
	r.retired[id] = time.Now()
	r.mu.Unlock()
	begin := r.patch(ctx, t, fmt.Sprintf(`{"retireInstance":%q}`, id))
	var last *unstructured.Unstructured
	var protectionOff time.Time
	r.wait(ctx, t, "retire "+id, func(ctx context.Context, _ map[string]*unstructured.Unstructured) error {
		o, err := r.c.e.get(ctx, old.GetAPIVersion(), old.GetKind(), "", old.GetName())
		if kerrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		last = o
		if p, _, _ := unstructured.NestedBool(o.Object, "spec", "forProvider", "deletionProtection"); !p && protectionOff.IsZero() {
			protectionOff = time.Now()
		}
		return errors.Errorf("%s still in the API server (deletion protection off: %v, being deleted: %v)", id, !protectionOff.IsZero(), o.GetDeletionTimestamp() != nil)
	})
	took := time.Since(begin)
	l, ok := r.s.Lifecycle(gkRDSInstance, old.GetName())
	if !ok || l.awsDeleted.IsZero() {
		t.Errorf("the stand-in never deleted %s in AWS", id)
	}
	if last != nil {
		if skip, _, _ := unstructured.NestedBool(last.Object, "spec", "forProvider", "skipFinalSnapshot"); skip || str(last, "spec", "forProvider", "finalSnapshotIdentifier") == "" {
			t.Errorf("%s was deleted without a final snapshot (skipFinalSnapshot %v, finalSnapshotIdentifier %q)", id, skip, str(last, "spec", "forProvider", "finalSnapshotIdentifier"))
		}
	}
	off := "not seen"
	if !protectionOff.IsZero() {
		off = fmt.Sprintf("%.1fs", protectionOff.Sub(begin).Seconds())
	}
	r.c.e.mark("retired %s: deletion protection off after %s, gone after %.1fs", id, off, took.Seconds())
	return took
}

// walk is the round trip; it returns the figure.
func (r *roundTrip) walk(ctx context.Context, t *testing.T) string {
	c := r.c
	pri, dr := c.primary, c.dr
	var endpoint, oldPrimary, oldDR string
	var oldPrimaryObj, oldDRObj *unstructured.Unstructured
	r.begin = time.Now()
	r.poll()

	// a. Replicating.
	r.wait(ctx, t, "Replicating", func(ctx context.Context, cur map[string]*unstructured.Unstructured) error {
		if err := r.phase(ctx, "Replicating"); err != nil {
			return err
		}
		if err := writer(cur, "primary-db-instance", pri); err != nil {
			return err
		}
		if err := replicaOf(cur, "dr-db-instance", "primary-db-instance", dr); err != nil {
			return err
		}
		sec, err := r.secret(ctx)
		if err != nil {
			return err
		}
		if endpoint = sec["endpoint"]; endpoint == "" {
			return errors.New("the connection secret has no endpoint")
		}
		oldPrimaryObj, oldDRObj = cur["primary-db-instance"].DeepCopy(), cur["dr-db-instance"].DeepCopy()
		oldPrimary, oldDR = identifier(oldPrimaryObj), identifier(oldDRObj)
		return nil
	})
	sameEndpoint := func(ctx context.Context) error {
		sec, err := r.secret(ctx)
		if err != nil {
			return err
		}
		if sec["endpoint"] != endpoint {
			return errors.Errorf("the connection secret's endpoint %q, was %q", sec["endpoint"], endpoint)
		}
		return nil
	}
	total := time.Now()
	var times []string
	took := func(name string, since time.Time) {
		d := time.Since(since)
		times = append(times, fmt.Sprintf("%s=%.1fs", name, d.Seconds()))
		c.e.mark("round trip: %s after %.1fs", name, d.Seconds())
	}

	// b. Switchover to the DR region: Promoted, FailedOver, the old primary fenced.
	begin := r.patch(ctx, t, fmt.Sprintf(`{"activeRegion":%q}`, dr))
	tr := &trace{begin: begin}
	var sw *switchover
	r.wait(ctx, t, "switchover to "+dr, func(ctx context.Context, cur map[string]*unstructured.Unstructured) error {
		tr.see(r.switchSignature(ctx, cur, "dr-switchover", "dr-db-instance"))
		var err error
		if sw, err = r.answered(cur, "dr", dr, "dr-db-instance", begin); err != nil {
			return err
		}
		if err := r.phase(ctx, "FailedOver"); err != nil {
			return err
		}
		return writer(cur, "dr-db-instance", dr)
	})
	took("switchover", begin)
	r.reported(ctx, t, sw, dr, tr)
	r.wait(ctx, t, "old primary fenced", func(ctx context.Context, cur map[string]*unstructured.Unstructured) error {
		if err := fenced(cur, "primary"); err != nil {
			return err
		}
		if err := noneWith(cur, "dr-lambda-"); err != nil {
			return err
		}
		if err := writer(cur, "dr-db-instance", dr); err != nil {
			return err
		}
		if err := r.phase(ctx, "FailedOver"); err != nil {
			return err
		}
		return sameEndpoint(ctx)
	})
	took("fenced", begin)

	// c. Re-seed the primary region: a generation-2 replica of the DR writer; the old primary kept.
	begin = r.patch(ctx, t, `{"generations":{"primary":2}}`)
	r.wait(ctx, t, "primary re-seeded", r.reseeded("primary", "primary-db-instance-g2", "dr-db-instance", pri, oldPrimary))
	took("reseed", begin)

	// d. Retire the old primary.
	d := r.retire(ctx, t, oldPrimaryObj)
	times = append(times, fmt.Sprintf("retire=%.1fs", d.Seconds()))
	r.wait(ctx, t, "Replicating without the old primary", func(ctx context.Context, cur map[string]*unstructured.Unstructured) error {
		if err := replicaOf(cur, "primary-db-instance-g2", "dr-db-instance", pri); err != nil {
			return err
		}
		return r.phase(ctx, "Replicating")
	})

	// e. Switch back to the primary region: g2 writes, the DR instance fenced.
	begin = r.patch(ctx, t, fmt.Sprintf(`{"activeRegion":%q}`, pri))
	tr = &trace{begin: begin}
	r.wait(ctx, t, "switchover back to "+pri, func(ctx context.Context, cur map[string]*unstructured.Unstructured) error {
		tr.see(r.switchSignature(ctx, cur, "primary-switchover", "primary-db-instance-g2"))
		var err error
		if sw, err = r.answered(cur, "primary", pri, "primary-db-instance-g2", begin); err != nil {
			return err
		}
		if err := writer(cur, "primary-db-instance-g2", pri); err != nil {
			return err
		}
		if err := fenced(cur, "dr"); err != nil {
			return err
		}
		if err := noneWith(cur, "primary-lambda-"); err != nil {
			return err
		}
		if err := r.phase(ctx, "FailedOver"); err != nil {
			return err
		}
		return sameEndpoint(ctx)
	})
	took("switchback", begin)
	r.reported(ctx, t, sw, pri, tr)

	// f. Re-seed the DR region, retire the old DR instance: as at the start.
	begin = r.patch(ctx, t, `{"generations":{"dr":2}}`)
	r.wait(ctx, t, "DR re-seeded", r.reseeded("dr", "dr-db-instance-g2", "primary-db-instance-g2", dr, oldDR))
	took("reseed2", begin)
	d = r.retire(ctx, t, oldDRObj)
	times = append(times, fmt.Sprintf("retire2=%.1fs", d.Seconds()))
	r.wait(ctx, t, "Replicating as at the start", func(ctx context.Context, cur map[string]*unstructured.Unstructured) error {
		cl, err := c.get(ctx)
		if err != nil {
			return err
		}
		if st, why := conditionStatus(cl, "Ready"); st != "True" {
			return errors.Errorf("claim Ready=%q (%s)", st, why)
		}
		if err := r.phase(ctx, "Replicating"); err != nil {
			return err
		}
		if a := str(cl, "status", "activeRegion"); a != pri {
			return errors.Errorf("claim status.activeRegion %q, want %s", a, pri)
		}
		if err := writer(cur, "primary-db-instance-g2", pri); err != nil {
			return err
		}
		if err := replicaOf(cur, "dr-db-instance-g2", "primary-db-instance-g2", dr); err != nil {
			return err
		}
		var insts []string
		for crn, o := range cur {
			if groupKind(o) == gkRDSInstance {
				insts = append(insts, crn)
			}
		}
		if len(insts) != 2 {
			sort.Strings(insts)
			return errors.Errorf("DB instances %v, want the writer and its replica", insts)
		}
		if err := failoverPathIn(cur, "dr", dr); err != nil {
			return err
		}
		if err := sameEndpoint(ctx); err != nil {
			return err
		}
		sec, err := r.secret(ctx)
		if err != nil {
			return err
		}
		if w := str(cur["primary-db-instance-g2"], "status", "atProvider", "address"); sec["instanceEndpoint"] != w {
			return errors.Errorf("connection secret instanceEndpoint %q, want the writer's address %q", sec["instanceEndpoint"], w)
		}
		if rd := str(cur["dr-db-instance-g2"], "status", "atProvider", "address"); sec["readerEndpoint"] != rd {
			return errors.Errorf("connection secret readerEndpoint %q, want the replica's address %q", sec["readerEndpoint"], rd)
		}
		return nil
	})
	times = append(times, fmt.Sprintf("total=%.1fs", time.Since(total).Seconds()))
	r.poll()
	r.mu.Lock()
	n := len(r.stateful)
	r.mu.Unlock()
	del := r.deletions()
	return fmt.Sprintf("%s; %d DB instances, buckets and keys watched, deleted: %s (each after spec.retireInstance named it)",
		strings.Join(times, " "), n, strings.Join(del, ", "))
}

// reseeded checks a region re-seeded: its new instance a replica of the writer, the failover path
// there, the old writer kept fenced and reported retained, the pair Replicating.
func (r *roundTrip) reseeded(role, instance, writer, region, retained string) func(context.Context, map[string]*unstructured.Unstructured) error {
	return func(ctx context.Context, cur map[string]*unstructured.Unstructured) error {
		if err := replicaOf(cur, instance, writer, region); err != nil {
			return err
		}
		if err := failoverPathIn(cur, role, region); err != nil {
			return err
		}
		if err := fenced(cur, role); err != nil {
			return err
		}
		if err := r.phase(ctx, "Replicating"); err != nil {
			return err
		}
		xr, err := r.c.xr(ctx)
		if err != nil {
			return err
		}
		if got := str(xr, "status", role, "retainedInstance"); got != retained {
			return errors.Errorf("XR status.%s.retainedInstance %q, want %s", role, got, retained)
		}
		return nil
	}
}
