#!/usr/bin/env bash
# Builds the training corpus of the bundled model from Debian's public-domain King James Bible
# (package bible-kjv). Output, under data/kjv/ (or $1):
#   train.txt    chapters used for training, one verse per line, chapters separated by a blank line
#   heldout.txt  every 20th chapter (index % 20 == 7), never seen in training
#   heldout-prompts.jsonl  in-domain prompts cut from held-out chapters ({"id","prompt","category"})
set -euo pipefail
out="${1:-$(cd "$(dirname "$0")/.." && pwd)/data/kjv}"
if ! command -v bible >/dev/null 2>&1; then
  echo "installing Debian package bible-kjv (public-domain KJV text)..." >&2
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get install -y bible-kjv >/dev/null 2>&1 || { $SUDO apt-get update >/dev/null && $SUDO apt-get install -y bible-kjv >/dev/null; }
fi
mkdir -p "$out"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
bible -f "Gen1:1-Rev22:21" > "$tmp"
# Lines look like "Ge1:1 In the beginning ..."; a verse may wrap onto following lines.
awk -v train="$out/train.txt" -v held="$out/heldout.txt" -v prompts="$out/heldout-prompts.jsonl" '
function flush_verse() {
  if (verse != "") { chap = chap (chap == "" ? "" : "\n") verse; verse = "" }
}
function flush_chapter(   f) {
  flush_verse()
  if (chap == "") return
  f = (nchap % 20 == 7) ? held : train
  printf "%s\n\n", chap > f
  if (nchap % 20 == 7) emit_prompts()
  chap = ""
}
function jsonstr(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); return "\"" s "\"" }
function emit_prompts(   n, lines, i, words, k, w, p) {
  # Two prompts per held-out chapter: its first verse, and the first half of its middle verse.
  n = split(chap, lines, "\n")
  printf "{\"id\":\"kjv-%s-a\",\"category\":\"kjv\",\"prompt\":%s}\n", ref, jsonstr(lines[1]) > prompts
  i = int((n + 1) / 2)
  k = split(lines[i], words, " ")
  p = words[1]
  for (w = 2; w <= int((k + 1) / 2); w++) p = p " " words[w]
  printf "{\"id\":\"kjv-%s-b\",\"category\":\"kjv\",\"prompt\":%s}\n", ref, jsonstr(p) > prompts
}
{
  if (match($0, /^[1-9]?[A-Za-z]+[0-9]+:[0-9]+ /)) {
    split(substr($0, 1, RLENGTH - 1), parts, ":")
    book_ch = parts[1]
    if (book_ch != cur) { flush_chapter(); cur = book_ch; nchap++; ref = book_ch }
    flush_verse()
    verse = substr($0, RLENGTH + 1)
  } else if ($0 != "") {
    verse = verse " " $0
  }
}
END { flush_chapter() }
' "$tmp"
rm -f "$out"/*.tmp
echo "wrote $(wc -l < "$out/train.txt") lines to $out/train.txt, $(wc -l < "$out/heldout.txt") to $out/heldout.txt, $(wc -l < "$out/heldout-prompts.jsonl") prompts" >&2
