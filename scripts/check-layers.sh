#!/bin/sh
# check-layers.sh DIR... - the layers are given top first (the Makefile's
# LAYERS); a source file in one of them may include headers of its own
# folder and of the folders after it (below it), never of one before it.
# Programs and modules outside the layers (ctl/, pam/, recorder/*.c, tests,
# fuzz) may use any layer. Prints each upward include and exits 1 if any.
set -eu
bad=0

# check-layers.sh --only DIR LAYER... - a program folder that may use only
# the layers named (web/: proto and base): any include of a header found
# in another layer folder is reported.
if [ "${1:-}" = "--only" ]; then
	prog=$2
	shift 2
	for f in "$prog"/*.[ch]; do
		[ -e "$f" ] || continue
		for h in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f"); do
			[ -e "$prog/$h" ] && continue
			ok=0
			for d in "$@"; do
				[ -e "$d/$h" ] && ok=1
			done
			if [ "$ok" = 0 ]; then
				echo "$f includes $h: $prog/ may use only" \
				    "$*" >&2
				bad=1
			fi
		done
	done
	[ "$bad" = 0 ] && echo "check-layers: $prog/ uses only $*"
	exit "$bad"
fi
n=$#
i=0
for dir in "$@"; do
	i=$((i + 1))
	# the layers above this one: the first i-1 arguments
	above=
	j=0
	for d in "$@"; do
		j=$((j + 1))
		[ "$j" -lt "$i" ] && above="$above $d"
	done
	for f in "$dir"/*.[ch]; do
		[ -e "$f" ] || continue
		for h in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f"); do
			for d in $above; do
				if [ -e "$d/$h" ] && [ ! -e "$dir/$h" ]; then
					echo "$f includes $d/$h: $d is a layer above $dir" >&2
					bad=1
				fi
			done
		done
	done
done
[ "$bad" = 0 ] && echo "check-layers: $n layers, no upward include"
exit "$bad"
