# Thin wrappers over the npm scripts (the npm scripts are the vocabulary). Each target installs what it needs.
# make demo              the rollout, start to finish (DB=sqlite by default; DB=mysql uses MYSQL_URL)
# make demo SCENARIO=prefer-new-read   the same rollout with a v2 anti-pattern: the checker must catch it
# make test              typecheck + every test (set REQUIRE_MYSQL=1 REQUIRE_NGINX=1 to forbid skips, as CI does)
SHELL := /bin/bash
DB ?= sqlite
RESULTS_DIR ?= results
export DB RESULTS_DIR SCENARIO PAUSE DEMO_STEP_SECONDS MYSQL_URL BALANCER

.PHONY: demo test typecheck install clean

# npm ci only when package-lock.json changed since the last install.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: node_modules/.installed

demo: install
	npm run demo

test: install
	npm run typecheck
	npm test

typecheck: install
	npm run typecheck

clean:
	rm -rf results data
