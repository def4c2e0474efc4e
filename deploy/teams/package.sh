#!/bin/sh
# Builds the Teams app package (manifest.json + icons) to upload in Teams
# ("Apps > Manage your apps > Upload an app") or the Teams admin center.
#
#   MICROSOFT_APP_ID=<Azure Bot app ID> BOT_DOMAIN=itfit.example.com \
#     deploy/teams/package.sh [output.zip]
#
# APP_VERSION (default 1.0.0) must go up each time an updated package is
# uploaded. Default output: deploy/teams/build/itfit-teams.zip.
set -eu

dir=$(cd "$(dirname "$0")" && pwd)
: "${MICROSOFT_APP_ID:?set MICROSOFT_APP_ID to the Azure Bot app ID (a GUID)}"
: "${BOT_DOMAIN:?set BOT_DOMAIN to the host of the messaging endpoint, e.g. itfit.example.com}"
APP_VERSION=${APP_VERSION:-1.0.0}

# Checked strictly: they are substituted into JSON with sed.
echo "$MICROSOFT_APP_ID" | grep -Eqx '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}' ||
	{ echo "package.sh: MICROSOFT_APP_ID is not a GUID: $MICROSOFT_APP_ID" >&2; exit 1; }
echo "$BOT_DOMAIN" | grep -Eqx '[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?' ||
	{ echo "package.sh: BOT_DOMAIN must be a bare host name (no https://, no path): $BOT_DOMAIN" >&2; exit 1; }
echo "$APP_VERSION" | grep -Eqx '[0-9]+\.[0-9]+\.[0-9]+' ||
	{ echo "package.sh: APP_VERSION must look like 1.2.3: $APP_VERSION" >&2; exit 1; }

out=${1:-$dir/build/itfit-teams.zip}
mkdir -p "$(dirname "$out")"
case $out in /*) ;; *) out=$(pwd)/$out ;; esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed -e "s/{{MICROSOFT_APP_ID}}/$MICROSOFT_APP_ID/g" \
	-e "s/{{BOT_DOMAIN}}/$BOT_DOMAIN/g" \
	-e "s/{{APP_VERSION}}/$APP_VERSION/g" \
	"$dir/manifest.json" >"$tmp/manifest.json"
if grep -q '{{' "$tmp/manifest.json"; then
	echo "package.sh: a placeholder was left in manifest.json" >&2
	exit 1
fi
cp "$dir/color.png" "$dir/outline.png" "$tmp/"

rm -f "$out"
# Teams wants the three files at the root of the zip, not in a folder.
if command -v zip >/dev/null 2>&1; then
	(cd "$tmp" && zip -q -X "$out" manifest.json color.png outline.png)
else
	(cd "$tmp" && python3 -m zipfile -c "$out" manifest.json color.png outline.png)
fi
echo "wrote $out"
