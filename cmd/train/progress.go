package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress reports the steps of a run: a bar redrawn in place on a
// terminal; elsewhere (a log file, a pipe) plain lines, for the first
// step, at most one every 30 seconds and for the last, so that the file
// holds no carriage-return frames.
type progress struct {
	bar      *progressbar.ProgressBar
	w        io.Writer
	start    time.Time
	last     time.Time
	from, to int
	every    time.Duration
}

func newProgress(w io.Writer, from, to int) *progress {
	p := &progress{w: w, start: time.Now(), last: time.Now(), from: from, to: to, every: 30 * time.Second}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.bar = progressbar.NewOptions(to-from, progressbar.OptionSetWriter(w),
			progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(250*time.Millisecond), progressbar.OptionFullWidth())
	}
	return p
}

// step reports that step (1-based, of the run) is done.
func (p *progress) step(step int, desc string) {
	if p.bar != nil {
		p.bar.Describe(desc)
		p.bar.Add(1)
		return
	}
	if time.Since(p.last) < p.every && step != p.from+1 && step != p.to {
		return
	}
	p.last = time.Now()
	done := step - p.from
	eta := time.Duration(float64(time.Since(p.start)) / float64(done) * float64(p.to-step))
	fmt.Fprintf(p.w, "step %d/%d: %s, ETA %s\n", step, p.to, desc, eta.Round(time.Second))
}

// finish ends the bar's line.
func (p *progress) finish() {
	if p.bar != nil {
		p.bar.Finish()
		fmt.Fprintln(p.w)
	}
}
