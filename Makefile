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
	$(GO) test -race -count=1 ./...

## bench: /home first and repeat view against the sandbox with GMAIL_LATENCY per call, then req/s at 32 clients
GMAIL_LATENCY ?= 50ms
bench:
	$(GO) test -run '^$$' -bench 'Inbox' -benchtime 30x ./internal/web/ -args -gmail-latency=$(GMAIL_LATENCY)
	$(GO) test -run '^$$' -bench 'Throughput' -benchtime 3s ./internal/web/

build:
	$(GO) build -o bin/gmailoauth .

vet:
	gofmt -l . | (! grep .) && $(GO) vet ./...
