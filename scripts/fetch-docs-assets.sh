#!/usr/bin/env bash
# Put the Swagger UI and ReDoc browser assets into DIR, for Covet(docs_assets=DIR):
#   scripts/fetch-docs-assets.sh DIR
# Downloads the two npm packages (swagger-ui-dist, redoc) from the npm registry with
# `npm pack` and unpacks them as DIR/node_modules/<package>/ -- the layout of
# `npm install --prefix DIR`, without redoc's dependencies (its standalone bundle needs
# none). The versions match the pinned CDN releases of covet.openapi.docs; override with
# SWAGGER_UI_VERSION / REDOC_VERSION.
set -euo pipefail

if [ "$#" -ne 1 ] || [ -z "$1" ]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
dir="$1"
swagger_ui_version="${SWAGGER_UI_VERSION:-5.35.0}"
redoc_version="${REDOC_VERSION:-2.5.4}"

if ! command -v npm >/dev/null 2>&1; then
    echo "npm is required (for example: apt-get install -y npm)" >&2
    exit 1
fi

installed() {  # installed PACKAGE VERSION FILE: is that version already unpacked?
    local manifest="$dir/node_modules/$1/package.json"
    [ -s "$dir/node_modules/$1/$3" ] && [ -f "$manifest" ] \
        && grep -q "\"version\": *\"$2\"" "$manifest"
}

fetch() {  # fetch PACKAGE VERSION FILE
    local package=$1 version=$2 file=$3
    if installed "$package" "$version" "$file"; then
        echo "$package@$version already in $dir"
        return
    fi
    rm -f "$work"/*.tgz
    (cd "$work" && npm pack --silent --loglevel=error "$package@$version" >/dev/null)
    rm -rf "$dir/node_modules/$package"
    mkdir -p "$dir/node_modules/$package"
    tar -xzf "$work"/*.tgz -C "$dir/node_modules/$package" --strip-components=1
    if ! installed "$package" "$version" "$file"; then
        echo "unpacking $package@$version did not give $file" >&2
        exit 1
    fi
    echo "$package@$version unpacked into $dir/node_modules/$package"
}

mkdir -p "$dir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fetch swagger-ui-dist "$swagger_ui_version" swagger-ui-bundle.js
fetch redoc "$redoc_version" bundles/redoc.standalone.js
