//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pkg/errors"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// Deleting a claim: the claim controller deletes the XR, and the garbage collector deletes every
// composed resource at once, by the XR's owner references. What AWS refuses to delete while
// something uses it, or loses, the function orders with ClusterUsages (fn/usage.go): Crossplane's
// usage controller labels the used resource (crossplane.io/in-use) and its validating webhook
// refuses the used resource's DELETE while a usage names it; once the usage's user is gone the
// usage goes and Crossplane replays the delete (replayDeletion).

var clusterUsageGVR = schema.GroupVersionResource{Group: "protection.crossplane.io", Version: "v1beta1", Resource: "clusterusages"}

const (
	labelComposite     = "crossplane.io/composite"
	labelInUse         = "crossplane.io/in-use"
	usageWebhook       = "nousages.protection.crossplane.io"
	mWebhookRejections = "apiserver_admission_webhook_rejection_count"
)

// usageRef is one ClusterUsage of the XR: of may not be deleted while by exists.
type usageRef struct {
	name    string
	of, by  objRef // group/kind and name
	ofAPI   string // of's apiVersion
	deleted bool   // the usage is being deleted (the function no longer composes it; it waits for its user)
}

// usages waits until every ClusterUsage of the XR is resolved: its selectors resolved to the used
// and the using resource, the used resource labelled in use, the usage Ready. It returns them by
// name.
func (c *claimRun) usages(ctx context.Context, t *testing.T) []usageRef {
	t.Helper()
	var out []usageRef
	if err := eventually(ctx, 90*time.Second, 500*time.Millisecond, func(ctx context.Context) error {
		out = out[:0]
		l, err := c.e.dyn.Resource(clusterUsageGVR).List(ctx, metav1.ListOptions{LabelSelector: labelComposite + "=" + c.xrName})
		if err != nil {
			return errors.Wrap(err, "cannot list ClusterUsages")
		}
		if len(l.Items) == 0 {
			return errors.Errorf("XR %s composes no ClusterUsage", c.xrName)
		}
		for i := range l.Items {
			u := &l.Items[i]
			r := usageRef{name: u.GetName(), deleted: u.GetDeletionTimestamp() != nil, ofAPI: str(u, "spec", "of", "apiVersion")}
			for _, side := range []string{"of", "by"} {
				gv, err := schema.ParseGroupVersion(str(u, "spec", side, "apiVersion"))
				if err != nil {
					return errors.Wrapf(err, "ClusterUsage %s: spec.%s.apiVersion", u.GetName(), side)
				}
				ref := objRef{gk: gv.Group + "/" + str(u, "spec", side, "kind"), name: str(u, "spec", side, "resourceRef", "name")}
				if ref.name == "" {
					return errors.Errorf("ClusterUsage %s: spec.%s not resolved to a resource yet", u.GetName(), side)
				}
				if side == "of" {
					r.of = ref
				} else {
					r.by = ref
				}
			}
			if st, why := conditionStatus(u, "Ready"); st != "True" && !r.deleted {
				return errors.Errorf("ClusterUsage %s: Ready=%q (%s)", u.GetName(), st, why)
			}
			of, err := c.e.get(ctx, r.ofAPI, kindOf(r.of.gk), "", r.of.name)
			if err != nil {
				return errors.Wrapf(err, "ClusterUsage %s: cannot get the used %s", u.GetName(), r.of)
			}
			if of.GetLabels()[labelInUse] != "true" {
				return errors.Errorf("ClusterUsage %s: the used %s is not labelled %s=true", u.GetName(), r.of, labelInUse)
			}
			out = append(out, r)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// unapplied returns the composed resources the function asks for that Crossplane could not apply
// and that do not exist, with Crossplane's reason: the warning events of the XR.
func (c *claimRun) unapplied(ctx context.Context, t *testing.T, composed map[string]*unstructured.Unstructured) []string {
	t.Helper()
	evs, err := c.e.kube.CoreV1().Events("").List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=" + c.xrName})
	if err != nil {
		t.Fatalf("cannot list the XR's events: %v", err)
	}
	const prefix = `cannot apply composed resource "`
	seen := map[string]bool{}
	var out []string
	for _, ev := range evs.Items {
		if ev.Type != "Warning" || ev.InvolvedObject.Kind != c.xrKind || !strings.HasPrefix(ev.Message, prefix) {
			continue
		}
		crn, why, _ := strings.Cut(strings.TrimPrefix(ev.Message, prefix), `"`)
		if composed[crn] != nil || seen[crn] {
			continue
		}
		seen[crn] = true
		out = append(out, fmt.Sprintf("%q (%s; %d times)", crn, strings.TrimPrefix(why, ": "), ev.Count))
	}
	sort.Strings(out)
	return out
}

// usageProtection checks that Crossplane's usage webhook is live on this control plane: core init
// installed it, crossplane-up.sh pointed it at core by URL, and kube-apiserver refuses the delete
// of every resource a ClusterUsage of the claim protects, with Crossplane's message. The deletes
// are dry runs (kubectl delete --dry-run=server): the webhook is called for them and nothing is
// deleted. (The webhook still records the attempt on the resource, as it will when the claim is
// deleted.)
func usageProtection(ctx context.Context, t *testing.T, e *env, c *claimRun) {
	vwcs, err := e.kube.AdmissionregistrationV1().ValidatingWebhookConfigurations().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	url := ""
	for _, v := range vwcs.Items {
		for _, w := range v.Webhooks {
			if w.Name == usageWebhook && w.ClientConfig.URL != nil {
				url = *w.ClientConfig.URL
			}
		}
	}
	if url == "" {
		t.Fatalf("no validating webhook %s with a URL: did crossplane-up.sh run core init with webhooks and point them at core?", usageWebhook)
	}
	us := c.usages(ctx, t)
	done := map[objRef]bool{}
	example := ""
	for _, u := range us {
		if done[u.of] {
			continue
		}
		done[u.of] = true
		group, kind, _ := strings.Cut(u.of.gk, "/")
		out, err := e.kubectl(ctx, nil, "delete", strings.ToLower(kind)+"."+group, u.of.name, "--dry-run=server")
		if err == nil {
			t.Errorf("ClusterUsage %s: deleting the used %s while %s uses it was accepted:\n%s", u.name, u.of, u.by, out)
			continue
		}
		if !strings.Contains(out, usageWebhook) || !strings.Contains(out, "in-use by") {
			t.Errorf("ClusterUsage %s: deleting the used %s was refused, but not by Crossplane's usage webhook:\n%s", u.name, u.of, out)
			continue
		}
		if example == "" {
			example = strings.TrimSpace(out[strings.LastIndex(out, "denied the request:")+len("denied the request:"):])
		}
	}
	e.mark("%d ClusterUsages resolved, each used resource labelled %s; the webhook at %s refused deleting each of the %d used resources, e.g. %q",
		len(us), labelInUse, url, len(done), example)
}

// delete tears the claim down as its owners would: deletion protection off, then kubectl delete;
// and waits, bounded, until the claim, the XR, every composed resource and every ClusterUsage of
// the XR are gone, and the claim's connection secret. Then it checks the order against the
// ClusterUsages (each user gone before the stand-in saw its used resource's delete) and against
// AWS (deleteRules): none broken, none refused between resources a ClusterUsage orders. The
// refusals between resources nothing orders are the provider's retries; they are counted. It
// returns the deletion's figure.
func (c *claimRun) delete(ctx context.Context, t *testing.T, s *standIn) string {
	e := c.e
	all, err := c.composed(ctx)
	if err != nil {
		t.Fatal(err)
	}
	managed := managedOnly(all)
	mine := map[types.UID]bool{}
	for _, o := range managed {
		mine[o.GetUID()] = true
	}
	usages := c.usages(ctx, t)
	for _, u := range c.unapplied(ctx, t, all) {
		t.Errorf("the function composes %s, which Crossplane cannot apply: the order it stands for is not held", u)
	}
	if out, err := e.kubectl(ctx, nil, "patch", strings.ToLower(c.claim.GetKind()), c.claim.GetName(), "-n", c.claim.GetNamespace(),
		"--type=merge", "-p", `{"spec":{"deletionProtection":false}}`); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	protected := ""
	if err := eventually(ctx, 60*time.Second, 250*time.Millisecond, func(ctx context.Context) error {
		got, err := c.composed(ctx)
		if err != nil {
			return err
		}
		for _, i := range byKind(got, "rds.aws.upbound.io", "Instance") {
			if p, _, _ := unstructured.NestedBool(i.Object, "spec", "forProvider", "deletionProtection"); p {
				protected = fmt.Sprintf("instance %s (%s) still has deletion protection", i.GetAnnotations()[annCRN], i.GetName())
				if as := i.GetAnnotations()["pgdr.io/desired-as"]; as != "" {
					protected += ", desired as " + as
				}
				return errors.New(protected)
			}
		}
		return nil
	}); err != nil {
		if protected != "" && !strings.Contains(err.Error(), protected) {
			err = errors.Wrap(err, protected)
		}
		t.Fatalf("after spec.deletionProtection=false: %v", err)
	}
	before, err := e.scrapeAPIServer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	if out, err := e.kubectl(ctx, nil, "delete", "-f", c.file, "--wait=false"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var left []string
	if err := eventually(ctx, 240*time.Second, 500*time.Millisecond, func(ctx context.Context) error {
		left = left[:0]
		if _, err := c.get(ctx); !kerrors.IsNotFound(err) {
			left = append(left, "claim")
		}
		if _, err := c.xr(ctx); !kerrors.IsNotFound(err) {
			left = append(left, "XR")
		}
		for crn, o := range all {
			if _, err := e.get(ctx, o.GetAPIVersion(), o.GetKind(), "", o.GetName()); !kerrors.IsNotFound(err) {
				left = append(left, crn)
			}
		}
		l, err := e.dyn.Resource(clusterUsageGVR).List(ctx, metav1.ListOptions{LabelSelector: labelComposite + "=" + c.xrName})
		if err != nil {
			return errors.Wrap(err, "cannot list ClusterUsages")
		}
		for _, u := range l.Items {
			left = append(left, "ClusterUsage "+u.GetName())
		}
		if len(left) > 0 {
			sort.Strings(left)
			return errors.Errorf("%d left: %v", len(left), left)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	took := time.Since(begin)
	after, err := e.scrapeAPIServer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	refusedByWebhook := after.sum(mWebhookRejections, "name", usageWebhook) - before.sum(mWebhookRejections, "name", usageWebhook)
	e.mark("delete-to-gone: %s for the claim, the XR, %d managed resources and %d ClusterUsages", took.Round(10*time.Millisecond), len(managed), len(usages))
	if n := s.InCloud(mine); n != 0 {
		t.Errorf("AWS still holds %d of the claim's resources after the claim was deleted", n)
	}
	if name := str(c.claim, "spec", "writeConnectionSecretToRef", "name"); name != "" {
		if err := eventually(ctx, 60*time.Second, 500*time.Millisecond, func(ctx context.Context) error {
			_, err := e.kube.CoreV1().Secrets(c.claim.GetNamespace()).Get(ctx, name, metav1.GetOptions{})
			if kerrors.IsNotFound(err) {
				return nil
			}
			return errors.New("claim connection secret still exists")
		}); err != nil {
			t.Error(err)
		}
	}

	closest := c.checkUsageOrder(t, s, usages)
	violations, retried, detail := c.checkAWSRules(t, s, mine, usages)
	if detail != "" {
		e.mark("refused deletes the provider retried, by rule: %s", detail)
	}
	return fmt.Sprintf("%s: %.1fs from kubectl delete until the claim, the XR, %d managed resources and %d ClusterUsages were gone; "+
		"each ClusterUsage's user was gone before its used resource's delete came (closest %.1fs); Crossplane's usage webhook refused %.0f DELETEs (kube-apiserver's %s); "+
		"AWS: %d violations, %s",
		c.claim.GetName(), took.Seconds(), len(managed), len(usages), closest.Seconds(), refusedByWebhook, mWebhookRejections, violations, retried)
}

// checkUsageOrder checks that the user of each ClusterUsage had left the API server before the
// stand-in saw its used resource being deleted, and returns the smallest gap.
func (c *claimRun) checkUsageOrder(t *testing.T, s *standIn, usages []usageRef) time.Duration {
	t.Helper()
	closest := time.Duration(-1)
	for _, u := range usages {
		by, okBy := s.Lifecycle(u.by.gk, u.by.name)
		of, okOf := s.Lifecycle(u.of.gk, u.of.name)
		switch {
		case !okBy || by.gone.IsZero():
			t.Errorf("ClusterUsage %s: the stand-in never saw the user %s leave the API server", u.name, u.by)
		case !okOf || of.deleting.IsZero():
			t.Errorf("ClusterUsage %s: the stand-in never saw the used %s being deleted", u.name, u.of)
		case !by.gone.Before(of.deleting):
			t.Errorf("ClusterUsage %s: the used %s was being deleted %s before its user %s was gone",
				u.name, u.of, by.gone.Sub(of.deleting).Round(time.Millisecond), u.by)
		default:
			if d := of.deleting.Sub(by.gone); closest < 0 || d < closest {
				closest = d
			}
		}
	}
	return closest
}

// checkAWSRules goes through what the stand-in's deleteRules said about the claim's managed
// resources: a broken user, or a refusal between resources a ClusterUsage orders, is a violation
// (the usages should have prevented it); a refusal between resources nothing orders is a delete
// the provider retries until AWS accepts it. It returns the number of violations and a summary of
// the retried refusals by AWS call, and one by rule.
func (c *claimRun) checkAWSRules(t *testing.T, s *standIn, mine map[types.UID]bool, usages []usageRef) (int, string, string) {
	t.Helper()
	ordered := map[string]bool{}
	for _, u := range usages {
		ordered[u.of.String()+" by "+u.by.String()] = true
	}
	violations := 0
	retried, attempts, byAPI := map[string]int{}, map[string]int{}, map[string]int{}
	for _, h := range s.Hits() {
		if !mine[h.of.uid] {
			continue
		}
		pair := h.of.String() + " by " + h.by.String()
		if h.rule.outcome == broken || ordered[pair] {
			violations++
			why := "a ClusterUsage orders them"
			if h.rule.outcome == broken {
				why = "AWS deletes it anyway"
			}
			t.Errorf("AWS rule violated (%s): %s %s while %s still used it (%s): %s [%s]",
				why, h.rule.api, h.of, h.by, h.field, h.rule.aws, h.rule.source)
			continue
		}
		k := fmt.Sprintf("%s of %s by %s", h.rule.api, kindOf(h.of.gk), kindOf(h.by.gk))
		retried[k]++
		attempts[k] += h.attempts
		byAPI[h.rule.api]++
	}
	if len(retried) == 0 {
		return violations, "no refused delete", ""
	}
	total := 0
	for _, n := range attempts {
		total += n
	}
	detail := make([]string, 0, len(retried))
	for _, k := range sortedKeys(retried) {
		detail = append(detail, fmt.Sprintf("%s %d (%d attempts)", k, retried[k], attempts[k]))
	}
	apis := make([]string, 0, len(byAPI))
	for _, k := range sortedKeys(byAPI) {
		apis = append(apis, fmt.Sprintf("%s %d", k, byAPI[k]))
	}
	return violations, fmt.Sprintf("%d refused deletes the provider retried (%d attempts) between resources no ClusterUsage orders: %s",
		sum(retried), total, strings.Join(apis, ", ")), strings.Join(detail, ", ")
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// kindOf is the kind of a group/kind.
func kindOf(gk string) string {
	_, k, _ := strings.Cut(gk, "/")
	return k
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
