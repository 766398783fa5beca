# Two commands matter: `make run` and `make test`. The rest are for the
# people working on the app.
GO ?= go
FUZZTIME ?= 1m

.PHONY: run test build bench loadtest screenshots fuzz vet

## run: the app at http://127.0.0.1:5000, with its sandbox Google unless GOOGLE_CLIENT_ID is set
run:
	$(GO) run .

## test: every unit, integration and (when Chromium is found) browser test, with the race detector
test:
	@if { [ -n "$$CHROMIUM" ] && [ ! -x "$$CHROMIUM" ]; } || \
	    { [ -z "$$CHROMIUM" ] && ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; }; then \
		echo "make test: chromium not found: the browser tests (internal/e2e) will be SKIPPED; apt-get install chromium to run them"; \
	fi
	$(GO) test -race -count=1 ./...

## bench: /home first and repeat view against the sandbox with GMAIL_LATENCY per call, then req/s at 32 clients
GMAIL_LATENCY ?= 50ms
# The raw output is kept in bin/bench.txt for benchstat; the summary prints
# one figure a line.
bench:
	@mkdir -p bin
	$(GO) test -run '^$$' -bench 'Inbox' -benchtime 30x ./internal/web/ -args -gmail-latency=$(GMAIL_LATENCY) > bin/bench.txt
	$(GO) test -run '^$$' -bench 'Throughput' -benchtime 3s ./internal/web/ >> bin/bench.txt
	@awk '/^cpu:/ { print } /^Benchmark/ { for (i = 3; i < NF; i += 2) printf "%-42s %14s %s\n", $$1, $$i, $$(i+1) }' bin/bench.txt

## screenshots: the README's pictures of the app (docs/*.png), taken in headless Chromium against the sandbox
screenshots:
	$(GO) test ./internal/e2e/ -run '^TestScreenshots$$' -count=1 -args -screenshots=$(CURDIR)/docs

build:
	$(GO) build -o bin/gmailoauth .

vet:
	gofmt -l . | (! grep .) && $(GO) vet ./...

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
