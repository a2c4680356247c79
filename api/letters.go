package api

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/chromedp/chromedp"
)

// ErrNoChromium says a letter cannot be printed to PDF on this machine.
var ErrNoChromium = errors.New("no Chromium to print PDF with (install Debian's chromium, or set clusters.chromium)")

// chromiumNames are the browsers looked for on PATH, Debian's first.
var chromiumNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"}

// letterPrinter prints HTML letters to A4 PDF with a headless Chromium,
// one browser per letter: analysts print a letter now and then, and a
// browser kept running would hold memory the read model needs. At most two
// print at once (a browser takes a core while it lays out and prints).
type letterPrinter struct {
	path string
	err  error
	slot chan struct{}
}

// printTimeout bounds one print: Chromium starts in about a second.
const printTimeout = 60 * time.Second

// newLetterPrinter uses the browser at path; "" looks for one on PATH,
// "off" prints nothing.
func newLetterPrinter(path string) *letterPrinter {
	p := &letterPrinter{path: path, slot: make(chan struct{}, 2)}
	switch path {
	case "off":
		p.err = fmt.Errorf("%w: printing is off", ErrNoChromium)
	case "":
		p.err = ErrNoChromium
		for _, name := range chromiumNames {
			if found, err := exec.LookPath(name); err == nil {
				p.path, p.err = found, nil
				break
			}
		}
	default:
		if _, err := exec.LookPath(path); err != nil {
			p.err = fmt.Errorf("%w: %v", ErrNoChromium, err)
		}
	}
	return p
}

// Print lays the HTML out as Chromium prints it: A4 with the document's own
// @page margins and its backgrounds.
func (p *letterPrinter) Print(ctx context.Context, html []byte) ([]byte, error) {
	if p.err != nil {
		return nil, p.err
	}
	select {
	case p.slot <- struct{}{}:
		defer func() { <-p.slot }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	ctx, cancel := context.WithTimeout(ctx, printTimeout)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(p.path))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses to run as root with its sandbox
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	// A data URL: Navigate waits for the document's load, and the letter
	// needs nothing from outside (its plot is inline SVG, its fonts the system's).
	url := "data:text/html;charset=utf-8;base64," + base64.StdEncoding.EncodeToString(html)
	if err := chromedp.Do(bctx, chromedp.Navigate(url)); err != nil {
		return nil, fmt.Errorf("chromium %s: %w", p.path, err)
	}
	pdf, err := chromedp.Run(bctx, chromedp.PrintToPDF(chromedp.PDFPaper(chromedp.PaperA4), chromedp.PDFPreferCSSPageSize(),
		chromedp.PDFPrintBackground()))
	if err != nil {
		return nil, fmt.Errorf("chromium %s: print: %w", p.path, err)
	}
	return pdf, nil
}
