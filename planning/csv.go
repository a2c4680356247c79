package planning

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"
)

// The published files are CSV in one exact form (DOMAIN.md): UTF-8 without a
// BOM, LF line ends, a header line, the file ending with LF, no quoting. A
// file's SHA-256 is published, so a second spelling of the same rows (CRLF,
// quotes, a BOM) would be a different file: the reader refuses anything but
// the one form, and every field is kept free of what would need quoting.

// encodeCSV writes the header and rows. Fields must pass checkField.
func encodeCSV(header []string, rows [][]string) []byte {
	var b bytes.Buffer
	writeLine := func(fields []string) {
		b.WriteString(strings.Join(fields, ","))
		b.WriteByte('\n')
	}
	writeLine(header)
	for _, r := range rows {
		writeLine(r)
	}
	return b.Bytes()
}

// parseCSV reads a file in the one form and returns its rows (without the
// header). Errors name the line, counting the header as line 1.
func parseCSV(name string, b []byte, header []string) ([][]string, error) {
	switch {
	case bytes.HasPrefix(b, []byte("\xef\xbb\xbf")):
		return nil, fmt.Errorf("%s: starts with a byte-order mark (BOM); the file must be UTF-8 without one", name)
	case !utf8.Valid(b):
		return nil, fmt.Errorf("%s: not valid UTF-8", name)
	case bytes.IndexByte(b, '\r') >= 0:
		return nil, fmt.Errorf("%s: has a CR; lines must end with LF alone", name)
	case len(b) == 0 || b[len(b)-1] != '\n':
		return nil, fmt.Errorf("%s: must end with a line feed", name)
	}
	lines := strings.Split(string(b[:len(b)-1]), "\n")
	if want := strings.Join(header, ","); lines[0] != want {
		return nil, fmt.Errorf("%s line 1: header is %q, want %q", name, lines[0], want)
	}
	rows := make([][]string, 0, len(lines)-1)
	for i, line := range lines[1:] {
		f := strings.Split(line, ",")
		if len(f) != len(header) {
			return nil, fmt.Errorf("%s line %d: %d fields, want %d (%s)", name, i+2, len(f), len(header), strings.Join(header, ","))
		}
		for j, v := range f {
			if err := checkField(v); err != nil {
				return nil, fmt.Errorf("%s line %d: %s: %w", name, i+2, header[j], err)
			}
		}
		rows = append(rows, f)
	}
	return rows, nil
}

// checkField refuses what the one form cannot hold unquoted.
func checkField(v string) error {
	switch {
	case v == "":
		return fmt.Errorf("is empty")
	case strings.ContainsAny(v, ",\"\n\r"):
		return fmt.Errorf("%q contains a comma, quote or line break", v)
	case strings.TrimSpace(v) != v:
		return fmt.Errorf("%q has surrounding spaces", v)
	}
	return nil
}
