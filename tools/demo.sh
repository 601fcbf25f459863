#!/bin/bash
# Runs the bundled example under dpsupervise (see the BUILD target //:demo).
set -u
here="${RUNFILES_DIR:-$0.runfiles}/dpsupervise"
echo "\$ dpsupervise -- testdata/demo_packet_loop"
"$here/supervisor/dpsupervise" -- "$here/testdata/demo_packet_loop"
status=$?
echo
if [[ $status -eq 137 ]]; then
  echo "dpsupervise exited 137: the program was killed for its violation (the default action)."
  exit 0
fi
echo "dpsupervise exited $status"
exit "$status"
