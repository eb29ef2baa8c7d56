#!/usr/bin/env bash
# Unit tests of the pure-C core (src/core), with AddressSanitizer and UBSan: no server.
set -euo pipefail
cd "$(dirname "$0")/../.."
cc=${CC:-gcc}
flags="-std=c99 -Wall -Wextra -Werror -g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -Isrc/core"
status=0
for t in test/core/test_*.c; do
  bin=${t%.c}.bin
  $cc $flags -o "$bin" "$t" src/core/*.c
  if ! "./$bin"; then
    status=1
  fi
done
exit $status
