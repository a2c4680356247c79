# qcredit — see README.md. `make run` is the demo, `make test` runs every test.
GO        ?= go
# DuckDB stages writes through Arrow with this tag (about twice as fast as its appender).
export GOFLAGS += -tags=duckdb_arrow
BIN       := bin/qcredit
PKGS      := ./...

.PHONY: build run test lint bench clean dashboards

# The dashboards (TypeScript, ECharts; Vite) are built into dashboards/dist/app,
# which go build embeds; npm ci installs exactly package-lock.json.
DASH_SRC := $(shell find dashboards/src dashboards/public -type f 2>/dev/null) dashboards/index.html dashboards/vite.config.ts dashboards/tsconfig.json

dashboards/node_modules/.package-lock.json: dashboards/package-lock.json
	cd dashboards && npm ci --no-audit --no-fund

dashboards/dist/app/index.html: dashboards/node_modules/.package-lock.json $(DASH_SRC)
	cd dashboards && npm run build

dashboards: dashboards/dist/app/index.html

build: dashboards
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

# import, score, lookup and creditfile (scripts/bench.sh): about half an hour.
bench: build
	scripts/bench.sh

clean:
	rm -rf bin data dashboards/dist/app dashboards/node_modules
