#!/usr/bin/env bash
# Install the Debian packages named as arguments that are not installed yet.
# Root: apt-get update (once) + install. Not root: say which are missing and how to get them.
set -euo pipefail
missing=()
for pkg in "$@"; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	[[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
		SUDO=sudo
	else
		echo "Missing Debian packages: ${missing[*]}" >&2
		echo "Install them with: sudo apt-get install -y ${missing[*]}" >&2
		exit 1
	fi
else
	SUDO=
fi
echo "Installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Another apt run (unattended-upgrades, a second make) holds the dpkg lock: wait, don't fail.
LOCK_WAIT=(-o DPkg::Lock::Timeout=300)
$SUDO apt-get "${LOCK_WAIT[@]}" update -qq
$SUDO apt-get "${LOCK_WAIT[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
