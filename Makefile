# Thin wrappers over the npm scripts (the npm scripts are the vocabulary). Each target installs what it needs.
# make demo              the rollout, start to finish (DB=sqlite by default; DB=mysql uses MYSQL_URL)
# make demo SCENARIO=prefer-new-read   the same rollout with a v2 anti-pattern: the checker must catch it
# make demo DB=mysql-replica [SCENARIO=replica-reads]   its own MariaDB primary + GTID replica, reads from the replica, lag injected
# make demo SYNC=trigger    the same rollout with the sync triggers instead of app dual-write (MAPPING=orders-address has no SQL form: refused)
# make preflight         before a workshop: Node, free ports, SQLite (needed); MariaDB and nginx (optional). Installs nothing.
# make workshop          the sandbox: fleet, balancer, load and a dashboard with controls, until Ctrl-C (DB=sqlite|mysql)
# make test              typecheck + the migration linter + the import and code lint (npm run lint) + every test but the long matrices (set REQUIRE_MYSQL=1 REQUIRE_NGINX=1 to forbid skips, as CI does)
# make test-full         the long matrices (test/**/*.full.test.ts: chaos short forms, every anti-pattern demo, the workshop run as written); CI runs it after make test
# make chaos [SCENARIO=kill-v2|sigterm-rolling|db-restart|crash-between-writes|backfill-resume|late-v1|cut-off-v2|frozen-v1] [CHAOS_SHORT=1] [SYNC=trigger]
#                        the fault scenarios under load, judged by the checker (MySQL/MariaDB at MYSQL_URL, nginx)
# make bench             what dual-write and dual-read cost, side by side on MySQL/MariaDB (≤ 5 min; BENCH_SECONDS=2 per measurement, BENCH_LONG=1 for the long mode)
# make drift             three rollout demos with the load paced at DEMO_RATE (300 requests/s), then the bench judges their p99 drift (~5 min)
SHELL := /bin/bash
DB ?= sqlite
RESULTS_DIR ?= results
export DB MAPPING SYNC RESULTS_DIR SCENARIO PAUSE DEMO_STEP_SECONDS MYSQL_URL BALANCER BENCH_SECONDS CHAOS_SHORT DASHBOARD_PORT

.PHONY: demo workshop preflight test test-full bench drift chaos typecheck install clean

# npm ci only when package-lock.json changed since the last install (a scripts edit in package.json needs none).
node_modules/.installed: package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: node_modules/.installed

demo: install
	npm run demo

# Installs nothing: after npm ci it says whether this machine can run the workshop.
preflight:
	@test -d node_modules || { echo "preflight: no node_modules: run npm ci first (Node 20+)"; exit 1; }
	npm run preflight

workshop: install
	npm run workshop

bench: install
	npm run bench

# The drift figure compares steps at a similar rate, so the load is paced (DEMO_DRIFT_RATE in load/bench/report.ts
# is the same 300): as fast as the answers come, step 2's mostly-v1 fleet and the later v2 pair serve different rates.
drift: install
	@for i in 1 2 3; do echo "drift: demo $$i of 3, the load paced at $(or $(DEMO_RATE),300) requests/s"; DEMO_RATE=$(or $(DEMO_RATE),300) npm run demo || exit 1; done
	BENCH_PARTS=demo npm run bench

chaos: install
	npm run chaos

# The tests run the apps and tools compiled (.compiled/, built after typecheck): the same code, without tsx's
# start-up in each of the few hundred processes they start (load/infra/entry-points.ts).
test: install
	npm run typecheck
	npm run db:lint
	npm run lint
	npm run build:test
	COMPILED_ENTRY_POINTS=.compiled npm test

test-full: install
	npm run build:test
	COMPILED_ENTRY_POINTS=.compiled npm run test:full

typecheck: install
	npm run typecheck

clean:
	rm -rf results data
