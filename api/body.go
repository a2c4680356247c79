package api

import (
	"bytes"
	"errors"
	"fmt"
)

// splitEvents splits an ingest body into its events' raw bytes, each as
// sent: the items of a JSON array, or the non-blank lines of NDJSON
// (whichever the first non-space byte says). It checks only the array's
// structure (brackets, strings, commas): each item is decoded and
// validated on its own, so one bad event does not refuse the others. The
// items share body's memory.
func splitEvents(body []byte, max int) ([][]byte, error) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return nil, errors.New("the body is empty: send a JSON array of events or one event per line (NDJSON)")
	}
	if trimmed[0] == '[' {
		return splitArray(trimmed, max)
	}
	return splitLines(body, max)
}

func splitLines(body []byte, max int) ([][]byte, error) {
	var out [][]byte
	for len(body) > 0 {
		line, rest, _ := bytes.Cut(body, []byte{'\n'})
		body = rest
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if len(out) == max {
			return nil, fmt.Errorf("more than %d events in one body: send them in several", max)
		}
		out = append(out, line)
	}
	return out, nil
}

// splitArray splits a JSON array (b starts with '[') into its items.
func splitArray(b []byte, max int) ([][]byte, error) {
	var out [][]byte
	i := 1
	for {
		i = skipSpace(b, i)
		if i < len(b) && b[i] == ']' && len(out) == 0 {
			i++
			break
		}
		end, err := scanValue(b, i)
		if err != nil {
			return nil, fmt.Errorf("the JSON array is broken after %d items: %w", len(out), err)
		}
		item := bytes.TrimRight(b[i:end], " \t\r\n")
		if len(item) == 0 {
			return nil, fmt.Errorf("the JSON array has an empty item after %d items", len(out))
		}
		if len(out) == max {
			return nil, fmt.Errorf("more than %d events in one body: send them in several", max)
		}
		out = append(out, item)
		i = end
		if b[i] == ']' {
			i++
			break
		}
		i++ // the comma
	}
	if i = skipSpace(b, i); i != len(b) {
		return nil, fmt.Errorf("text after the JSON array at byte %d", i)
	}
	return out, nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// scanValue finds the end of the array item starting at i: the index of
// the ',' or ']' that closes it at depth 0, skipping strings and nested
// brackets.
func scanValue(b []byte, i int) (int, error) {
	depth := 0
	for ; i < len(b); i++ {
		switch b[i] {
		case '"':
			j, err := scanString(b, i)
			if err != nil {
				return 0, err
			}
			i = j
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				if b[i] == ']' {
					return i, nil
				}
				return 0, fmt.Errorf("unexpected } at byte %d", i)
			}
			depth--
		case ',':
			if depth == 0 {
				return i, nil
			}
		}
	}
	return 0, errors.New("it does not end (no closing ])")
}

// scanString returns the index of the quote closing the string at i.
func scanString(b []byte, i int) (int, error) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j, nil
		}
	}
	return 0, fmt.Errorf("a string at byte %d does not end", i)
}
