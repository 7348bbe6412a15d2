#!/bin/bash
# SPDX-License-Identifier: MIT
# The Debian package as a host receives it: "make deb" (dpkg-buildpackage and
# lintian, which must report no error or warning), then the .deb unpacked into
# a throwaway root with dpkg-deb -x (no dpkg database, no container) and checked:
# - files, modes and owners; no test tool (fkbroker, fkcli) shipped;
# - DEBIAN/conffiles lists /etc/fkworker.conf, which is conf/fkworker.conf and
#   passes "fkworker -n" with the installed binary; the maintainer scripts
#   create the user (systemd-sysusers) and leave the service disabled;
# - the unit: every directive the service relies on, and systemd-analyze verify
#   (on a copy whose ExecStart/ExecReload point into the root, as verify checks
#   that the programs exist on this host; MANPATH points into the root, so the
#   man: links of Documentation= must resolve to the installed pages);
# - each man page renders with man -l without a warning (lintian's command line)
#   and passes mandoc -T lint at level warning; fkworker.conf(5) documents
#   every key, in the order of "fkworker -nn", and its EXAMPLES file is valid;
# - the example plugin builds from the installed copy against the installed
#   header through pkg-config, exports fkw_plugin_init, and the installed
#   fkworker loads it and runs its init.
. "$(dirname "$0")/lib.sh"
for tool in dpkg-buildpackage dh lintian systemd-analyze man mandoc pkg-config nm; do
	command -v $tool >/dev/null || fail "$tool is missing: run 'make setup' (scripts/setup.sh)"
done
unset FAKTORY_URL FAKTORY_SERVER_IP FAKTORY_PASSWORD WORKER_CONCURRENCY WORKER_CPUS
V=$(sed -n 's/.*SUP_VERSION[[:space:]]*"\([^"]*\)".*/\1/p' "$ROOT/supervisor/sup.h")
[ -n "$V" ] || fail "no SUP_VERSION in supervisor/sup.h"

# ---- build ----
make --no-print-directory -C "$ROOT" B="$B" deb >"$T/make-deb.log" 2>&1 ||
	{ tail -n 40 "$T/make-deb.log"; fail "make deb failed"; }
DEB="$B/deb/fkworker_${V}_$(dpkg --print-architecture).deb"
[ -f "$DEB" ] || fail "$DEB missing; $B/deb has: $(ls "$B/deb")"
tags=$(grep -E '^[EW]: ' "$B/deb/lintian.txt" || true)
[ -z "$tags" ] || fail "lintian: $tags"
R="$T/root"
dpkg-deb -x "$DEB" "$R"
dpkg-deb -e "$DEB" "$T/DEBIAN"
dpkg-deb -c "$DEB" >"$T/contents"

# ---- files ----
# mode owner path, as dpkg-deb -c lists them
while read -r mode path; do
	grep -Eq "^$mode root/root +[0-9]+ [0-9-]+ [0-9:]+ \./$path\$" "$T/contents" ||
		fail "not in the package as $mode root/root: $path"
done <<'EOF'
-rwxr-xr-x usr/sbin/fkworker
-rwxr-xr-x usr/bin/fkworkerctl
-rw-r--r-- etc/fkworker\.conf
-rw-r--r-- lib/systemd/system/fkworker\.service
-rw-r--r-- usr/lib/sysusers\.d/fkworker\.conf
-rw-r--r-- usr/include/fkworker\.h
-rw-r--r-- usr/share/pkgconfig/fkworker\.pc
-rw-r--r-- usr/share/man/man8/fkworker\.8\.gz
-rw-r--r-- usr/share/man/man8/fkworkerctl\.8\.gz
-rw-r--r-- usr/share/man/man5/fkworker\.conf\.5\.gz
-rw-r--r-- usr/share/doc/fkworker/copyright
-rw-r--r-- usr/share/doc/fkworker/examples/example\.c
drwxr-xr-x usr/lib/fkworker/plugins/
EOF
ls "$R"/usr/share/doc/fkworker/README.md* >/dev/null 2>&1 || fail "README.md not in /usr/share/doc/fkworker"
progs=$(cd "$R" && find . -type f -perm /111 | sort | tr '\n' ' ')
[ "$progs" = "./usr/bin/fkworkerctl ./usr/sbin/fkworker " ] || fail "executables shipped: $progs"
! grep -Eq 'fkbroker|fkcli' "$T/contents" || fail "a test tool is in the package"
cmp -s "$R/usr/include/fkworker.h" "$ROOT/worker/fkworker.h" || fail "installed header differs"
cmp -s "$R/usr/share/doc/fkworker/examples/example.c" "$ROOT/worker/examples/example.c" ||
	fail "installed example.c differs"

# ---- control data, conffile, maintainer scripts ----
grep -qx "Version: $V" "$T/DEBIAN/control" || fail "package version is not $V"
grep -q '^Depends:.*libsystemd0' "$T/DEBIAN/control" || fail "Depends lacks libsystemd0"
[ "$(cat "$T/DEBIAN/conffiles")" = "/etc/fkworker.conf" ] ||
	fail "conffiles: $(cat "$T/DEBIAN/conffiles")"
cmp -s "$R/etc/fkworker.conf" "$ROOT/conf/fkworker.conf" || fail "/etc/fkworker.conf is not conf/fkworker.conf"
out=$("$R/usr/sbin/fkworker" -n -c "$R/etc/fkworker.conf" 2>&1) ||
	fail "installed fkworker -n on the installed conffile: $out"
[ "$out" = "configuration OK" ] || fail "fkworker -n said: $out"
grep -q 'systemd-sysusers.* fkworker\.conf' "$T/DEBIAN/postinst" || fail "postinst does not create the user"
grep -q "deb-systemd-helper update-state 'fkworker.service'" "$T/DEBIAN/postinst" ||
	fail "postinst does not register the unit"
grep -q "was-enabled 'fkworker.service'" "$T/DEBIAN/postinst" ||
	fail "postinst enables the unit unconditionally (it must ship disabled)"
grep -q "deb-systemd-invoke stop 'fkworker.service'" "$T/DEBIAN/prerm" || fail "prerm does not stop the service"
grep -Eq '^u +fkworker ' "$R/usr/lib/sysusers.d/fkworker.conf" || fail "sysusers: no user fkworker"

# ---- the unit ----
U="$R/lib/systemd/system/fkworker.service"
for line in 'Type=notify' 'ExecStart=/usr/sbin/fkworker -c /etc/fkworker.conf' \
    'ExecReload=/usr/bin/fkworkerctl -c /etc/fkworker.conf reload' 'KillMode=mixed' 'Restart=on-failure' \
    'RestartPreventExitStatus=78' 'User=fkworker' 'Group=fkworker' 'RuntimeDirectory=fkworker' \
    'NoNewPrivileges=yes' 'ProtectSystem=strict' 'ProtectHome=yes' 'PrivateTmp=yes' \
    'WantedBy=multi-user.target'; do
	grep -qxF "$line" "$U" || fail "unit lacks: $line"
done
val() { sed -n "s/^$1=//p" "$U" | tail -n 1; }
secs() { case $1 in *min) echo $(( ${1%min} * 60 ));; *s) echo "${1%s}";; *) echo "$1";; esac; }
stop=$(secs "$(val TimeoutStopSec)")
wd=$(secs "$(val WatchdogSec)")
st=$(sed -n 's/^[[:space:]]*shutdown_timeout[[:space:]]*=[[:space:]]*\([0-9]*\);.*/\1/p' "$R/etc/fkworker.conf")
[ -n "$st" ] && [ -n "$stop" ] && [ "$stop" -ge $((st + 10)) ] ||
	fail "TimeoutStopSec=$stop is not above shutdown_timeout $st + 10 s"
[ -n "$wd" ] && [ "$wd" -gt 0 ] || fail "no WatchdogSec"
[ "$(val LimitNOFILE)" -ge 200000 ] || fail "LimitNOFILE=$(val LimitNOFILE) is too low for 100000 slots"
sock=$(sed -n 's/^[[:space:]]*socket[[:space:]]*=[[:space:]]*"\([^"]*\)";.*/\1/p' "$R/etc/fkworker.conf")
[ "$(dirname "$sock")" = "/run/$(val RuntimeDirectory)" ] ||
	fail "control.socket $sock is not in RuntimeDirectory=$(val RuntimeDirectory)"
[ "$(val User)" = "$(awk '$1 == "u" { print $2 }' "$R/usr/lib/sysusers.d/fkworker.conf")" ] ||
	fail "unit User= is not the sysusers user"
mkdir "$T/verify"
sed -e "s|/usr/sbin/fkworker|$R/usr/sbin/fkworker|g" -e "s|/usr/bin/fkworkerctl|$R/usr/bin/fkworkerctl|g" \
	"$U" >"$T/verify/fkworker.service"
changed=$(diff "$U" "$T/verify/fkworker.service" | grep -c '^>' || true)
[ "$changed" -eq 2 ] || fail "the verify copy changed $changed lines, expected ExecStart and ExecReload"
vout=$(cd "$T/verify" && MANPATH="$R/usr/share/man" systemd-analyze verify ./fkworker.service 2>&1) ||
	fail "systemd-analyze verify: $vout"
[ -z "$vout" ] || fail "systemd-analyze verify: $vout"

# ---- man pages ----
for p in man8/fkworker.8 man8/fkworkerctl.8 man5/fkworker.conf.5; do
	f="$R/usr/share/man/$p.gz"
	w=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$f" 2>&1 >/dev/null)
	[ -z "$w" ] || fail "man --warnings $p: $w"
	MANWIDTH=80 man -l "$f" 2>/dev/null | grep -q '^NAME' || fail "man -l $p renders no NAME"
	w=$(mandoc -T lint -W warning "$f" 2>&1) || fail "mandoc -T lint $p: $w"
done
zcat "$R/usr/share/man/man5/fkworker.conf.5.gz" >"$T/conf.5"
# Keys the page documents (.It Cm key No = ...), against those fkworker -nn prints.
sed -n 's/^\.It Cm \([a-z_.]*\) No =.*/\1/p' "$T/conf.5" | grep -E '\.|^handlers$' >"$T/keys.man"
"$R/usr/sbin/fkworker" -nn -c "$R/etc/fkworker.conf" | awk '
	/^[[:space:]]*#/ || /^[[:space:]]*$/ { next }
	inlist { if ($0 ~ /^[[:space:]]*\);/) inlist = 0; next }
	/^[[:space:]]*[a-z_]+ = \{/ { g[++n] = $1; next }
	/^[[:space:]]*\};/ { n--; next }
	/^[[:space:]]*[a-z_]+ = / {
		k = ""; for (i = 1; i <= n; i++) k = k g[i] "."
		print k $1
		if ($0 ~ /= \($/) inlist = 1
	}' >"$T/keys.nn"
[ -s "$T/keys.nn" ] || fail "fkworker -nn printed no keys"
diff "$T/keys.nn" "$T/keys.man" >"$T/keys.diff" ||
	fail "fkworker.conf(5) keys differ from fkworker -nn (< -nn, > man): $(cat "$T/keys.diff")"
awk '/^\.Sh EXAMPLES/ { e = 1 } e && /^\.Bd -literal/ { b = 1; next } b && /^\.Ed/ { exit } b' \
	"$T/conf.5" | sed -e "s|/etc/fkworker.secret|$T/secret|" -e "s|/usr/local/bin/resize|/bin/true|" \
	-e "s|/usr/lib/fkworker/plugins/app.so|$T/stand-in.so|" >"$T/example.conf"
# -n checks that the example's command and plugin exist and load: stand-ins above. The
# plugin is built plainly, as the installed fkworker is (a sanitizer build's would not load).
${CC:-cc} -shared -fPIC -I"$ROOT/worker" -o "$T/stand-in.so" "$ROOT/worker/examples/example.c" ||
	fail "cannot build the stand-in plugin"
echo "not-a-real-password" >"$T/secret"
out=$("$R/usr/sbin/fkworker" -n -c "$T/example.conf" 2>&1) || fail "fkworker.conf(5) EXAMPLES: $out"
[ "$(grep '^\.Sh' "$T/conf.5" | tail -n 1)" = ".Sh EXAMPLES" ] ||
	fail "fkworker.conf(5) does not end with EXAMPLES"

# ---- plugin against the installed header ----
export PKG_CONFIG_PATH="$R/usr/share/pkgconfig"
[ "$(pkg-config --modversion fkworker)" = "$V" ] || fail "fkworker.pc version is not $V"
pd=$(pkg-config --variable=plugindir fkworker)
[ -d "$R$pd" ] || fail "plugindir $pd is not in the package"
cflags=$(echo $(pkg-config --define-variable=prefix="$R/usr" --cflags fkworker))
[ "$cflags" = "-I$R/usr/include" ] || fail "pkg-config --cflags fkworker: $cflags"
mkdir "$T/plug"
cp "$R/usr/share/doc/fkworker/examples/example.c" "$T/plug/"
${CC:-cc} -std=c11 -Wall -Wextra -Werror -M $cflags "$T/plug/example.c" >"$T/plug/deps"
grep -q "$R/usr/include/fkworker.h" "$T/plug/deps" || fail "example.c did not use the installed header"
${CC:-cc} -std=c11 -Wall -Wextra -Werror -shared -fPIC $cflags -o "$T/plug/example.so" \
	"$T/plug/example.c" || fail "the example plugin does not build against the installed header"
nm -D --defined-only "$T/plug/example.so" | grep -q ' T fkw_plugin_init$' || fail "no fkw_plugin_init"
nm -D --defined-only "$T/plug/example.so" | grep -q ' [RD] fkw_plugin_api_version$' ||
	fail "no fkw_plugin_api_version"
nm -D --defined-only "$R/usr/sbin/fkworker" | awk '{ print $3 }' | sort >"$T/plug/exported"
for s in $(nm -D --undefined-only "$T/plug/example.so" | awk '$2 ~ /^fkw_/ { print $2 }'); do
	grep -qx "$s" "$T/plug/exported" || fail "the plugin needs $s, which fkworker does not export"
done
# The installed fkworker loads it: one child, a server that refuses, init logged.
cat >"$T/plug.conf" <<EOF
faktory = { url = "tcp://127.0.0.1:9"; };
worker = { concurrency = 1; cpus = 1; };
handlers = ( { jobtype = "echo"; plugin = "$T/plug/example.so"; } );
control = { socket = "$T/ctl.sock"; };
EOF
"$R/usr/sbin/fkworker" --single -c "$T/plug.conf" >"$T/single.log" 2>&1 &
W=$!
track $W
wait_for 10 grep -q 'example plugin ready (API 1' "$T/single.log" ||
	fail "installed fkworker did not load the plugin: $(tail -n 5 "$T/single.log")"
stop_pid $W 10
set +e
"$R/usr/bin/fkworkerctl" -s "$T/none.sock" status >/dev/null 2>&1
rc=$?
set -e
[ $rc -eq 69 ] || fail "fkworkerctl without a master exited $rc, not 69"
echo "# fkworker_${V}: lintian clean, $(grep -c '' "$T/contents") entries, unit verified, 3 man pages clean, plugin built and loaded"
