# Thin wrappers over the npm scripts (the npm scripts are the vocabulary). Each target installs what it needs.
# make demo              the rollout, start to finish (DB=sqlite by default; DB=mysql uses MYSQL_URL)
# make demo SCENARIO=prefer-new-read   the same rollout with a v2 anti-pattern: the checker must catch it
# make demo DB=mysql-replica [SCENARIO=replica-reads]   its own MariaDB primary + GTID replica, reads from the replica, lag injected
# make test              typecheck + every test (set REQUIRE_MYSQL=1 REQUIRE_NGINX=1 to forbid skips, as CI does)
# make chaos [SCENARIO=kill-v2|sigterm-rolling|db-restart|crash-between-writes|backfill-resume] [CHAOS_SHORT=1]
#                        the fault scenarios under load, judged by the checker (MySQL/MariaDB at MYSQL_URL, nginx)
# make bench             what dual-write and dual-read cost, side by side on MySQL/MariaDB (~5 min; BENCH_SECONDS=3 per measurement)
SHELL := /bin/bash
DB ?= sqlite
RESULTS_DIR ?= results
export DB RESULTS_DIR SCENARIO PAUSE DEMO_STEP_SECONDS MYSQL_URL BALANCER BENCH_SECONDS CHAOS_SHORT DASHBOARD_PORT

.PHONY: demo test bench chaos typecheck install clean

# npm ci only when package-lock.json changed since the last install (a scripts edit in package.json needs none).
node_modules/.installed: package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: node_modules/.installed

demo: install
	npm run demo

bench: install
	npm run bench

chaos: install
	npm run chaos

test: install
	npm run typecheck
	npm test

typecheck: install
	npm run typecheck

clean:
	rm -rf results data
