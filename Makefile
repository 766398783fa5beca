# Two commands matter: `make run` and `make test`. The rest are for the
# people working on the app.
GO ?= go
FUZZTIME ?= 1m

.PHONY: run test help build bench loadtest screenshots fuzz vet contract-google

# Ctrl-C should stop the app, not make: with job control on (set -m) the
# app runs as the terminal's foreground job, so the interrupt reaches it
# alone, it shuts down gracefully, and its status 0 is make's.
## run: the app at http://127.0.0.1:5000, with its sandbox Google unless GOOGLE_CLIENT_ID is set
run: build
	@set -m 2>/dev/null; bin/gmailoauth

## test: every unit, integration and browser test, with the race detector, and Google's Go and Python clients against the sandbox; it ends saying which optional suites ran
# The optional suites need programs from outside Go; each is looked for as
# its tests look for it, and skips without it (CI sets the REQUIRE_ variables
# that make a missing one fail instead). The browser: $CHROMIUM (a path, or a
# name on PATH), else chromium on PATH, else Debian's /usr/bin/chromium.
# axe-core, for the accessibility audits, comes from npm as
# internal/e2e/package-lock.json pins it. Google's Python client runs with
# the first of $PYTHON, python3 and Debian's /usr/bin/python3 (where apt
# puts the modules when python3 on PATH is another Python) that has it.
# Google's own clients drive the standalone sandbox from a module of their
# own, so they stay out of the app's module graph.
test:
	@if command -v npm >/dev/null 2>&1; then \
		(cd internal/e2e && npm ci --no-audit --no-fund --loglevel=error) || echo "make test: npm ci failed in internal/e2e"; \
	fi
	@if [ -n "$$CHROMIUM" ]; then browser=$$(command -v "$$CHROMIUM"); else browser=$$(command -v chromium || echo /usr/bin/chromium); fi; \
	if [ -n "$$browser" ] && [ -x "$$browser" ]; then browser=yes; else browser=; fi; \
	python=$$(for p in $${PYTHON:-python3} /usr/bin/python3; do \
		if "$$p" -c 'import googleapiclient, google_auth_oauthlib' 2>/dev/null; then echo "$$p"; break; fi; done); \
	status=0; \
	$(GO) test -race -count=1 ./... || status=1; \
	(cd internal/sandbox/clienttest && PYTHON="$$python" $(GO) test -count=1 ./...) || status=1; \
	suite() { if [ "$$2" = yes ]; then echo "make test: $$1: ran"; else echo "make test: $$1: SKIPPED; $$3"; fi; }; \
	suite "browser tests (internal/e2e)" "$$browser" "apt-get install chromium"; \
	suite "accessibility audits (internal/e2e)" "$$([ -f internal/e2e/node_modules/axe-core/axe.min.js ] && echo $$browser)" "apt-get install chromium npm"; \
	suite "proxy test (TestBehindNginx)" "$$( (command -v nginx || command -v /usr/sbin/nginx) >/dev/null && echo yes)" "apt-get install nginx"; \
	suite "metrics exposition check (promtool)" "$$(command -v promtool >/dev/null && echo yes)" "apt-get install prometheus"; \
	suite "Google's Python client (internal/sandbox/clienttest)" "$$([ -n "$$python" ] && echo yes)" "apt-get install python3-googleapi python3-google-auth-oauthlib"; \
	exit $$status

## help: this list of targets
help:
	@awk '/^## / { sub(/^## /, ""); name = $$0; sub(/:.*/, "", name); text = $$0; sub(/^[^:]*: /, "", text); printf "  make %-16s %s\n", name, text }' $(MAKEFILE_LIST)

## contract-google: the contract suite (internal/contract) against real Google; needs GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET and GOOGLE_REFRESH_TOKEN (see docs/google.md), else it says so and skips
contract-google:
	$(GO) test -count=1 -v ./internal/contract/ -args -google

## bench: side by side in one run, each in its own process: the sandbox, a bare net/http handler, the app now and at BASELINE (wrk load; see docs/performance.md)
# BASELINE is the commit the performance issue measured; the bench builds it
# from git into a temporary directory. GMAIL_LATENCY is what the sandbox adds
# to every Gmail call in the latency benchmarks.
BASELINE ?= b2c7ae5
GMAIL_LATENCY ?= 50ms
bench:
	@command -v wrk >/dev/null 2>&1 || { \
		echo "make bench: wrk, the load generator, is not installed; installing it with apt-get install -y wrk"; \
		{ apt-get update && apt-get install -y wrk; } || { sudo apt-get update && sudo apt-get install -y wrk; }; }
	@mkdir -p bin/bench
	$(GO) build -o bin/bench/app .
	$(GO) build -o bin/bench/bench ./internal/bench
	@src=$$(mktemp -d) && echo "make bench: building the baseline $(BASELINE) in $$src" && \
		git archive $(BASELINE) | tar -x -C $$src && (cd $$src && $(GO) build -o $(CURDIR)/bin/bench/baseline .) && rm -rf $$src
	bin/bench/bench -app bin/bench/app -baseline bin/bench/baseline -dir bin/bench | tee bin/bench/load.txt
	$(GO) test -run '^$$' -bench 'View' -benchtime 3s ./internal/bench/ | tee bin/bench/handler.txt
	$(GO) test -run '^$$' -bench 'Inbox' -benchtime 30x ./internal/web/ -args -gmail-latency=$(GMAIL_LATENCY) | tee bin/bench/latency.txt

## screenshots: the README's pictures of the app (docs/*.png), taken in headless Chromium against the sandbox
screenshots:
	@fc-list :lang=ja 2>/dev/null | grep -q . || { \
		echo "make screenshots: no Japanese font, so Japanese would show as empty boxes; installing fonts-noto-cjk"; \
		{ apt-get update && apt-get install -y --no-install-recommends fonts-noto-cjk; } || \
		{ sudo apt-get update && sudo apt-get install -y --no-install-recommends fonts-noto-cjk; }; }
	$(GO) test ./internal/e2e/ -run '^TestScreenshots$$' -count=1 -args -screenshots=$(CURDIR)/docs

build:
	$(GO) build -o bin/gmailoauth .

## vet: gofmt (lists any file it would change), go vet and staticcheck, as CI runs them
# staticcheck is pinned here and fetched through the module proxy, so it
# stays out of go.mod and the app's module graph.
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
vet:
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then echo "gofmt -l: not formatted:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

## loadtest: a minute of 64 clients against the app while its sandbox Google fails at random, latency printed (`make test` runs 480 requests of it)
loadtest:
	$(GO) test ./internal/loadtest/ -run TestLoad -count=1 -v -args -duration=60s -clients=64 -requests=10000000

## fuzz: every fuzz target for FUZZTIME each; `go test -fuzz` takes one target per run
# Minimizing a large new input takes up to a minute by default, which would
# eat a one-minute run; failures still get minimized, only for less long.
FUZZMINIMIZETIME ?= 10s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "fuzz $$pkg $$target for $(FUZZTIME)"; \
			$(GO) test $$pkg -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME) || exit 1; \
		done; \
	done
