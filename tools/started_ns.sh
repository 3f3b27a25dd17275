#!/bin/sh
# When process $1 started, in ns since the epoch (Linux: from /proc); elsewhere, now.
now=$(date +%s%N)
if [ -n "${1:-}" ] && [ -r "/proc/$1/stat" ] && [ -r /proc/uptime ]; then
  # field 22 of /proc/<pid>/stat (start, clock ticks after boot); the name, field 2, may hold spaces
  start=$(sed 's/^.*) //' "/proc/$1/stat" | cut -d' ' -f20)
  up=$(cut -d' ' -f1 /proc/uptime)
  tck=$(getconf CLK_TCK 2>/dev/null || echo 100)
  awk -v now="$now" -v up="$up" -v st="$start" -v tck="$tck" \
    'BEGIN { t = now - (up - st / tck) * 1e9; if (t > now || t < now - 86400e9) t = now; printf "%.0f\n", t }'
else
  echo "$now"
fi
