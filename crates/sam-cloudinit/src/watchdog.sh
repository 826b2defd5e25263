#!/bin/sh
# sam-watchdog: powers this workspace VM off when it has been idle for too long.
#
# Why: cost safety. The VM is billed while it runs, and the laptop that started it may be
# closed, asleep or offline, so nothing on the desktop side can be relied on to stop it.
# sam-host touches the activity stamp on every desktop contact and agent activity; once the
# stamp is older than the limit the machine powers off (its disk is kept; SAM Desktop starts
# it again when it is needed).
#
# Written by SAM Desktop through cloud-init; run every minute by sam-watchdog.timer.
# SAM_ACTIVITY_FILE, SAM_UPTIME_FILE and SAM_POWEROFF_CMD exist for tests only: systemd sets
# none of them, so the defaults below are what runs on the VM.
set -eu

idle_minutes=@IDLE_MINUTES@
stamp=${SAM_ACTIVITY_FILE:-/var/lib/sam/activity}
uptime_file=${SAM_UPTIME_FILE:-/proc/uptime}
poweroff_cmd=${SAM_POWEROFF_CMD:-systemctl poweroff}
limit_secs=$((idle_minutes * 60))

if [ ! -e "$stamp" ]; then
    # No stamp (first boot, or it was removed): start counting now rather than power off
    # blind. It takes its directory's owner so that sam-host, running as the workspace user,
    # can keep touching it.
    dir=$(dirname "$stamp")
    mkdir -p "$dir"
    touch "$stamp"
    chown --reference="$dir" "$stamp"
    exit 0
fi

# Just booted: sam-host needs time to start and touch the stamp, and the stamp may be older
# than the last power-off. Idle time from before this boot never counts.
read -r uptime_secs _rest < "$uptime_file"
uptime_secs=${uptime_secs%%.*}
if [ "$uptime_secs" -lt "$limit_secs" ]; then
    exit 0
fi

now=$(date +%s)
touched=$(stat -c %Y "$stamp")
idle_secs=$((now - touched))
if [ "$idle_secs" -lt "$limit_secs" ]; then
    exit 0
fi

echo "sam-watchdog: no activity for ${idle_secs}s (limit ${limit_secs}s); powering off"
# Split into words on purpose (a command and its arguments), never globbed or evaluated.
set -f
exec $poweroff_cmd
