# The two commands a new user needs: `make run` and `make test`. Both install what is missing first.
SHELL := /bin/bash
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
NPM_STAMP := node_modules/.install-stamp
HARNESS := node bin/harness.js
SCENARIO ?= smoke

.PHONY: setup toolchain run test test-under-load fuzz bench bench-server bench-proxy bench-checkers bench-phone bench-load bench-web bench-ble bench-report bench-scale bench-bridge bench-fit lint typecheck chromium clean doctor

setup: $(NPM_STAMP) chromium

# A node_modules that is a symlink (a git worktree sharing another checkout's packages) is never
# reinstalled: `npm ci` would follow the link and empty the other checkout's packages.
$(NPM_STAMP): package.json package-lock.json | toolchain
	@if [ -L node_modules ]; then echo "node_modules is a symlink (shared); not reinstalling"; \
	else npm ci --no-audit --no-fund && touch $@; fi

# Native modules (better-sqlite3) compile from source when no prebuilt binary fits: node-gyp needs
# python3, make and a C++ compiler. A fresh Debian machine has none of them.
TOOLCHAIN_MISSING = $(strip $(if $(shell command -v python3),,python3) $(if $(shell command -v make),,make) $(if $(shell command -v g++),,g++))
toolchain:
	@if [ -L node_modules ] || [ -z "$(TOOLCHAIN_MISSING)" ]; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		echo "installing $(TOOLCHAIN_MISSING) (native modules build from source)…"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(TOOLCHAIN_MISSING) >/dev/null; \
	else echo "note: $(TOOLCHAIN_MISSING) missing; run 'sudo apt-get install -y $(TOOLCHAIN_MISSING)' if npm ci fails to build better-sqlite3"; fi

# Web devices and the HTML report screenshots need Debian's Chromium (never a downloaded browser).
chromium:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's chromium (web devices need it)…"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || echo "warning: could not install chromium; web scenarios will be skipped"; \
	else echo "note: /usr/bin/chromium missing; run 'sudo apt-get install -y chromium' for web devices"; fi

run: setup
	$(HARNESS) run $(SCENARIO) $(ARGS)

test: setup
	npx vitest run

# The same suite beside two CPU-bound processes: tests must wait for events, never for fixed times.
test-under-load: setup
	bash bench/test-under-load.sh

# 10,000 hostile requests against the reference server (issue #18); ARGS="--seed N --count N".
fuzz: $(NPM_STAMP)
	npx tsx server/fuzz/main.ts $(ARGS)

typecheck: $(NPM_STAMP)
	npx tsc --noEmit -p .

lint: $(NPM_STAMP)
	npx biome check .

doctor: $(NPM_STAMP)
	$(HARNESS) doctor

bench: bench-server bench-saturation bench-proxy bench-checkers bench-phone bench-load bench-report bench-ble bench-web bench-scale bench-bridge bench-fit

bench-server: setup
	npx tsx bench/server-sync.ts
# Syncs/s and CPU ms per sync at saturation; A/B: ARGS="--server /path/to/other-checkout --server . --cpu-prof".
bench-saturation: setup
	npx tsx bench/server-saturation.ts $(ARGS)
bench-proxy: setup
	npx tsx bench/proxy-overhead.ts
bench-checkers: setup
	npx tsx bench/checkers-1m.ts
bench-phone: setup
	npx tsx bench/phone-first-sync.ts
# The concurrency curve 10 → 2000 VUs, its knee, memory per VU and generator CPU per 1000 syncs:
# harness-results/bench/load-curve.{json,md}. ARGS="--levels 10,100,1000 --hold-s 8 --workers 2".
bench-load: setup
	npx tsx bench/load-curve.ts $(ARGS)
bench-report: setup
	npx tsx bench/report-100k.ts
bench-ble: setup
	npx tsx bench/ble-context-pack.ts
bench-web: setup
	npx tsx bench/web-devices.ts
bench-scale: setup
	npx tsx bench/scale-out.ts
bench-bridge: setup
	npx tsx bench/bridge-rtt.ts
bench-fit: setup
	npx tsx bench/fit-upload.ts

clean:
	rm -rf harness-results node_modules/.install-stamp
