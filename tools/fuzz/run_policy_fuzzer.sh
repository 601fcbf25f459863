#!/bin/bash
# Builds the libFuzzer target of the policy parser (tools/fuzz/policy_fuzzer.cc)
# with clang, ASan and UBSan, outside Bazel (whose toolchain here is gcc), and
# runs it.
#
#   tools/fuzz/run_policy_fuzzer.sh [SECONDS] [LIBFUZZER_ARGS...]
#
# SECONDS defaults to 60. The corpus is seeded from testdata/policies/ and kept
# in $DPSUPERVISE_FUZZ_OUT (default /tmp/dpsupervise-policy-fuzz) across runs;
# crashes, timeouts (> 1 s for one input) and out-of-memory inputs are written
# to its artifacts/ folder. Exits non-zero when the fuzzer found something.
#
# Reproduce one finding:
#   DPSUPERVISE_FUZZ_POLICY_DIR=$PWD/testdata/policies \
#     $DPSUPERVISE_FUZZ_OUT/policy_fuzzer $DPSUPERVISE_FUZZ_OUT/artifacts/crash-...
# To keep going past findings and collect them all (what was run for issue 8):
#   tools/fuzz/run_policy_fuzzer.sh 600 -fork=1 -ignore_crashes=1 \
#     -ignore_timeouts=1 -ignore_ooms=1 -len_control=0 -max_len=8192 \
#     -use_value_profile=1
#
# Needs Debian's clang and libclang-rt-14-dev (installed here when missing).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
readonly repo="$PWD"

seconds="${1:-60}"
if (($# > 0)); then shift; fi
readonly out="${DPSUPERVISE_FUZZ_OUT:-/tmp/dpsupervise-policy-fuzz}"
readonly cxx="${CXX_FOR_FUZZING:-clang++}"

missing=()
command -v "$cxx" >/dev/null || missing+=(clang)
if ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  missing+=(libclang-rt-14-dev)
fi
for pkg in libseccomp-dev libabsl-dev; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
    missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "run_policy_fuzzer: installing ${missing[*]}" >&2
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >&2
fi

mkdir -p "$out/corpus" "$out/artifacts"

# The sources ParsePolicy and BuildStrictFilter need, and the Abseil
# libraries of third_party/BUILD (absl_status, absl_strings).
readonly sources=(
  tools/fuzz/policy_fuzzer.cc
  supervisor/policy/policy.cc
  supervisor/policy/policy_compile_check.cc
  supervisor/policy/policy_constants.cc
  supervisor/policy/edit_distance.cc
  supervisor/policy/policy_lexer.cc
  supervisor/policy/policy_lowering.cc
  supervisor/policy/policy_merge.cc
  supervisor/policy/policy_parser.cc
  supervisor/policy/action.cc
  supervisor/seccomp/filter.cc
  supervisor/os/send_signal.cc
  supervisor/syscalls/syscall_names.cc
  supervisor/model/violation.cc
)
readonly libs=(
  -lseccomp
  -labsl_statusor -labsl_status -labsl_cord -labsl_str_format_internal -labsl_strings
  -labsl_strings_internal -labsl_throw_delegate -labsl_raw_logging_internal -labsl_base
  -labsl_int128
)
readonly binary="$out/policy_fuzzer"
echo "run_policy_fuzzer: building $binary" >&2
"$cxx" -std=c++17 -g -O1 -fno-omit-frame-pointer \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -I"$repo" "${sources[@]}" "${libs[@]}" -o "$binary"

# Seeds: the example policies, valid and malformed.
cp testdata/policies/*.policy "$out/corpus/"

# Tokens of the policy language, so mutations make near-valid lines.
cat >"$out/policy.dict" <<'EOF'
"arg0"
"arg1"
"arg5"
"arg6"
"=="
"!="
"<="
">="
"<"
">"
"&"
" in "
"&&"
"||"
"|"
"~"
"("
")"
"{"
"}"
","
":"
";"
"\\\x0a"
"\x0a"
"#"
": 1"
"allow"
"return"
"return EPERM"
"EPERM"
"0x"
"-1"
"0777"
"18446744073709551616"
"O_RDONLY"
"PROT_EXEC"
"SIGRTMIN+2"
"@include "
"@include common.policy"
"@include cycle_a.policy"
"@include fuzz.policy"
"@action "
"@action syscall "
"@action default "
"page_fault"
"signal SIGUSR1"
"errno"
"kill"
"@preflight "
"enforce"
"@frequency"
"@default"
"write"
"read"
"ioctl"
"prctl"
EOF

echo "run_policy_fuzzer: fuzzing ParsePolicy for ${seconds}s (corpus $out/corpus)" >&2
before=$(find "$out/artifacts" -type f | wc -l)
status=0
DPSUPERVISE_FUZZ_POLICY_DIR="$repo/testdata/policies" \
ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}" \
UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
  "$binary" -max_total_time="$seconds" -timeout=1 -rss_limit_mb=2048 -max_len=65536 \
  -dict="$out/policy.dict" -artifact_prefix="$out/artifacts/" -print_final_stats=1 \
  "$@" "$out/corpus" || status=$?
# With -fork=N -ignore_crashes=1 (to go on past a known finding) libFuzzer
# exits 0 even when it saved crashes: new artifacts count as a failure too.
after=$(find "$out/artifacts" -type f | wc -l)
if ((status == 0 && after > before)); then status=1; fi
if ((status != 0)); then
  echo "run_policy_fuzzer: the fuzzer found a problem (exit $status); artifacts:" >&2
  ls -lt "$out/artifacts" >&2
fi
exit "$status"
