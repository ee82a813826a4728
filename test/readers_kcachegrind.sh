#!/bin/sh
# KCachegrind, headless (Xvfb): converted fixtures of every kind are opened,
# one KCachegrind per file; none may crash, and its loader must report
# nothing (it prints 'Loading "FILE" : LINE : "message"' on stderr for every
# line it rejects or repairs). With SHOT=FILE.png in the environment, a
# screenshot of the seed's fibonacci profile is saved (docs/img comes from it;
# with xdotool installed, fib_seq is selected and its callees shown first).
#   readers_kcachegrind.sh PSTATS2CALLGRIND SOURCE_DIR WORK_DIR
set -u
tool=$1 src=$2 work=$3
for p in kcachegrind xvfb-run dbus-run-session; do
  command -v "$p" >/dev/null 2>&1 || { echo "SKIP: $p not installed"; exit 77; }
done
case $work in /*) ;; *) work=$(pwd)/$work ;; esac
rm -rf "$work"
mkdir -p "$work/home/.config" "$work/logs"
printf '[TipOfDay]\nRunOnStart=false\n' >"$work/home/.config/kcachegrindrc"
P=$src/fixtures/profiles
"$tool" -o "$work/callgrind.out.fibonacci" "$src/fixtures/fibonacci.prof" 2>/dev/null || exit 1
for f in fib-cpython2.7-cprofile mix-cpython3.12-profile mix-yappi-cpython3.11 mix-pypy3.9-cprofile \
         synth-bigcounts synth-py2-big synth-negative synth-profilestyle; do
  "$tool" -o "$work/callgrind.out.$f" "$P/$f.prof" 2>/dev/null || { echo "conversion of $f failed"; exit 1; }
done
# recursion through a built-in: a cycle nobody else calls gets the
# pseudo-caller [spontaneous calls]; functions that cannot be exact are
# named in comment lines
"$tool" -o "$work/callgrind.out.shapes" "$src/fixtures/cycles/shapes-cpython3.11-cprofile.prof" \
  2>/dev/null || exit 1
"$tool" -o "$work/callgrind.out.profile-shapes" "$src/fixtures/cycles/shapes-cpython2.7-profile.prof" \
  2>/dev/null || exit 1
"$tool" --parts -o "$work/callgrind.out.parts" "$P/mix-cpython3.11-cprofile.prof" \
  "$P/mix-cpython3.12-cprofile.prof" 2>/dev/null || exit 1
"$tool" --call-events --unit us -o "$work/callgrind.out.events" "$P/mix-cpython3.11-cprofile.prof" \
  2>/dev/null || exit 1
# a pruned profile: its "[other] NAME" functions (docs/graphs.md)
"$tool" --node-thres 1 --edge-thres 0.5 -o "$work/callgrind.out.pruned" \
  "$P/mix-cpython3.11-cprofile.prof" 2>/dev/null || exit 1

cat >"$work/session.sh" <<'EOF'
#!/bin/sh
# inside Xvfb: one KCachegrind per file; all must still run after the wait
work=$1 shot=$2
export HOME=$work/home XDG_CONFIG_HOME=$work/home/.config
pids=""
first=1
for f in "$work/callgrind.out.fibonacci" "$work"/callgrind.out.*; do
  [ $first -eq 0 ] && [ "$f" = "$work/callgrind.out.fibonacci" ] && continue
  geometry=""
  [ $first -eq 1 ] && geometry="-qwindowgeometry 1280x800+0+0"
  # shellcheck disable=SC2086
  kcachegrind $geometry "$f" >"$work/logs/$(basename "$f").log" 2>&1 &
  pids="$pids $!"
  if [ $first -eq 1 ]; then
    sleep 6
    if [ -n "$shot" ] && command -v xdotool >/dev/null 2>&1; then
      # widen the flat profile, select fib_seq, show its callees
      xdotool mousemove 333 420; sleep 0.3; xdotool mousedown 1; sleep 0.3
      xdotool mousemove 400 420; sleep 0.2; xdotool mousemove 560 420; sleep 0.3
      xdotool mouseup 1; sleep 1
      xdotool mousemove 120 176 click 1; sleep 1
      xdotool mousemove 438 756 click 1; sleep 2
    fi
    [ -n "$shot" ] && import -window root "$shot"
    first=0
  fi
done
sleep 8
status=0
for p in $pids; do
  kill -0 "$p" 2>/dev/null || { echo "a KCachegrind exited early (crash?)"; status=1; }
  kill "$p" 2>/dev/null
done
wait
exit $status
EOF
timeout 120 xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- \
  sh "$work/session.sh" "$work" "${SHOT:-}" >"$work/session.log" 2>&1
st=$?
fails=0
for log in "$work"/logs/*.log; do
  if grep -q '^Loading ' "$log"; then
    echo "FAIL $(basename "$log" .log): KCachegrind's loader complained:"
    grep '^Loading ' "$log" | head -5 | sed 's/^/    /'
    fails=$((fails + 1))
  else
    echo "ok $(basename "$log" .log): loaded without a loader message"
  fi
done
[ $st -eq 0 ] || { echo "the KCachegrind session failed (status $st)"; cat "$work/session.log"; exit 1; }
[ $fails -eq 0 ]
