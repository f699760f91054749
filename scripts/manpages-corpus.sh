#!/usr/bin/env bash
# Renders the Linux man pages (Debian's `manpages` and, when installed, `manpages-dev`) to plain
# text, one document per page: OUT/<section>/<page>.txt. A real English corpus that installs from
# Debian's packages, for tests, docs and `ltm experiment`. Pages that only redirect to another
# (".so") or render to under 200 bytes are skipped. Usage: scripts/manpages-corpus.sh OUT [MAX]
# MAX, when given, renders only the first MAX pages (in sorted path order) that are not redirects:
# a few dozen render in seconds, for tests.
set -euo pipefail
out=${1:?usage: scripts/manpages-corpus.sh OUT [MAX]}
max=${2:-0}
case "$max" in ''|*[!0-9]*) echo "manpages-corpus: MAX '$max' is not a number of pages" >&2; exit 2;; esac
command -v groff >/dev/null || { echo "manpages-corpus: groff is not installed (apt-get install groff-base)" >&2; exit 2; }
pages=$(dpkg -L manpages manpages-dev 2>/dev/null | grep -E '^/usr/share/man/man[0-9]/.*\.gz$' | sort || true)
[ -n "$pages" ] || { echo "manpages-corpus: no pages found (apt-get install manpages)" >&2; exit 2; }
if [ "$max" -gt 0 ]; then
  pages=$(n=0; for p in $pages; do
    [ "$n" -ge "$max" ] && break
    zcat "$p" | head -c 200 | grep -q '^\.so ' || { echo "$p"; n=$((n + 1)); }
  done)
fi
mkdir -p "$out"
render() {
  local page=$1 out=$2 section name text
  section=$(basename "$(dirname "$page")")
  name=$(basename "$page" .gz)
  zcat "$page" | head -c 200 | grep -q '^\.so ' && return 0
  mkdir -p "$out/$section"
  # -Tutf8 with -P-cbou: no SGR escapes, no overstrike; col -bx drops what is left of backspaces;
  # the indentation and the justification's padding go (runs of spaces become one), as do runs of blank lines.
  text=$(zcat "$page" | MANWIDTH=80 groff -t -man -Tutf8 -P-cbou 2>/dev/null | col -bx \
         | iconv -f utf-8 -t utf-8 -c | sed -E 's/^ +//; s/ {2,}/ /g' | cat -s)
  [ "${#text}" -ge 200 ] && printf '%s\n' "$text" > "$out/$section/$name.txt"
  return 0
}
export -f render
printf '%s\n' $pages | xargs -P "$(nproc)" -I{} bash -c 'render "$1" "$2"' _ {} "$out"
n=$(find "$out" -name '*.txt' | wc -l)
echo "manpages-corpus: $n documents, $(du -sh "$out" | cut -f1) in $out"
