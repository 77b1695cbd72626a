#!/usr/bin/env bash
# tools/build.sh [family...]
#
# Builds the pinned components that the tests run (kube-apiserver, etcd, the
# test KMS plugin, ...) from the Go modules under tools/<family>/ into a cache
# outside the checkout, then points tools/.bin/<family> at the result:
#
#   ${ASK_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ask-kms-secret-encryption/tools}/<family>-<key16>/
#
# <key16> is the start of a sha256 over the family's go.mod, go.sum,
# build.list and own *.go files, `go version`, the target platform and the
# build flags below, so a change to any of them builds anew and an unchanged
# family is reused ("cached"). A cache directory is complete only once its
# .complete marker exists; it is built in a temporary directory and renamed
# into place.
#
# With no arguments it builds every family whose build.list is not marked
# "optional". Families: one directory per tools/<family>/build.list.
#
# Environment: ASK_TOOLS_CACHE (cache root), ASK_TOOLS_NICE (nice level of the
# go builds, default 15), GOMODCACHE/GOCACHE/GOPROXY as usual for go.
set -euo pipefail

tools_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache_root=${ASK_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ask-kms-secret-encryption/tools}
nice_level=${ASK_TOOLS_NICE:-15}

# go.sum is the pin: never let a build edit go.mod/go.sum, never switch to
# another Go toolchain behind our back, and build static binaries.
export GOFLAGS="-mod=readonly -buildvcs=false"
export GOTOOLCHAIN=local
export CGO_ENABLED=0
build_flags=(-trimpath)

die() {
	echo "tools/build.sh: $*" >&2
	exit 1
}

command -v go >/dev/null || die "go is not on PATH"
go_version=$(go version)

all_families=()
default_families=()
for list in "$tools_dir"/*/build.list; do
	[[ -e $list ]] || continue
	family=$(basename "$(dirname "$list")")
	all_families+=("$family")
	grep -qx 'optional' "$list" || default_families+=("$family")
done

if (($# == 0)); then
	set -- "${default_families[@]}"
fi
for family in "$@"; do
	[[ -f $tools_dir/$family/build.list ]] ||
		die "unknown family '$family' (known: ${all_families[*]})"
done

# family_key FAMILY: the cache key of a family (full sha256 hex).
family_key() {
	local dir=$tools_dir/$1
	{
		printf 'recipe: GOFLAGS=%s CGO_ENABLED=%s flags=%s\n' "$GOFLAGS" "$CGO_ENABLED" "${build_flags[*]}"
		printf '%s\n' "$go_version"
		(cd "$tools_dir" && go env GOOS GOARCH GOAMD64 GOARM64)
		(cd "$dir" && find . -type f \( -name go.mod -o -name go.sum -o -name build.list -o -name '*.go' \) \
			-not -path './testdata/*' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
	} | sha256sum | cut -c1-64
}

# link_bin FAMILY DIR: point tools/.bin/FAMILY at DIR (replacing atomically).
link_bin() {
	mkdir -p "$tools_dir/.bin"
	local tmp_link=$tools_dir/.bin/.$1.$$
	ln -sfn "$2" "$tmp_link"
	mv -Tf "$tmp_link" "$tools_dir/.bin/$1"
}

# build_family FAMILY OUTDIR: build every binary of FAMILY's build.list into OUTDIR.
build_family() {
	local family=$1 out=$2 dir=$tools_dir/$1
	local ldflags="" line name pkg rest start secs
	while IFS= read -r line || [[ -n $line ]]; do
		line=${line%%#*}
		read -r name pkg rest <<<"$line" || true
		[[ -z ${name:-} || $name == optional ]] && continue
		if [[ $name == ldflags ]]; then
			ldflags="${pkg:-}${rest:+ $rest}"
			continue
		fi
		[[ -n ${pkg:-} && -z ${rest:-} ]] || die "family $family: bad build.list line: $line"
		local cmd=(go build "${build_flags[@]}" -ldflags="$ldflags" -o "$out/$name" "$pkg")
		start=$(date +%s)
		if ! (cd "$dir" && nice -n "$nice_level" "${cmd[@]}"); then
			local shown
			printf -v shown '%q ' "${cmd[@]}"
			die "family $family: FAILED: (cd $dir && GOFLAGS='$GOFLAGS' GOTOOLCHAIN=$GOTOOLCHAIN CGO_ENABLED=$CGO_ENABLED ${shown% })"
		fi
		secs=$(($(date +%s) - start))
		printf '  %s/%s: %d s, %s\n' "$family" "$name" "$secs" "$(du -h "$out/$name" | cut -f1)"
	done <"$dir/build.list"
}

mkdir -p "$cache_root"
# Temporary directories of builds that were killed more than a day ago.
find "$cache_root" -maxdepth 1 -name '.tmp-*' -mmin +1440 -exec rm -rf {} + 2>/dev/null || true
trap 'exit 130' INT
trap 'exit 143' TERM
for family in "$@"; do
	key=$(family_key "$family")
	final=$cache_root/$family-${key:0:16}
	if [[ -f $final/.complete ]]; then
		link_bin "$family" "$final"
		echo "$family: cached ($final)"
		continue
	fi
	# A directory without its marker is debris from an older script; rebuild.
	[[ -e $final ]] && rm -rf "$final"

	start=$(date +%s)
	tmp=$(mktemp -d "$cache_root/.tmp-$family-XXXXXX")
	chmod 755 "$tmp"
	trap 'rm -rf "$tmp"' EXIT
	echo "$family: building into $final"
	build_family "$family" "$tmp"
	{
		echo "key $key"
		echo "$go_version"
		echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) in $(($(date +%s) - start)) s"
	} >"$tmp/.complete"
	if ! mv -T "$tmp" "$final" 2>/dev/null; then
		# Another run finished the same key first; keep its copy.
		[[ -f $final/.complete ]] || die "family $family: could not move $tmp to $final"
		rm -rf "$tmp"
	fi
	trap - EXIT
	link_bin "$family" "$final"
	echo "$family: built in $(($(date +%s) - start)) s ($final)"
done
