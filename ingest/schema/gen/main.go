// Command gen writes event-v1.json from the contract: go generate ./ingest/schema
package main

import (
	"fmt"
	"os"

	"github.com/qcredit/qcredit/ingest/schema"
)

func main() {
	b, err := schema.Generate()
	if err == nil {
		err = os.WriteFile(schema.File, append(b, '\n'), 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "generate schema:", err)
		os.Exit(1)
	}
}
