#!/usr/bin/env bash
# Start the services the test suite talks to for real, when this user may, and write what the
# tests need to know into .test-env (sourced by `make test`). Idempotent.
set -uo pipefail
cd "$(dirname "$0")/.."
: > .test-env

# pcscd with the vsmartcard virtual reader (vpcd listens on 127.0.0.1:35963). A pcscd started
# before vsmartcard-vpcd was installed has no virtual reader: restart it then.
has_virtual_reader() {
	.venv/bin/python -c "from smartcard.System import readers; import sys; sys.exit(0 if any('Virtual PCD' in str(r) for r in readers()) else 1)" >/dev/null 2>&1
}
if command -v pcscd >/dev/null && [ "$(id -u)" -eq 0 ]; then
	if pgrep -x pcscd >/dev/null && ! has_virtual_reader; then
		pkill -x pcscd; sleep 1
	fi
	if ! pgrep -x pcscd >/dev/null; then
		pcscd >/dev/null 2>&1 || true
		for _ in 1 2 3 4 5 6 7 8 9 10; do has_virtual_reader && break; sleep 0.5; done
	fi
fi
if has_virtual_reader; then
	echo "KIOSK_TEST_PCSCD=1" >> .test-env
	# The restart test stops and starts the system pcscd: only where we own it (root).
	[ "$(id -u)" -eq 0 ] && echo "KIOSK_TEST_PCSCD_RESTART=1" >> .test-env
fi

# PostgreSQL: a throwaway cluster owned by the postgres user on a unix socket + 127.0.0.1:54329;
# without fsync (its data is scratch: a crash loses nothing the tests need, and every commit of
# the signed-request and idempotency tables would otherwise wait for the disk).
PG_PORT=54329
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -n "$PG_BIN" ] && [ "$(id -u)" -eq 0 ]; then
	PG_DIR=/tmp/kiosk-test-pg
	if ! su postgres -c "$PG_BIN/pg_ctl -D $PG_DIR status" >/dev/null 2>&1; then
		rm -rf "$PG_DIR"; mkdir -p "$PG_DIR"; chown postgres "$PG_DIR"
		su postgres -c "$PG_BIN/initdb -D $PG_DIR -A trust -U postgres" >/dev/null 2>&1
		su postgres -c "$PG_BIN/pg_ctl -D $PG_DIR -l $PG_DIR/log -o '-p $PG_PORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off' -w start" >/dev/null 2>&1
	fi
	if su postgres -c "$PG_BIN/pg_ctl -D $PG_DIR status" >/dev/null 2>&1; then
		echo "KIOSK_TEST_PG_URL=postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/postgres" >> .test-env
	fi
fi
exit 0
