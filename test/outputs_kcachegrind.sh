#!/bin/sh
# KCachegrind's source view finds a file whose profile was taken on
# Windows, once --map-path rewrites its name: a Tachyon profile of
# C:\Users\dev\proj is converted with --map-path 'C:\Users\dev\proj=WORK/src',
# KCachegrind (headless, Xvfb) selects app.py:12(load) and shows its Source
# Code tab; strace must see it open WORK/src/app.py. Without the mapping
# (the control) it must open nothing there. With SHOT=FILE.png, a
# screenshot of the mapped case is saved (docs/img comes from it).
#   outputs_kcachegrind.sh PSTATS2CALLGRIND SOURCE_DIR WORK_DIR
set -u
tool=$1 src=$2 work=$3
for p in kcachegrind xvfb-run dbus-run-session xdotool strace import; do
  command -v "$p" >/dev/null 2>&1 || { echo "SKIP: $p not installed"; exit 77; }
done
case $work in /*) ;; *) work=$(pwd)/$work ;; esac
rm -rf "$work"
mkdir -p "$work/home/.config" "$work/src/util"
printf '[TipOfDay]\nRunOnStart=false\n' >"$work/home/.config/kcachegrindrc"
i=1
while [ $i -le 45 ]; do echo "# line $i of app.py"; i=$((i + 1)); done >"$work/src/app.py"
cp "$work/src/app.py" "$work/src/util/text.py"
prof=$src/fixtures/sampled/tachyon-mix-windows-1ms.prof
"$tool" -o "$work/callgrind.out.mapped" --map-path "C:\\Users\\dev\\proj=$work/src" "$prof" 2>/dev/null ||
  { echo "conversion failed"; exit 1; }
"$tool" -o "$work/callgrind.out.unmapped" "$prof" 2>/dev/null || { echo "conversion failed"; exit 1; }
grep -q "^fl=([0-9]*) $work/src/app.py\$" "$work/callgrind.out.mapped" ||
  { echo "FAIL: no fl= line names $work/src/app.py"; exit 1; }

cat >"$work/session.sh" <<'EOS'
# inside Xvfb: open the file, select app.py:12(load), show its source
work=$1 name=$2 shot=$3
export HOME=$work/home XDG_CONFIG_HOME=$work/home/.config
strace -f -e trace=openat -o "$work/trace.$name" \
  kcachegrind -qwindowgeometry 1280x800+0+0 "$work/callgrind.out.$name" >"$work/kc.$name.log" 2>&1 &
sleep 7
xdotool mousemove 265 214 click 1; sleep 1     # the flat profile's 5th row: app.py:12(load)
xdotool mousemove 717 99 click 1; sleep 2      # the Source Code tab
[ -n "$shot" ] && import -window root "$shot"
tracer=$!
kill "$(pgrep -P "$tracer")" 2>/dev/null   # KCachegrind, the tracer's child
wait
EOS
fails=0
for name in mapped unmapped; do
  shot=""
  [ $name = mapped ] && shot=${SHOT:-}
  timeout 90 xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- \
    sh "$work/session.sh" "$work" $name "$shot" >"$work/session.$name.log" 2>&1
done
if grep -q "openat(.*\"$work/src/app.py\", O_RDONLY.*= [0-9]" "$work/trace.mapped"; then
  echo "ok - mapped: KCachegrind's source view opened $work/src/app.py"
else
  echo "FAIL - mapped: KCachegrind did not open $work/src/app.py"; fails=1
fi
if grep -q "openat(.*\"$work/src/" "$work/trace.unmapped"; then
  echo "FAIL - unmapped: KCachegrind opened a file under $work/src"; fails=1
else
  echo "ok - unmapped (control): no file found for C:\\Users\\dev\\proj\\app.py"
fi
grep -q 'app.py:12(load)' "$work/callgrind.out.mapped" || fails=1
[ $fails -eq 0 ]
