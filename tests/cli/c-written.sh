#!/usr/bin/env bash
# The kuberef tool on snapshots written through the C ABI
# (c-tests/cli/write_snapshot.c, which also writes the JSON lines `dump` owes
# each file, from kuberef_ref_to_json):
#
#   tests/cli/c-written.sh KUBEREF WRITE_SNAPSHOT [N]
#
# dump (all, and each filter) against the writer's lines; verify; stats'
# counts against the lines; diff of a snapshot and its next variant against
# the difference of their lines. Prints "N passed, N failed"; exit 1 on any
# failure.
set -uo pipefail
kuberef=$1
writer=$2
n=${3:-20000}
d=$(mktemp -d /tmp/kuberef-cli-c-XXXXXX)
trap 'rm -rf "$d"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "c-written: FAILED: $*"; fail=$((fail + 1)); }
same() { # same WHAT FILE1 FILE2
  if cmp -s "$2" "$3"; then ok; else bad "$1 ($(diff "$2" "$3" | head -4 | tr '\n' ' '))"; fi
}
equal() { # equal WHAT GOT WANT
  if [ "$2" = "$3" ]; then ok; else bad "$1: got '$2', want '$3'"; fi
}

"$writer" "$d/a.refs" "$n" 0 "$d/a.lines" 2>/dev/null || { echo "c-written: write_snapshot failed"; exit 1; }
"$writer" "$d/b.refs" "$n" 1 "$d/b.lines" 2>/dev/null || { echo "c-written: write_snapshot failed"; exit 1; }
sort "$d/a.lines" > "$d/a.want"
sort "$d/b.lines" > "$d/b.want"

# dump: every line, byte for byte (the file's order is the manager's shard order).
"$kuberef" dump "$d/a.refs" > "$d/a.dump"; equal "dump exit status" $? 0
sort "$d/a.dump" > "$d/a.got"
same "dump = kuberef_ref_to_json lines" "$d/a.got" "$d/a.want"
"$kuberef" dump --format json "$d/b.refs" | sort > "$d/b.got"
same "dump --format json (variant 1)" "$d/b.got" "$d/b.want"

# Filters, against the same selection of the writer's lines.
"$kuberef" dump --namespace payments "$d/a.refs" | sort > "$d/ns.got"
grep '"namespace":"payments"' "$d/a.want" > "$d/ns.want"
same "dump --namespace" "$d/ns.got" "$d/ns.want"
"$kuberef" dump --runtime docker "$d/a.refs" | sort > "$d/rt.got"
grep '^{"containerID":"docker://' "$d/a.want" > "$d/rt.want"
same "dump --runtime" "$d/rt.got" "$d/rt.want"
uid=$(head -n 1 "$d/a.want" | sed 's/.*"uid":"\([^"]*\)".*/\1/')
"$kuberef" dump --pod-uid "$uid" "$d/a.refs" | sort > "$d/uid.got"
grep -F "\"uid\":\"$uid\"" "$d/a.want" > "$d/uid.want"
same "dump --pod-uid" "$d/uid.got" "$d/uid.want"
"$kuberef" dump --format table --pod-uid "$uid" "$d/a.refs" > "$d/uid.table"
equal "dump --format table rows" "$(wc -l < "$d/uid.table")" "$(( $(wc -l < "$d/uid.want") + 1 ))"

# verify.
out=$("$kuberef" verify "$d/a.refs"); equal "verify exit status" $? 0
equal "verify says whole" "$(head -n 1 <<< "$out")" "$d/a.refs: whole"

# stats, against counts of the lines.
st=$("$kuberef" stats "$d/a.refs")
num() { grep -o "\"$1\":[0-9]*" <<< "$st" | head -n 1 | cut -d: -f2; } # the first: the file's
equal "stats records" "$(num records)" "$n"
equal "stats references" "$(num references)" "$(wc -l < "$d/a.want")"
equal "stats bytes" "$(num bytes)" "$(stat -c %s "$d/a.refs")"
pods=$(sed 's/.*"uid":"\([^"]*\)".*/\1/' "$d/a.want" | sort -u | wc -l)
equal "stats pods" "$(num pods)" "$pods"
docker=$(grep -c '^{"containerID":"docker://' "$d/a.want")
equal "stats docker references" "$(grep -o '{"runtime":"docker","references":[0-9]*}' <<< "$st")" \
  "{\"runtime\":\"docker\",\"references\":$docker}"

# diff: added, removed and changed container IDs, against the lines' difference.
key() { sed 's/^{"containerID":"\([^"]*\)".*/\1/' "$1" | sort; }
key "$d/a.want" > "$d/a.keys"
key "$d/b.want" > "$d/b.keys"
comm -13 "$d/a.keys" "$d/b.keys" > "$d/added.want"
comm -23 "$d/a.keys" "$d/b.keys" > "$d/removed.want"
comm -23 "$d/b.want" "$d/a.want" | key /dev/stdin | comm -12 - "$d/a.keys" > "$d/changed.want"
"$kuberef" diff "$d/a.refs" "$d/b.refs" > "$d/diff"; equal "diff exit status" $? 1
for c in added removed changed; do
  grep "^{\"change\":\"$c\"" "$d/diff" | sed 's/^{"change":"[a-z]*","containerID":"\([^"]*\)".*/\1/' | sort > "$d/$c.got"
  same "diff: $c" "$d/$c.got" "$d/$c.want"
done
equal "diff lines" "$(wc -l < "$d/diff")" "$(cat "$d"/{added,removed,changed}.want | wc -l)"
[ -s "$d/changed.want" ] && [ -s "$d/added.want" ] && [ -s "$d/removed.want" ] && ok || bad "the variant changes nothing"
"$kuberef" diff "$d/a.refs" "$d/a.refs" > "$d/nodiff"; equal "diff of a file with itself" "$?:$(wc -c < "$d/nodiff")" "0:0"

# Damage the C-written file: each class its exit status.
head -c -1 "$d/a.refs" > "$d/cut.refs"
"$kuberef" verify "$d/cut.refs" 2> "$d/err"; equal "truncated" $? 8
grep -q "truncated at byte $(( $(stat -c %s "$d/a.refs") - 1 )): " "$d/err" && ok || bad "truncated reason: $(cat "$d/err")"
cp "$d/a.refs" "$d/crc.refs"; printf 'X' | dd of="$d/crc.refs" bs=1 seek=100 conv=notrunc status=none
"$kuberef" verify "$d/crc.refs" 2> "$d/err"; equal "payload checksum" $? 9
grep -q "payload checksum mismatch: stored" "$d/err" && ok || bad "checksum reason: $(cat "$d/err")"

echo "c-written: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
