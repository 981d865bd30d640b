package main

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/pgdr/function-postgres-dr/lambda/contract"
)

func TestClassify(t *testing.T) {
	type want struct {
		kind string
		r    request
		err  string
	}
	req := func(id string, secs int, timeout time.Duration) request {
		return request{SwitchoverRequest: contract.SwitchoverRequest{Action: contract.ActionSwitchover, ID: id, CatchUpTimeoutSeconds: secs}, CatchUpTimeout: timeout}
	}
	cases := map[string]struct {
		reason  string
		payload string
		want    want
	}{
		"Alarm": {
			reason:  "An EventBridge alarm state change has no action key: the alarm path.",
			payload: string(alarmPayload(alarmName, "ALARM", time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC))),
			want:    want{kind: payloadAlarm},
		},
		"NotAnObject": {
			reason:  "Anything that is not a JSON object goes to the alarm path, which reports it as it always did.",
			payload: `"switchover"`,
			want:    want{kind: payloadAlarm},
		},
		"NotJSON": {
			reason:  "Text that is not JSON goes to the alarm path too.",
			payload: `{action: switchover}`,
			want:    want{kind: payloadAlarm},
		},
		"Switchover": {
			reason:  "The composition's request, with its catch-up timeout.",
			payload: `{"action":"switchover","id":"orders-2025-01-02","catchUpTimeoutSeconds":90}`,
			want:    want{kind: payloadSwitchover, r: req("orders-2025-01-02", 90, 90*time.Second)},
		},
		"DefaultTimeout": {
			reason:  "No catch-up timeout is the default.",
			payload: `{"action":"switchover","id":"s1"}`,
			want:    want{kind: payloadSwitchover, r: req("s1", 0, contract.DefaultCatchUpTimeout)},
		},
		"MaxTimeout": {
			reason:  "The largest catch-up timeout that fits the Lambda's 15 minutes with the default PROMOTE_TIMEOUT is accepted.",
			payload: `{"action":"switchover","id":"s1","catchUpTimeoutSeconds":240}`,
			want:    want{kind: payloadSwitchover, r: req("s1", 240, 4*time.Minute)},
		},
		"TerraformCreate": {
			reason:  "A CRUD-scoped Invocation adds a tf key; create is acted on.",
			payload: `{"action":"switchover","id":"s1","tf":{"action":"create","prev_input":null}}`,
			want:    want{kind: payloadSwitchover, r: req("s1", 0, contract.DefaultCatchUpTimeout)},
		},
		"TerraformDelete": {
			reason:  "A CRUD-scoped Invocation's delete is not acted on.",
			payload: `{"action":"switchover","id":"s1","tf":{"action":"delete","prev_input":{"action":"switchover","id":"s1"}}}`,
			want: want{kind: payloadSwitchover, r: func() request {
				r := req("s1", 0, contract.DefaultCatchUpTimeout)
				r.Delete = true
				return r
			}()},
		},
		"BadAction": {
			reason:  "An object with an action that is not switchover is a bad request, not an alarm: the error names the field.",
			payload: `{"action":"failover","id":"s1"}`,
			want:    want{kind: payloadSwitchover, err: `invalid switchover request: action "failover" is not "switchover"`},
		},
		"EmptyID": {
			reason:  "A request needs an ID: it is what makes a retry the same switchover.",
			payload: `{"action":"switchover","id":"  "}`,
			want:    want{kind: payloadSwitchover, err: "invalid switchover request: id is empty"},
		},
		"NegativeTimeout": {
			reason:  "A negative catch-up timeout is named.",
			payload: `{"action":"switchover","id":"s1","catchUpTimeoutSeconds":-1}`,
			want:    want{kind: payloadSwitchover, err: "invalid switchover request: catchUpTimeoutSeconds -1 is negative (0 means the default, 1m0s)"},
		},
		"TimeoutTooLong": {
			reason:  "A catch-up timeout that does not fit the Lambda's 15 minutes with PROMOTE_TIMEOUT is named, with the maximum.",
			payload: `{"action":"switchover","id":"s1","catchUpTimeoutSeconds":241}`,
			want: want{kind: payloadSwitchover, err: "invalid switchover request: catchUpTimeoutSeconds 241 is more than 240: " +
				"the catch-up, PROMOTE_TIMEOUT and 1m0s must fit in the Lambda's 15m0s"},
		},
		"AllWrong": {
			reason:  "Every wrong field is named in one error.",
			payload: `{"action":"","catchUpTimeoutSeconds":-5}`,
			want: want{kind: payloadSwitchover, err: `invalid switchover request: action "" is not "switchover"; id is empty; ` +
				"catchUpTimeoutSeconds -5 is negative (0 means the default, 1m0s)"},
		},
		"WrongType": {
			reason:  "A field of the wrong type is named by the JSON decoder.",
			payload: `{"action":"switchover","id":42}`,
			want:    want{kind: payloadSwitchover, err: "cannot read the switchover request: json: cannot unmarshal number into Go struct field requestEnvelope.SwitchoverRequest.id of type string"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			kind, r, err := classify([]byte(tc.payload))
			got := want{kind: kind, r: r}
			if err != nil {
				got.err = err.Error()
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("%s\nclassify(%s): -want, +got:\n%s", tc.reason, tc.payload, diff)
			}
		})
	}
}

// TestInvokeDispatch sends payloads through Handler.Invoke, the Lambda's entry point, without
// PostgreSQL: each reaches its handler, and the alarm path answers as it did before.
func TestInvokeDispatch(t *testing.T) {
	cases := map[string]struct {
		reason  string
		payload string
		// want is the answer's JSON, decoded into a map, of the keys named.
		want    map[string]any
		wantErr string
	}{
		"AlarmIgnored": {
			reason:  "Another alarm's event goes to the alarm path, which ignores it.",
			payload: string(alarmPayload("orders-cpu-high", "ALARM", time.Now())),
			want:    map[string]any{"action": ActionIgnored},
		},
		"AlarmMalformed": {
			reason:  "A payload the alarm path cannot decode fails as it did before.",
			payload: `[1, 2]`,
			wantErr: "json: cannot unmarshal array into Go value of type events.CloudWatchEvent",
		},
		"SwitchoverDelete": {
			reason:  "Terraform's delete of a CRUD-scoped Invocation reaches the switchover handler, which ignores it.",
			payload: `{"action":"switchover","id":"s1","tf":{"action":"delete"}}`,
			want:    map[string]any{"action": contract.ActionSwitchover, "id": "s1", "outcome": contract.SwitchoverIgnored},
		},
		"SwitchoverInvalid": {
			reason:  "An invalid request is an error that names the field.",
			payload: `{"action":"switchover","id":""}`,
			wantErr: "invalid switchover request: id is empty",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, false)
			out, err := f.handler().Invoke(context.Background(), []byte(tc.payload))
			var gotErr string
			if err != nil {
				gotErr = err.Error()
			}
			if diff := cmp.Diff(tc.wantErr, gotErr); diff != "" {
				t.Fatalf("%s\nerror: -want, +got:\n%s", tc.reason, diff)
			}
			if tc.want == nil {
				return
			}
			var m map[string]any
			if err := json.Unmarshal(out, &m); err != nil {
				t.Fatalf("%s: %v", out, err)
			}
			got := map[string]any{}
			for k := range tc.want {
				got[k] = m[k]
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nanswer %s: -want, +got:\n%s", tc.reason, out, diff)
			}
			if n := len(f.aws.Calls()); n != 0 {
				t.Errorf("%s\nAWS calls: %+v, want none", tc.reason, f.aws.Calls())
			}
		})
	}
}

func TestLSN(t *testing.T) {
	type want struct {
		l   lsn
		s   string
		err string
	}
	cases := map[string]struct {
		reason string
		in     string
		want   want
	}{
		"Zero": {
			reason: "0/0 is the start.",
			in:     "0/0",
			want:   want{l: 0, s: "0/0"},
		},
		"Low": {
			reason: "The low half alone.",
			in:     "0/3000060",
			want:   want{l: 0x3000060, s: "0/3000060"},
		},
		"High": {
			reason: "Both halves: the high one counts 4 GiB each.",
			in:     "16/B374D848",
			want:   want{l: 0x16<<32 | 0xB374D848, s: "16/B374D848"},
		},
		"LowerCase": {
			reason: "Hexadecimal digits in either case.",
			in:     "a/ff",
			want:   want{l: 0xA<<32 | 0xFF, s: "A/FF"},
		},
		"NoSlash": {
			reason: "Not a pg_lsn.",
			in:     "3000060",
			want:   want{err: `cannot parse WAL position "3000060": want X/Y in hexadecimal`},
		},
		"TooBig": {
			reason: "Each half is 32 bits.",
			in:     "0/100000000",
			want:   want{err: `cannot parse WAL position "0/100000000": strconv.ParseUint: parsing "100000000": value out of range`},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			l, err := parseLSN(tc.in)
			got := want{l: l}
			if err != nil {
				got.err = err.Error()
			} else {
				got.s = l.String()
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("%s\nparseLSN(%q): -want, +got:\n%s", tc.reason, tc.in, diff)
			}
		})
	}
}

// TestLSNOrder: WAL positions compare as 64-bit numbers, not as text ("9/0" < "10/0", and a
// shorter low half is smaller).
func TestLSNOrder(t *testing.T) {
	cases := map[string]struct {
		reason string
		a, b   string
		want   int
	}{
		"HighHalf":  {reason: "The high half decides first, as a number.", a: "9/FFFFFFFF", b: "10/0", want: -1},
		"LowHalf":   {reason: "Then the low half, as a number.", a: "0/3000060", b: "0/2FFFFFF", want: 1},
		"Equal":     {reason: "Leading zeroes do not matter.", a: "0/0300", b: "0/300", want: 0},
		"CaughtUp":  {reason: "A replica that replayed past the fence has caught up.", a: "0/3004A28", b: "0/3004A10", want: 1},
		"TextOrder": {reason: "Text order would say the opposite.", a: "A/0", b: "9/0", want: 1},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			a, err := parseLSN(tc.a)
			if err != nil {
				t.Fatal(err)
			}
			b, err := parseLSN(tc.b)
			if err != nil {
				t.Fatal(err)
			}
			got := 0
			switch {
			case a < b:
				got = -1
			case a > b:
				got = 1
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\ncompare(%s, %s): -want, +got:\n%s", tc.reason, tc.a, tc.b, diff)
			}
		})
	}
}

// TestReadOnlyDefault: PostgreSQL reads a boolean setting with parse_bool: true, yes, on, 1 and
// unique prefixes of true and yes, in any case (https://www.postgresql.org/docs/15/config-setting.html,
// "Boolean: Values can be written as on, off, true, false, yes, no, 1, 0 (all case-insensitive)
// or any unambiguous prefix of one of these").
func TestReadOnlyDefault(t *testing.T) {
	cases := map[string]struct {
		reason    string
		setconfig []string
		want      bool
	}{
		"None":       {reason: "No database settings.", want: false},
		"Other":      {reason: "Other settings only.", setconfig: []string{"work_mem=64MB"}, want: false},
		"On":         {reason: "on", setconfig: []string{"work_mem=64MB", "default_transaction_read_only=on"}, want: true},
		"Off":        {reason: "off", setconfig: []string{"default_transaction_read_only=off"}, want: false},
		"TrueUpper":  {reason: "TRUE, in capitals.", setconfig: []string{"default_transaction_read_only=TRUE"}, want: true},
		"Prefix":     {reason: "A unique prefix of yes.", setconfig: []string{"default_transaction_read_only=ye"}, want: true},
		"One":        {reason: "1", setconfig: []string{"default_transaction_read_only=1"}, want: true},
		"Zero":       {reason: "0", setconfig: []string{"default_transaction_read_only=0"}, want: false},
		"Ambiguous":  {reason: "o is on or off: not true.", setconfig: []string{"default_transaction_read_only=o"}, want: false},
		"OtherParam": {reason: "transaction_read_only is another parameter.", setconfig: []string{"transaction_read_only=on"}, want: false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, readOnlyDefault(tc.setconfig)); diff != "" {
				t.Errorf("%s\nreadOnlyDefault(%q): -want, +got:\n%s", tc.reason, tc.setconfig, diff)
			}
		})
	}
}

func TestToFence(t *testing.T) {
	cases := map[string]struct {
		reason   string
		dbs      []database
		previous []string
		want     []string
	}{
		"All": {
			reason: "Every database that is not read-only is fenced.",
			dbs:    []database{{Name: "appdb"}, {Name: "postgres"}},
			want:   []string{"appdb", "postgres"},
		},
		"AlreadyReadOnly": {
			reason: "A database that is read-only already is left as it is: fenced by nobody, unfenced by nobody.",
			dbs:    []database{{Name: "appdb"}, {Name: "archive", ReadOnly: true}, {Name: "postgres"}},
			want:   []string{"appdb", "postgres"},
		},
		"Retry": {
			reason:   "A run that follows one that fenced and stopped fences (and may unfence) what that one fenced.",
			dbs:      []database{{Name: "appdb", ReadOnly: true}, {Name: "archive", ReadOnly: true}, {Name: "postgres", ReadOnly: true}},
			previous: []string{"appdb", "postgres"},
			want:     []string{"appdb", "postgres"},
		},
		"None": {
			reason: "Nothing to fence.",
			dbs:    []database{{Name: "archive", ReadOnly: true}},
			want:   nil,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, toFence(tc.dbs, tc.previous), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s\ntoFence(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
