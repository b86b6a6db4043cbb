package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"github.com/godbus/dbus/v5"

	"ptdesk/core"
	"ptdesk/core/desk"
	"ptdesk/core/ptsso"
	"ptdesk/core/secrets"
	"ptdesk/ui"
)

// The desktop app's targets: a keystroke redraws the list within a frame;
// against the minimal Fyne app (cmd/fynefloor) in the same run, start time,
// resident memory and idle CPU stay close to the toolkit's own floor.
const (
	targetKeystrokeP99 = 16 * time.Millisecond
	targetStartRatio   = 1.5
	targetRSSRatio     = 1.3
	targetIdleCPURatio = 1.2

	uiPatients    = 100_000
	uiQueries     = 200 // typed queries for the keystroke figures
	warmStarts    = 5
	coldStarts    = 3
	idleWindow    = 60 * time.Second
	settleTime    = 3 * time.Second
	searchesTyped = 100
)

// uiSection measures the desktop app. Keystrokes go through the Fyne test
// driver (no display needed); start time, memory and idle CPU are measured
// on the real programs in an X server (Xvfb) beside cmd/fynefloor, the
// toolkit's floor, in the same run.
func uiSection(ctx context.Context, w io.Writer, o options) error {
	dir, err := os.MkdirTemp("", "ptdeskbench-ui-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	home := filepath.Join(dir, "home")

	fmt.Fprintf(o.log, "  keystrokes with %d patients\n", uiPatients)
	keys, err := keystrokeBench(ctx, o, home)
	if err != nil {
		return fmt.Errorf("keystrokes: %w", err)
	}
	fmt.Fprintf(w, "### Keystroke to list updated (%s patients)\n\n", thousands(uiPatients))
	fmt.Fprintf(w, "The search window on the Fyne test driver, backed by a SQLite directory of %s generated patients "+
		"(seed %d). %d queries typed one character at a time (%d keystrokes): last-name prefixes up to 6 letters, and "+
		"\"first-name prefix, space, last-name prefix\". Each keystroke is timed from the key to the return of the "+
		"entry's handler: the search, the list refresh (visible rows re-bound), the best match selected and the detail "+
		"panel filled. The check whether the selected patient can be opened runs off the UI thread in the app and is "+
		"left out, as is painting (the test driver does not paint; on the GL driver it happens on the next frame).\n\n",
		thousands(uiPatients), o.seed, uiQueries, keys.n)
	fmt.Fprintf(w, "| | count | p50 | p99 | max |\n| --- | ---: | ---: | ---: | ---: |\n")
	fmt.Fprintf(w, "| keystroke to list updated | %d | %s | %s | %s |\n", keys.n, ms(keys.p50), ms(keys.p99), ms(keys.max))
	fmt.Fprintf(w, "| the same texts, `desk.Search` alone | %d | %s | %s | %s |\n\n", keys.search.n, ms(keys.search.p50), ms(keys.search.p99), ms(keys.searchMax))
	checks := []string{fmt.Sprintf("keystroke to list updated, p99 %s ≤ %s: %s", ms(keys.p99), ms(targetKeystrokeP99), verdict(keys.p99 <= targetKeystrokeP99))}

	pc, err := processBench(ctx, w, o, dir, home)
	if err != nil {
		return fmt.Errorf("start, memory and idle CPU: %w", err)
	}
	checks = append(checks, pc...)
	fmt.Fprintf(w, "Targets:\n\n")
	for _, c := range checks {
		fmt.Fprintf(w, "- %s\n", c)
	}
	return nil
}

// keyLatency is the spread of keystroke timings, and of the directory
// searches for the same texts.
type keyLatency struct {
	latency
	max       time.Duration
	search    latency
	searchMax time.Duration
}

// keystrokeBench fills home with uiPatients patients and times keystrokes
// in the search window on the Fyne test driver.
func keystrokeBench(ctx context.Context, o options, home string) (keyLatency, error) {
	d, err := desk.OpenHome(ctx, desk.HomeOptions{
		Home:    home,
		Secrets: secrets.NewMemory(),
		Opener:  ptsso.OpenerFunc(func(string) error { return nil }),
	})
	if err != nil {
		return keyLatency{}, err
	}
	defer d.Close()
	sample, _, err := importSample(ctx, d.Store(), o.seed, uiPatients, 1024)
	if err != nil {
		return keyLatency{}, err
	}
	if err := d.SetPMSName(ctx, "bench_clinic"); err != nil {
		return keyLatency{}, err
	}
	pr, err := d.AddPractitioner(ctx, core.Practitioner{Name: "Dr Bench", Server: "http://127.0.0.1:7900"})
	if err != nil {
		return keyLatency{}, err
	}
	if _, _, err := d.SetNewKey(ctx, pr.ID); err != nil {
		return keyLatency{}, err
	}

	a := test.NewApp()
	defer test.NewApp() // leave no app with the closed desk behind
	var pending []func()
	app, err := ui.New(ctx, a, d, ui.Options{Background: func(f func()) { pending = append(pending, f) }})
	if err != nil {
		return keyLatency{}, err
	}
	app.Start(true)
	entry := app.Window().Canvas().Focused()
	if entry == nil {
		return keyLatency{}, errors.New("the search field does not have the focus")
	}
	settle := func() {
		for len(pending) > 0 {
			f := pending[0]
			pending = pending[1:]
			f()
		}
	}

	r := rand.New(rand.NewPCG(o.seed, 7))
	var times []time.Duration
	var typed []string // the search text after each keystroke
	for i := range uiQueries {
		p := sample[r.IntN(len(sample))]
		text := lowerPrefix(p.LastName, 6)
		if i%2 == 1 {
			text = lowerPrefix(p.FirstName, 2) + " " + lowerPrefix(p.LastName, 3)
		}
		entry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape}) // clear
		settle()
		so := ""
		for _, ch := range text {
			start := time.Now()
			entry.TypedRune(ch)
			times = append(times, time.Since(start))
			settle()
			so += string(ch)
			typed = append(typed, so)
		}
	}
	lat := keyLatency{latency: percentiles(times)}
	lat.max = slices.Max(times)

	// The same texts through the desk alone: how much of a keystroke is the
	// directory's search.
	var search []time.Duration
	for _, t := range typed {
		start := time.Now()
		if _, err := d.Search(ctx, t, 0); err != nil {
			return keyLatency{}, err
		}
		search = append(search, time.Since(start))
	}
	lat.search = percentiles(search)
	lat.searchMax = slices.Max(search)
	return lat, nil
}

// program is one of the two desktop programs compared.
type program struct {
	name  string // as the table shows it
	bin   string
	args  []string
	title string // regular expression matching the window's title
}

// procFigures are one program's measurements.
type procFigures struct {
	cold, warm          time.Duration
	rssStart, rssAfter  int64 // bytes
	rssHidden           int64
	cpuShown, cpuHidden time.Duration
	hiddenOK            bool // the window really was hidden
}

// processBench compares ptdesk with fynefloor in an X server of its own.
func processBench(ctx context.Context, w io.Writer, o options, dir, home string) ([]string, error) {
	fmt.Fprintf(w, "### Start, memory and idle CPU, beside the minimal Fyne app\n\n")
	var missing []string
	for _, tool := range []string{"Xvfb", "xdotool", "dbus-daemon", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) > 0 {
		fmt.Fprintf(w, "Not measured: %s not installed (the programs need an X server, and xdotool to find, focus and type into their windows).\n\n", strings.Join(missing, ", "))
		return []string{"start, memory and idle CPU: **not measured** (" + strings.Join(missing, ", ") + " missing)"}, nil
	}

	fmt.Fprintf(o.log, "  building ptdesk and fynefloor\n")
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return nil, err
	}
	for _, pkg := range []string{"./cmd/ptdesk", "./cmd/fynefloor"} {
		out, err := exec.CommandContext(ctx, "go", "build", "-o", bin+string(filepath.Separator), pkg).CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("build %s: %v\n%s", pkg, err, out)
		}
	}
	x, err := startDisplay(ctx, dir)
	if err != nil {
		return nil, err
	}
	defer x.stop()

	progs := []program{
		{name: "fynefloor (minimal Fyne app)", bin: filepath.Join(bin, "fynefloor"), title: "^Fyne floor$"},
		{name: "ptdesk", bin: filepath.Join(bin, "ptdesk"), args: []string{"--home", home}, title: "^PT Desk"},
	}
	figs := make([]procFigures, len(progs))

	// Cold: first starts, each with the page cache dropped first (when
	// this process may) and an empty Fyne settings folder; one such start
	// moves with whatever the disk is doing, so the median of coldStarts,
	// the programs taking turns.
	coldNote := fmt.Sprintf("median of %d first starts of each program, each with an empty Fyne settings folder, the two programs taking turns; "+
		"the page cache could not be dropped (that needs root), so the binaries may be cached", coldStarts)
	if dropCaches() == nil {
		coldNote = fmt.Sprintf("median of %d first starts of each program, each after dropping the page cache and with an empty Fyne settings folder, "+
			"the two programs taking turns", coldStarts)
	}
	fmt.Fprintf(o.log, "  cold starts\n")
	cold, err := x.medianStarts(ctx, progs, coldStarts, func() error {
		err := os.RemoveAll(filepath.Join(x.dir, "config", "fyne"))
		dropCaches()
		return err
	})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(o.log, "  warm starts\n")
	warm, err := x.medianStarts(ctx, progs, warmStarts, func() error { return nil })
	if err != nil {
		return nil, err
	}
	for i := range progs {
		figs[i].cold, figs[i].warm = cold[i], warm[i]
	}
	for i, p := range progs {
		fmt.Fprintf(o.log, "  memory and idle CPU of %s (about %v)\n", p.name, 2*idleWindow+4*settleTime)
		if err := x.longRun(ctx, p, &figs[i]); err != nil {
			return nil, err
		}
	}

	floor, pt := figs[0], figs[1]
	fmt.Fprintf(w, "Both programs run in the same Xvfb (1280×800, Mesa software GL) with a D-Bus session and a stand-in tray "+
		"host, one at a time. ptdesk works on the %s-patient directory above. Start: from exec to the window being "+
		"mapped, polled every 10 ms with xdotool; cold = %s; warm = median of %d starts, the two programs taking turns. Resident memory (VmRSS) %v after "+
		"the window appeared, and after %d searches typed with xdotool (3 letters, then Ctrl+A Backspace). Idle CPU: user+system "+
		"time over %v with the window shown and focused, then over %v hidden (ptdesk: Esc on the empty search hides it to the "+
		"tray; fynefloor: Esc hides its window).\n\n", thousands(uiPatients), coldNote, warmStarts, settleTime, searchesTyped, idleWindow, idleWindow)
	fmt.Fprintf(w, "| | fynefloor | ptdesk | ratio | target |\n| --- | ---: | ---: | ---: | ---: |\n")
	row := func(what, a, b string, ratio, target float64) {
		fmt.Fprintf(w, "| %s | %s | %s | %.2f× | ≤ %.1f× |\n", what, a, b, ratio, target)
	}
	ratio := func(a, b float64) float64 {
		if a == 0 {
			return 0
		}
		return b / a
	}
	row("start, cold", ms(floor.cold), ms(pt.cold), ratio(float64(floor.cold), float64(pt.cold)), targetStartRatio)
	row("start, warm", ms(floor.warm), ms(pt.warm), ratio(float64(floor.warm), float64(pt.warm)), targetStartRatio)
	row("memory after start", mb(floor.rssStart), mb(pt.rssStart), ratio(float64(floor.rssStart), float64(pt.rssStart)), targetRSSRatio)
	row(fmt.Sprintf("memory after %d searches", searchesTyped), mb(floor.rssAfter), mb(pt.rssAfter), ratio(float64(floor.rssAfter), float64(pt.rssAfter)), targetRSSRatio)
	fmt.Fprintf(w, "| memory after %v hidden | %s | %s | %.2f× | |\n", idleWindow, mb(floor.rssHidden), mb(pt.rssHidden), ratio(float64(floor.rssHidden), float64(pt.rssHidden)))
	row("idle CPU, window shown", cpuShare(floor.cpuShown), cpuShare(pt.cpuShown), ratio(float64(floor.cpuShown), float64(pt.cpuShown)), targetIdleCPURatio)
	row("idle CPU, hidden", cpuShare(floor.cpuHidden), cpuShare(pt.cpuHidden), ratio(float64(floor.cpuHidden), float64(pt.cpuHidden)), targetIdleCPURatio)
	fmt.Fprintln(w)
	if !pt.hiddenOK || !floor.hiddenOK {
		fmt.Fprintf(w, "Note: a window was still mapped after Esc (hidden: ptdesk %v, fynefloor %v); the hidden figures are not trustworthy.\n\n", pt.hiddenOK, floor.hiddenOK)
	}
	fmt.Fprintf(w, "Idle CPU is CPU time per %v of wall time; 10 ms is the kernel's accounting tick.\n\n", idleWindow)

	check := func(what string, a, b, target float64, show string) string {
		r := ratio(a, b)
		return fmt.Sprintf("%s: %s, %.2f× the minimal app ≤ %.1f×: %s", what, show, r, target, verdict(r <= target))
	}
	return []string{
		check("start, cold", float64(floor.cold), float64(pt.cold), targetStartRatio, ms(pt.cold)),
		check("start, warm", float64(floor.warm), float64(pt.warm), targetStartRatio, ms(pt.warm)),
		check("memory after start", float64(floor.rssStart), float64(pt.rssStart), targetRSSRatio, mb(pt.rssStart)),
		check(fmt.Sprintf("memory after %d searches", searchesTyped), float64(floor.rssAfter), float64(pt.rssAfter), targetRSSRatio, mb(pt.rssAfter)),
		check("idle CPU, shown", float64(floor.cpuShown), float64(pt.cpuShown), targetIdleCPURatio, cpuShare(pt.cpuShown)),
		check("idle CPU, hidden", float64(floor.cpuHidden), float64(pt.cpuHidden), targetIdleCPURatio, cpuShare(pt.cpuHidden)),
	}, nil
}

func mb(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func cpuShare(d time.Duration) string {
	return fmt.Sprintf("%.2f s (%.2f%%)", d.Seconds(), 100*d.Seconds()/idleWindow.Seconds())
}

// dropCaches empties the page cache so that a start reads from disk.
func dropCaches() error {
	syscall.Sync()
	return os.WriteFile("/proc/sys/vm/drop_caches", []byte("3\n"), 0o200)
}

// display is an Xvfb server with a D-Bus session and a stand-in tray host.
type display struct {
	dir        string
	env        []string
	xvfb       *exec.Cmd
	xvfbExited chan struct{}
	dbusd      *exec.Cmd
	bus        *dbus.Conn
}

// startDisplay starts Xvfb on a free display, a session bus, and a
// StatusNotifierWatcher so that ptdesk sees a tray and can hide to it.
func startDisplay(ctx context.Context, dir string) (*display, error) {
	x := &display{dir: dir}
	num, err := x.startXvfb(ctx)
	if err != nil {
		return nil, err
	}
	// A session bus that starts no services: nothing (a keyring daemon, say)
	// may outlive the run.
	conf := filepath.Join(dir, "session.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(busConfig, dir)), 0o600); err != nil {
		x.stop()
		return nil, err
	}
	x.dbusd = exec.CommandContext(ctx, "dbus-daemon", "--config-file="+conf, "--nofork", "--print-address=1")
	out, err := x.dbusd.StdoutPipe()
	if err != nil {
		x.stop()
		return nil, err
	}
	if err := x.dbusd.Start(); err != nil {
		x.stop()
		return nil, fmt.Errorf("start dbus-daemon: %w", err)
	}
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		x.stop()
		return nil, fmt.Errorf("dbus-daemon did not report its address: %w", err)
	}
	addr = strings.TrimSpace(addr)
	if x.bus, err = trayHost(addr); err != nil {
		x.stop()
		return nil, err
	}
	x.env = append(os.Environ(),
		"DISPLAY=:"+strconv.Itoa(num),
		"DBUS_SESSION_BUS_ADDRESS="+addr,
		"XDG_CONFIG_HOME="+filepath.Join(dir, "config"),
		"LANG=en_US.UTF-8",
		"FYNE_SCALE=1",
	)
	return x, nil
}

// startXvfb starts Xvfb on the first free display from 150 up: far from
// the :0 of a desktop and the :99 of xvfb-run, which other programs on the
// machine may be using at the same time. The server does not reset when its
// last client leaves (-noreset): the programs are started one right after
// another, and a program that connects while the server resets fails to
// open the display.
func (x *display) startXvfb(ctx context.Context) (int, error) {
	for n := 150; n < 250; n++ {
		socket := fmt.Sprintf("/tmp/.X11-unix/X%d", n)
		if exists(fmt.Sprintf("/tmp/.X%d-lock", n)) || exists(socket) {
			continue
		}
		cmd := exec.CommandContext(ctx, "Xvfb", ":"+strconv.Itoa(n), "-screen", "0", "1280x800x24", "-nolisten", "tcp", "-noreset")
		if err := cmd.Start(); err != nil {
			return 0, fmt.Errorf("start Xvfb: %w", err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		if waitForFile(socket, exited) {
			x.xvfb, x.xvfbExited = cmd, exited
			return n, nil
		}
		select {
		case <-exited: // taken meanwhile: try the next one
		default:
			cmd.Process.Kill()
			<-exited
			return 0, fmt.Errorf("Xvfb :%d did not start within 10 s", n)
		}
	}
	return 0, errors.New("no free X display between :150 and :250")
}

// waitForFile polls until path exists (true), or the process whose exit
// closes exited ends, or 10 seconds pass (false).
func waitForFile(path string, exited <-chan struct{}) bool {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if exists(path) {
			return true
		}
		select {
		case <-exited:
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
	return false
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// busConfig is a session bus with no service directories; %s is where
// its socket goes.
const busConfig = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`

func (x *display) stop() {
	if x.bus != nil {
		x.bus.Close()
	}
	if x.dbusd != nil && x.dbusd.Process != nil {
		x.dbusd.Process.Signal(syscall.SIGTERM)
		x.dbusd.Wait()
	}
	if x.xvfb != nil {
		x.xvfb.Process.Signal(syscall.SIGTERM)
		<-x.xvfbExited
	}
}

// snWatcher answers a tray icon's registration, as a desktop's tray does.
type snWatcher struct{}

// RegisterStatusNotifierItem accepts any item.
func (snWatcher) RegisterStatusNotifierItem(string) *dbus.Error { return nil }

// RegisterStatusNotifierHost accepts any host.
func (snWatcher) RegisterStatusNotifierHost(string) *dbus.Error { return nil }

// trayHost owns the StatusNotifierWatcher name on the bus at addr.
func trayHost(addr string) (*dbus.Conn, error) {
	conn, err := dbus.Dial(addr)
	if err != nil {
		return nil, fmt.Errorf("connect to the session bus: %w", err)
	}
	if err := conn.Auth(nil); err == nil {
		err = conn.Hello()
	}
	if err == nil {
		err = conn.Export(snWatcher{}, "/StatusNotifierWatcher", "org.kde.StatusNotifierWatcher")
	}
	if err == nil {
		var reply dbus.RequestNameReply
		reply, err = conn.RequestName("org.kde.StatusNotifierWatcher", dbus.NameFlagDoNotQueue)
		if err == nil && reply != dbus.RequestNameReplyPrimaryOwner {
			err = errors.New("the name is taken")
		}
	}
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("stand in for the tray host: %w", err)
	}
	return conn, nil
}

// xdotool runs xdotool on the display and returns its output.
func (x *display) xdotool(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "xdotool", args...)
	cmd.Env = x.env
	out, err := cmd.Output()
	return strings.TrimSpace(string(out)), err
}

// start starts p and waits until its window is mapped, returning the
// process, the window and how long it took. If the X server went away (on a
// shared machine something may end it), it is started again and p once
// more.
func (x *display) start(ctx context.Context, p program) (*running, string, time.Duration, error) {
	for attempt := 0; ; attempt++ {
		if x.serverGone() {
			if err := x.restartXvfb(ctx); err != nil {
				return nil, "", 0, err
			}
		}
		r, wid, d, err := x.startOnce(ctx, p)
		if err == nil || attempt > 0 || !x.serverGone() {
			return r, wid, d, err
		}
	}
}

// serverGone reports whether Xvfb has exited.
func (x *display) serverGone() bool {
	select {
	case <-x.xvfbExited:
		return true
	default:
		return false
	}
}

// restartXvfb starts a new X server and points the programs at it.
func (x *display) restartXvfb(ctx context.Context) error {
	num, err := x.startXvfb(ctx)
	if err != nil {
		return err
	}
	for i, kv := range x.env {
		if strings.HasPrefix(kv, "DISPLAY=") {
			x.env[i] = "DISPLAY=:" + strconv.Itoa(num)
		}
	}
	return nil
}

// startOnce starts p once. The program's output goes to a log file in the
// display's folder, quoted when it fails.
func (x *display) startOnce(ctx context.Context, p program) (*running, string, time.Duration, error) {
	logPath := filepath.Join(x.dir, "program.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, "", 0, err
	}
	defer logFile.Close()
	cmd := exec.CommandContext(ctx, p.bin, p.args...)
	cmd.Env = x.env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	begin := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, "", 0, fmt.Errorf("start %s: %w", p.name, err)
	}
	r := &running{cmd: cmd, exited: make(chan struct{})}
	go func() { cmd.Wait(); close(r.exited) }()
	fail := func(why string) error {
		r.stop()
		out, _ := os.ReadFile(logPath)
		return fmt.Errorf("%s %s; its output:\n%s", p.name, why, out)
	}
	deadline := begin.Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if wid, _ := x.xdotool(ctx, "search", "--onlyvisible", "--name", p.title); wid != "" {
			return r, strings.Fields(wid)[0], time.Since(begin), nil
		}
		select {
		case <-r.exited:
			return nil, "", 0, fail("exited before showing a window")
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil, "", 0, fail("showed no window within a minute")
}

// running is a started program.
type running struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

// pid is the program's process id.
func (r *running) pid() int { return r.cmd.Process.Pid }

// stop asks the program to quit (Fyne quits on SIGTERM) and waits.
func (r *running) stop() {
	r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.exited:
	case <-time.After(10 * time.Second):
		r.cmd.Process.Kill()
		<-r.exited
	}
}

// medianStarts starts each program n times, the programs taking turns so
// that both see the same load, with before run ahead of every start, and
// returns each program's median time to its window.
func (x *display) medianStarts(ctx context.Context, progs []program, n int, before func() error) ([]time.Duration, error) {
	took := make([][]time.Duration, len(progs))
	for range n {
		for i, p := range progs {
			if err := before(); err != nil {
				return nil, err
			}
			d, err := x.timeStart(ctx, p)
			if err != nil {
				return nil, err
			}
			took[i] = append(took[i], d)
		}
	}
	medians := make([]time.Duration, len(progs))
	for i := range progs {
		slices.Sort(took[i])
		medians[i] = took[i][len(took[i])/2]
	}
	return medians, nil
}

func (x *display) timeStart(ctx context.Context, p program) (time.Duration, error) {
	r, _, d, err := x.start(ctx, p)
	if err != nil {
		return 0, err
	}
	r.stop()
	return d, nil
}

// longRun measures memory after start and after typed searches, then idle
// CPU shown and hidden.
func (x *display) longRun(ctx context.Context, p program, f *procFigures) error {
	r, wid, _, err := x.start(ctx, p)
	if err != nil {
		return err
	}
	defer r.stop()
	pid := r.pid()
	if _, err := x.xdotool(ctx, "windowfocus", "--sync", wid); err != nil {
		return fmt.Errorf("focus %s: %w", p.name, err)
	}
	time.Sleep(settleTime)
	if f.rssStart, err = rss(pid); err != nil {
		return err
	}
	queries := []string{"smi", "joh", "mar", "and", "lee", "gar", "mul", "ols", "kim", "ngu"}
	for i := range searchesTyped {
		if _, err := x.xdotool(ctx, "type", "--delay", "15", queries[i%len(queries)]); err != nil {
			return fmt.Errorf("type into %s: %w", p.name, err)
		}
		if _, err := x.xdotool(ctx, "key", "ctrl+a", "BackSpace"); err != nil {
			return fmt.Errorf("clear %s: %w", p.name, err)
		}
	}
	time.Sleep(settleTime)
	if f.rssAfter, err = rss(pid); err != nil {
		return err
	}
	if f.cpuShown, err = idleCPU(pid); err != nil {
		return err
	}
	if _, err := x.xdotool(ctx, "key", "Escape"); err != nil {
		return fmt.Errorf("hide %s: %w", p.name, err)
	}
	time.Sleep(settleTime)
	visible, _ := x.xdotool(ctx, "search", "--onlyvisible", "--name", p.title)
	f.hiddenOK = visible == ""
	if f.cpuHidden, err = idleCPU(pid); err != nil {
		return err
	}
	f.rssHidden, err = rss(pid)
	return err
}

// idleCPU is the user+system time pid uses over idleWindow.
func idleCPU(pid int) (time.Duration, error) {
	before, err := cpuTime(pid)
	if err != nil {
		return 0, err
	}
	time.Sleep(idleWindow)
	after, err := cpuTime(pid)
	if err != nil {
		return 0, err
	}
	return after - before, nil
}

// cpuTime reads utime+stime from /proc/PID/stat (in USER_HZ ticks, 100 a
// second on Linux).
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	fields := strings.Fields(s[i+1:])
	// After the command: state is field 3; utime and stime are 14 and 15.
	if len(fields) < 13 {
		return 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	ut, err1 := strconv.ParseInt(fields[11], 10, 64)
	st, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	return time.Duration(ut+st) * 10 * time.Millisecond, nil
}

// rss reads VmRSS from /proc/PID/status.
func rss(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parse VmRSS %q", v)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("no VmRSS for %d", pid)
}
