#!/usr/bin/env bash
# uniffi bindings (bindings/, ios/, android/): build the host library and the CLI, check that the
# committed Kotlin/Swift/C bindings are exactly what uniffi-bindgen generates now, syntax-check the
# C header against the library's exports, then run the Kotlin JUnit tests on the JVM against the
# real engine and a real `peerchat serve` on 127.0.0.1.
# Swift (no compiler here) and Android (no SDK here) are only checked for freshness.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
target_dir=${CARGO_TARGET_DIR:-$repo/target}
export CARGO_TARGET_DIR=$target_dir

step() { echo "--- 30-bindings: $*"; }

# Tools: cargo and cc come with the Rust toolchain; Maven, a JDK, nm and python3 from Debian
# if missing.
if ! command -v mvn >/dev/null || ! command -v javac >/dev/null || ! command -v nm >/dev/null \
  || ! command -v python3 >/dev/null; then
  step "installing Maven, a JDK, binutils, python3"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq maven default-jdk-headless binutils \
    python3 >/dev/null
fi

step "cargo build (peerchat-ffi, uniffi-bindgen, peerchat-cli)"
# Separate invocations keep uniffi's `cli` feature out of the library's build.
cargo build --locked -p peerchat-ffi
cargo build --locked -p uniffi-bindgen
cargo build --locked -p peerchat-cli
lib="$target_dir/debug/libpeerchat_ffi.so"
[ -f "$lib" ] || { echo "missing $lib"; exit 1; }

step "bindings are freshly generated"
fresh=$(mktemp -d)
trap 'rm -rf "$fresh"' EXIT
bindings/generate.sh "$fresh" >/dev/null
stale=0
for path in bindings/kotlin/generated ios/Sources/PeerChat/PeerChat.swift ios/Headers; do
  if ! diff -r "$fresh/$path" "$repo/$path" >/dev/null; then
    echo "STALE: $path differs from what uniffi-bindgen generates now:"
    diff -r "$fresh/$path" "$repo/$path" | head -40 || true
    stale=1
  fi
done
if [ "$stale" -ne 0 ]; then
  echo "run bindings/generate.sh and commit the result"
  exit 1
fi

step "C header: syntax and symbols"
header=ios/Headers/PeerChatFFI.h
# Included from a translation unit, as a client would (twice: the include guards must hold).
tu='#include "PeerChatFFI.h"
#include "PeerChatFFI.h"'
if command -v clang >/dev/null; then
  echo "$tu" | clang -fsyntax-only -Wall -Wextra -Werror -std=c11 -I ios/Headers -x c -
else
  # gcc lacks clang's nullability qualifiers (_Nonnull, _Nullable), which Xcode's clang reads.
  echo "$tu" | cc -fsyntax-only -Wall -Wextra -Werror -std=c11 -D_Nonnull= -D_Nullable= \
    -I ios/Headers -x c -
fi
# The modulemap exposes that header as the module the generated Swift imports.
grep -q 'module PeerChatFFI' ios/Headers/module.modulemap
grep -q 'header "PeerChatFFI.h"' ios/Headers/module.modulemap
grep -q 'canImport(PeerChatFFI)' ios/Sources/PeerChat/PeerChat.swift
# Every function the header declares is exported by the library Swift links.
declared=$(grep -oE '\b(uniffi|ffi)_peerchat_ffi_[A-Za-z0-9_]+\(' "$header" | tr -d '(' | sort -u)
exported=$(nm -D --defined-only "$lib" | awk '{print $3}' | sort -u)
missing=$(comm -23 <(echo "$declared") <(echo "$exported"))
if [ -n "$missing" ]; then
  echo "declared in $header but not exported by $lib:"
  echo "$missing"
  exit 1
fi
echo "$(echo "$declared" | wc -l) header functions, all exported"

step "README examples are the tested code"
# Each fenced block after `<!-- example: PATH -->` in bindings/README.md and README.md must equal the lines
# between README-EXAMPLE-START and README-EXAMPLE-END of PATH.
python3 - bindings/README.md README.md <<'PY'
import re, sys
for readme_path in sys.argv[1:]:
    readme = open(readme_path).read()
    blocks = re.findall(r"<!-- example: (\S+) -->\n```\w+\n(.*?)```", readme, re.S)
    if len(blocks) != 2:
        sys.exit(f"expected 2 examples in {readme_path}, found {len(blocks)}")
    for path, block in blocks:
        source = open(path).read()
        m = re.search(r"README-EXAMPLE-START\n(.*?)^// README-EXAMPLE-END", source, re.S | re.M)
        if not m:
            sys.exit(f"{path}: no README-EXAMPLE-START/END markers")
        if m.group(1) != block:
            sys.exit(f"{readme_path}: the example quoted from {path} differs from the file")
        print(f"  {readme_path}: {path} quoted verbatim")
PY

step "Kotlin on the JVM: mvn test"
(cd bindings/kotlin && mvn -B -q test -Dpeerchat.target.dir="$target_dir")
# -q hides the summary: print it from the reports.
python3 - bindings/kotlin/target/surefire-reports <<'EOF'
import glob, sys, xml.etree.ElementTree as ET
total = failed = 0
for path in sorted(glob.glob(sys.argv[1] + "/TEST-*.xml")):
    s = ET.parse(path).getroot()
    n, f = int(s.get("tests")), int(s.get("failures")) + int(s.get("errors"))
    total, failed = total + n, failed + f
    print(f"  {s.get('name')}: {n} tests, {f} failed, {s.get('time')} s")
print(f"  JUnit: {total} tests, {failed} failed")
sys.exit(1 if failed or total == 0 else 0)
EOF
