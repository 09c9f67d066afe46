#!/bin/sh
# The lint gates; any finding fails the run (CI runs this on the Debian 12 host before
# scripts/test.sh: clang-format's output differs between Debian 12's 14 and 13's 19).
#   clang-format  --dry-run -Werror on every C++ file (.clang-format at the root)
#   ShellCheck    every POSIX sh and bash script and plugin (found by name and #! line, so
#                 new scripts are checked too); plugins/shell/iotspot.zsh and
#                 iotspot.fish are not sh (shellcheck supports neither zsh nor fish), so they
#                 are excluded; tests/e2e/test_shells.py runs them in the real shells
#   eslint        the Postman, Bruno and Insomnia scripts, tests/e2e/support/*.js, scripts/*.js
#                 (pinned in tests/node, installed into build-node/ by scripts/bootstrap.sh)
#   pyflakes3     the HTTPie plugin, the e2e tests, tests/fuzz/real_shells.py, scripts/lint/
#                 and scripts/lib/
#   clang-tidy    every .cpp under src/ and tests/fuzz/, with build/compile_commands.json and the
#                 checks in .clang-tidy (its comments say which and why)
#   layers        every #include "layer/..." under src/ against the table "Which may include
#                 which" in docs/architecture.md (scripts/lint/layers.py)
#   scripts/lint.sh [GATE...]   GATE: format shell js python tidy layers (default: all)
set -eu
cd "$(dirname "$0")/.."

gates=${*:-format shell js python tidy layers}
failed=""

cpp_files() {
  git ls-files --cached --others --exclude-standard -- '*.cpp' '*.h'
}

gate_format() {
  cpp_files | xargs clang-format --dry-run -Werror
}

# Every *.sh and *.bash file and every file whose #! line names sh, dash or bash; the zsh and
# fish plugins are the only shell files left out (see the top).
shell_files() {
  git ls-files --cached --others --exclude-standard | while IFS= read -r f; do
    case "$f" in
      *.sh | *.bash) echo "$f" ;;
      *) head -n 1 "$f" 2>/dev/null | grep -Eq '^#! *(/usr)?/bin/(env +)?(sh|dash|bash)( |$)' &&
        echo "$f" ;;
    esac
  done
}

gate_shell() {
  shell_files | xargs -d '\n' shellcheck
}

gate_js() {
  [ -x build-node/node_modules/.bin/eslint ] || scripts/bootstrap.sh --test
  NODE_PATH="$PWD/build-node/node_modules" build-node/node_modules/.bin/eslint \
    --config tests/node/eslint.config.cjs --max-warnings 0 \
    plugins/postman/pre-request.js plugins/postman/post-response.js plugins/bruno/pre-request.js \
    plugins/bruno/post-response.js plugins/insomnia/main.js \
    tests/e2e/support/*.js scripts/*.js
}

gate_python() {
  pyflakes3 plugins/httpie tests/e2e tests/fuzz/*.py scripts/lint scripts/lib/*.py
}

gate_tidy() {
  [ -f build/compile_commands.json ] || scripts/build.sh
  git ls-files --cached --others --exclude-standard -- 'src/*.cpp' 'tests/fuzz/*.cpp' |
    xargs -P 2 -n 4 clang-tidy -p build --quiet --warnings-as-errors='*'
}

gate_layers() {
  python3 scripts/lint/layers.py
}

for gate in $gates; do
  case "$gate" in
    format | shell | js | python | tidy | layers) ;;
    *) echo "usage: scripts/lint.sh [format|shell|js|python|tidy|layers]..." >&2; exit 2 ;;
  esac
  echo "== lint: $gate"
  if ! "gate_$gate"; then
    failed="$failed $gate"
  fi
done
if [ -n "$failed" ]; then
  echo "lint: failed:$failed" >&2
  exit 1
fi
echo "lint: all gates passed"
