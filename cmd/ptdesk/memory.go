package main

import (
	"os"
	"runtime/debug"
)

// gcPercent is the garbage collector's target for the desktop app: collect
// when the heap has grown by a quarter of what is live, not by all of it
// (Go's default, 100). PT Desk stays open all day and what is live is small
// (about 25 MiB, mostly the toolkit's fonts), so the heap it holds between
// collections, which is what it keeps resident, peaks at 1.25 times that
// instead of twice. A search allocates a few MiB: the collections this adds
// cost a few percent of what typing costs, most of which is drawing.
const gcPercent = 25

// tuneGC sets the collector for a program that runs all day, unless GOGC
// in the environment asks for something else.
func tuneGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(gcPercent)
	}
}
