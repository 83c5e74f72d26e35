#!/bin/sh
# Embeds a text file into C as `const char SYMBOL[]` (used for the Lua prelude), so the binary
# needs no files beside it at run time.  Usage: embed_text.sh SYMBOL FILE > out.c
set -eu
sym=$1 file=$2
printf '/* generated from %s by scripts/embed_text.sh; do not edit */\n' "$file"
printf 'const char %s[] =\n' "$sym"
sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/    "/' -e 's/$/\\n"/' "$file"
printf '    ;\n'
