#!/bin/sh
# Render today's messages from cron, e.g. every 10 minutes:
#
#   */10 * * * *  vmsg  /opt/vmsg/scripts/cron_example.sh /srv/messages/today.csv
#
# - vmsg holds a lock per batch file: a run that finds the previous one still going
#   exits 75 at once ("already running") and the next tick picks up what is left.
# - --resume is the default: finished videos (whose content hash matches) are skipped,
#   so a run killed half-way (reboot, OOM, kill -9) loses nothing.
# - Not a TTY, so progress goes to stderr as JSON lines: one log file per day.
# Exit codes: 0 all done, 1 some jobs failed (see the batch report), 2 bad input, 75 try later.
set -eu

BATCH="${1:?usage: cron_example.sh messages.csv [template.yaml]}"
TEMPLATE="${2:-/etc/vmsg/template.yaml}"
VMSG="${VMSG:-vmsg}"
LOG_DIR="${VMSG_LOG_DIR:-/var/log/vmsg}"
OUT_DIR="${VMSG_OUT_DIR:-/srv/videos}"

mkdir -p "$LOG_DIR" "$OUT_DIR"
log="$LOG_DIR/$(basename "$BATCH" | sed 's/\.[^.]*$//')-$(date -u +%Y%m%d).log"

# Optional: a shared cache and ledger when several machines render the same portraits.
#   export VMSG_CACHE_URL=redis://cache.internal:6379/0
#   export VMSG_LEDGER_URL=postgresql://vmsg@db.internal/vmsg
# Keep the local cache bounded (entries unused for 30 days, then at most 20 GiB):
"$VMSG" cache prune --older-than 30d --max-size 20G >>"$log" 2>&1 || true

status=0
"$VMSG" batch "$BATCH" --template "$TEMPLATE" --out-dir "$OUT_DIR" --jobs "${VMSG_JOBS:-2}" >>"$log" 2>&1 || status=$?
case "$status" in
  0)  ;;
  75) echo "$(date -u +%FT%TZ) $BATCH: temporary failure (busy, disk full or a service down); will retry" >>"$log"; status=0 ;;
  *)  echo "vmsg batch $BATCH failed with exit code $status; see $log" >&2 ;;
esac
exit "$status"
