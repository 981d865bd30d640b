package fn

import (
	"testing"

	"github.com/crossplane/function-sdk-go/resource"
	"github.com/crossplane/function-sdk-go/resource/composed"
)

func TestObservedReady(t *testing.T) {
	withConditions := func(conds ...any) resource.ObservedComposed {
		cd := composed.New()
		cd.Object["status"] = map[string]any{"conditions": conds}
		return resource.ObservedComposed{Resource: cd}
	}
	cases := map[string]struct {
		reason string
		o      Observed
		want   bool
	}{
		"NotObserved": {"A resource not observed is not ready.", Observed{}, false},
		"ReadyTrue":   {"Ready=True is ready.", Observed{"r": withConditions(map[string]any{"type": "Synced", "status": "True"}, map[string]any{"type": "Ready", "status": "True"})}, true},
		"ReadyFalse":  {"Ready=False is not.", Observed{"r": withConditions(map[string]any{"type": "Ready", "status": "False"})}, false},
		"SyncedOnly":  {"Synced alone is not ready.", Observed{"r": withConditions(map[string]any{"type": "Synced", "status": "True"})}, false},
		"NoStatus":    {"No status is not ready.", Observed{"r": resource.ObservedComposed{Resource: composed.New()}}, false},
		"OddShape":    {"Conditions of the wrong shape are not ready, and do not panic.", Observed{"r": withConditions("Ready", 1)}, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := tc.o.Ready("r"); got != tc.want {
				t.Errorf("\n%s\nReady() = %v, want %v", tc.reason, got, tc.want)
			}
		})
	}
}
