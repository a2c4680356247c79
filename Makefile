# qcredit — see README.md. `make run` is the demo, `make test` runs every test.
GO        ?= go
BIN       := bin/qcredit
PKGS      := ./...

.PHONY: build run test test-unit lint bench services-up services-down clean

build:
	$(GO) build -o $(BIN) ./cmd/qcredit

run: build
	./$(BIN) dev

# Starts real Kafka and ClickHouse for the integration tests (scripts/test.sh).
test: build
	scripts/test.sh

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet $(PKGS)
	$(GO) run honnef.co/go/tools/cmd/staticcheck@latest $(PKGS)

bench: build
	./$(BIN) bench import

clean:
	rm -rf bin data
