#!/usr/bin/env bash
# Fails on any high or critical advisory in the runtime dependencies. A registry that does not
# serve npm's advisory endpoint cannot be asked: that is reported, not passed off as clean.
set -uo pipefail
out=$(npm audit --omit=dev --audit-level=high 2>&1)
status=$?
echo "$out" | grep -v 'Unknown user config' | tail -n 20
if [ $status -ne 0 ] && echo "$out" | grep -q 'audit endpoint returned an error'; then
  echo "npm audit: the registry did not answer the advisory request; runtime dependencies NOT audited in this run" >&2
  exit 0
fi
exit $status
