#!/usr/bin/env bash
# Install the Swagger UI and ReDoc browser assets into DIR, for Covet(docs_assets=DIR):
#   scripts/fetch-docs-assets.sh DIR
# Uses the npm registry (npm must be installed). The versions match the pinned CDN
# releases of covet.openapi.docs; override with SWAGGER_UI_VERSION / REDOC_VERSION.
set -euo pipefail

if [ "$#" -ne 1 ] || [ -z "$1" ]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
dir="$1"
swagger_ui_version="${SWAGGER_UI_VERSION:-5.35.0}"
redoc_version="${REDOC_VERSION:-2.5.4}"

if ! command -v npm >/dev/null 2>&1; then
    echo "npm is required (apt-get install -y npm)" >&2
    exit 1
fi

mkdir -p "$dir"
bundle="$dir/node_modules/swagger-ui-dist/swagger-ui-bundle.js"
redoc="$dir/node_modules/redoc/bundles/redoc.standalone.js"
if [ -f "$bundle" ] && [ -f "$redoc" ] \
    && grep -q "\"version\": \"$swagger_ui_version\"" "$dir/node_modules/swagger-ui-dist/package.json" \
    && grep -q "\"version\": \"$redoc_version\"" "$dir/node_modules/redoc/package.json"; then
    echo "docs assets already in $dir"
    exit 0
fi

# --no-save: DIR needs no package.json; redoc's peer dependencies are bundled in
# redoc.standalone.js, so they are not installed.
npm install --prefix "$dir" --no-save --no-audit --no-fund --omit=peer --loglevel=error \
    "swagger-ui-dist@$swagger_ui_version" "redoc@$redoc_version"

for file in "$bundle" "$redoc" "$dir/node_modules/swagger-ui-dist/swagger-ui.css"; do
    if [ ! -s "$file" ]; then
        echo "missing after install: $file" >&2
        exit 1
    fi
done
echo "docs assets installed in $dir"
