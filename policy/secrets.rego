package pgdr.security

# No secret values where they would be readable: in Lambda environments (visible to anyone who may
# read the function's configuration), in the XR's status, or in plaintext in any composed
# resource's spec. Messages never repeat the value.

# secret_name matches names of things that hold a secret.
secret_name := `(?i)(password|passwd|secret|token|credential|private_?key|api_?key)`

# plaintext_secret_fields are the spec fields that would hold a secret itself, not a reference to
# one: lower case, without underscores.
plaintext_secret_fields := {
	"password", "masterpassword", "masteruserpassword", "secretstring", "secretbinary",
	"secretkey", "secretaccesskey", "authtoken", "accesskey", "privatekey",
}

# credential_patterns are values that are credentials wherever they appear: a regular expression,
# and the literal markers one of which any match contains (a cheap test that comes first).
credential_patterns := {
	"an AWS access key id": {"markers": ["AKIA", "ASIA", "ABIA", "ACCA"], "re": `\b(AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b`},
	"a private key": {"markers": ["-----BEGIN"], "re": `-----BEGIN [A-Z ]*PRIVATE KEY`},
	"a URL with a password": {"markers": ["://"], "re": `[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@`},
	"a JSON web token": {"markers": ["eyJ"], "re": `eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.`},
	"a GitHub or Slack token": {"markers": ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "xox"], "re": `\b(gh[pousr]_[A-Za-z0-9]{36}|xox[abprs]-[A-Za-z0-9-]{10,})`},
}

# credential_markers are the markers of all credential_patterns.
credential_markers := {m | some p in credential_patterns; some m in p.markers}

# has_marker holds for a text that contains one of credential_markers.
has_marker(text) if {
	some m in credential_markers
	contains(text, m)
}

# credential_kinds are the credential_patterns a value matches.
credential_kinds(v) := {k |
	has_marker(v)
	some k, p in credential_patterns
	some m in p.markers
	contains(v, m)
	regex.match(p.re, v)
}

# random_looking holds for a long token of mixed-case letters and digits, as generated passwords
# and keys are; names, ids, ARNs and hostnames are not (case, separators).
random_looking(v) if {
	regex.match(`^[A-Za-z0-9+/=_-]{32,}$`, v)
	regex.match(`[a-z]`, v)
	regex.match(`[A-Z]`, v)
	regex.match(`[0-9]`, v)
}

# secret_kinds says what a value looks like, if it looks like a secret.
secret_kinds(v) := credential_kinds(v) | {"a long random-looking string" | random_looking(v)}

# env_vars are a Lambda function's environment variables (environment is an object in v1beta2, a
# list of one in v1beta1).
env_vars(f) := object.get(fp(f), ["environment", "variables"], {}) if not is_array(object.get(fp(f), "environment", null))

env_vars(f) := object.union_n([object.get(e, "variables", {}) | some e in fp(f).environment]) if is_array(fp(f).environment)

deny contains msg(f, "lambda-env-secret", sprintf("environment variable %s is named like a secret: pass its ARN (a *_ARN variable) and read it at run time", [k])) if {
	some f in of_kind("lambda", "Function")
	some k, _ in env_vars(f)
	regex.match(secret_name, k)
	not endswith(upper(k), "_ARN")
}

deny contains msg(f, "lambda-env-secret", sprintf("environment variable %s holds what looks like %s", [k, concat(" or ", sort(kinds))])) if {
	some f in of_kind("lambda", "Function")
	some k, v in env_vars(f)
	is_string(v)
	kinds := secret_kinds(v)
	count(kinds) > 0
}

# specs_json is the spec.forProvider of every composed resource as one JSON text: the rules on
# spec fields and values first test it as a whole, and examine the strings one by one only when it
# matches.
specs_json := json.marshal([fp(r) | some r in resources])

# spec_credentials holds when one of credential_markers is somewhere in the specs.
spec_credentials if has_marker(specs_json)

# spec_secret_fields holds when one of plaintext_secret_fields is a key somewhere in the specs.
spec_secret_fields if {
	regex.match(sprintf(`"(%s)":`, [concat("|", plaintext_secret_fields)]), replace(lower(specs_json), "_", ""))
}

# env_path holds for a path into a Lambda function's environment, which the rules above check.
env_path(r, path) if {
	is_kind(r, "lambda", "Function")
	path[0] == "environment"
}

deny contains msg(r, "spec-plaintext-secret", sprintf("spec.forProvider.%s is a plaintext secret: use its SecretRef", [concat(".", [sprintf("%v", [e]) | some e in path])])) if {
	spec_secret_fields
	some [i, path, v] in spec_strings
	count(path) > 0
	is_string(path[count(path) - 1])
	lower(replace(path[count(path) - 1], "_", "")) in plaintext_secret_fields
	v != ""
	r := resources[i]
	not env_path(r, path)
}

deny contains msg(r, "spec-plaintext-secret", sprintf("spec.forProvider.%s holds what looks like %s", [concat(".", [sprintf("%v", [e]) | some e in path]), concat(" or ", sort(kinds))])) if {
	spec_credentials
	some [i, path, v] in spec_strings
	kinds := credential_kinds(v)
	count(kinds) > 0
	r := resources[i]
	not env_path(r, path)
}

# status_path is a path into the XR's status, as messages print it.
status_path(path) := concat(".", array.concat(["status"], [sprintf("%v", [e]) | some e in path]))

deny contains msg(xr, "xr-status-secret", sprintf("%s is named like a secret: status must never hold one", [status_path(path)])) if {
	walk(object.get(xr, "status", {}), [path, v])
	count(path) > 0
	key := path[count(path) - 1]
	is_string(key)
	regex.match(secret_name, key)
	not regex.match(`(?i)(arn|ref|name)$`, key)
	not is_object(v)
}

deny contains msg(xr, "xr-status-secret", sprintf("%s holds what looks like %s", [status_path(path), concat(" or ", sort(kinds))])) if {
	walk(object.get(xr, "status", {}), [path, v])
	is_string(v)
	kinds := secret_kinds(v)
	count(kinds) > 0
}
