package programs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"time"
)

// Download limits, the defaults of DownloadOptions.
const (
	// DefaultMaxPDFBytes bounds one program PDF; a program of a few pages
	// with pictures is well under it.
	DefaultMaxPDFBytes     = 50 << 20
	DefaultConnectTimeout  = 10 * time.Second
	DefaultReadTimeout     = 30 * time.Second
	DefaultDownloadTimeout = 10 * time.Minute
	maxRedirects           = 5
)

// pdfMagic is how every PDF file begins.
var pdfMagic = []byte("%PDF-")

// DownloadError is why a download did not produce a PDF, in a sentence for
// the inbox. Temporary ones (the network, a timeout, a server error) are
// worth retrying; the others are refusals that retrying cannot change.
type DownloadError struct {
	Reason    string
	Temporary bool
	// Status is the HTTP status the server answered, 0 when it did not.
	Status int
}

// Error returns the reason, already written for the inbox.
func (e *DownloadError) Error() string { return e.Reason }

func refusal(format string, args ...any) *DownloadError {
	return &DownloadError{Reason: fmt.Sprintf(format, args...)}
}

func transient(format string, args ...any) *DownloadError {
	return &DownloadError{Reason: fmt.Sprintf(format, args...), Temporary: true}
}

// DownloadOptions tune a Downloader; zero values mean the defaults.
type DownloadOptions struct {
	// MaxBytes is the largest PDF accepted (DefaultMaxPDFBytes).
	MaxBytes int64
	// ConnectTimeout bounds connecting and the TLS handshake.
	ConnectTimeout time.Duration
	// ReadTimeout is the longest wait for the response to start or for
	// the next bytes of the body.
	ReadTimeout time.Duration
	// Timeout bounds a whole download.
	Timeout time.Duration
	// RootCAs replaces the system's certificate authorities (tests).
	RootCAs *x509.CertPool
	// LookupIP resolves host names; nil means the system resolver.
	LookupIP func(ctx context.Context, host string) ([]net.IPAddr, error)
}

// Downloader fetches program PDFs from allowed origins only. It is safe
// for concurrent use and keeps connections for reuse.
type Downloader struct {
	opts      DownloadOptions
	transport *http.Transport
}

// NewDownloader builds a Downloader.
func NewDownloader(o DownloadOptions) *Downloader {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxPDFBytes
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = DefaultReadTimeout
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultDownloadTimeout
	}
	if o.LookupIP == nil {
		o.LookupIP = net.DefaultResolver.LookupIPAddr
	}
	d := &Downloader{opts: o}
	d.transport = &http.Transport{
		// No proxy: the checks on where a connection goes (dial) would
		// then see only the proxy.
		Proxy:                  nil,
		DialContext:            d.dial,
		TLSClientConfig:        &tls.Config{RootCAs: o.RootCAs, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    o.ConnectTimeout,
		ResponseHeaderTimeout:  o.ReadTimeout,
		MaxResponseHeaderBytes: 64 << 10,
		MaxIdleConnsPerHost:    4,
		IdleConnTimeout:        90 * time.Second,
		ForceAttemptHTTP2:      true,
	}
	return d
}

// MaxBytes is the size limit in force.
func (d *Downloader) MaxBytes() int64 { return d.opts.MaxBytes }

// Close drops idle connections.
func (d *Downloader) Close() { d.transport.CloseIdleConnections() }

type allowKey struct{}

// dial connects to addr only at addresses the allow-list permits: a host
// listed through a wildcard (any subdomain of physitrack.com) must not
// lead to this computer or a private network, which a hostile or
// hijacked DNS answer could otherwise make it do; a host listed exactly
// (the sandbox on 127.0.0.1) may. Reads then time out after ReadTimeout
// of silence.
func (d *Downloader) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	allow, _ := ctx.Value(allowKey{}).(AllowList)
	listed := false
	for _, o := range allow.entries {
		if !o.wildcard && o.host == host && o.port == port {
			listed = true
		}
	}
	ips, err := d.opts.LookupIP(ctx, host)
	if err != nil {
		return nil, err
	}
	dialer := &net.Dialer{Timeout: d.opts.ConnectTimeout}
	var lastErr error = refusal("The name %s resolves to no address.", host)
	for _, ip := range ips {
		if !listed && internalIP(ip.IP) {
			lastErr = refusal("The file's host %s leads to an address on this computer or a private network (%s), which only an origin listed exactly in download-origins may.", host, ip.IP)
			continue
		}
		c, err := dialer.DialContext(ctx, network, net.JoinHostPort(ip.String(), port))
		if err != nil {
			lastErr = err
			continue
		}
		return &idleTimeoutConn{Conn: c, timeout: d.opts.ReadTimeout}, nil
	}
	return nil, lastErr
}

var sharedAddressSpace = &net.IPNet{IP: net.IPv4(100, 64, 0, 0), Mask: net.CIDRMask(10, 32)}

// internalIP reports addresses that are not on the public internet.
func internalIP(ip net.IP) bool {
	return ip.IsLoopback() || ip.IsPrivate() || ip.IsUnspecified() || ip.IsLinkLocalUnicast() ||
		ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || sharedAddressSpace.Contains(ip)
}

// idleTimeoutConn fails a read that waits longer than timeout, however
// long the whole transfer takes: a server that stops sending is caught
// without cutting off a slow but steady one.
type idleTimeoutConn struct {
	net.Conn
	timeout time.Duration
}

func (c *idleTimeoutConn) Read(p []byte) (int, error) {
	if err := c.Conn.SetReadDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

// Result describes a PDF written by Download.
type Result struct {
	Size   int64
	SHA256 string // hex
}

// Download fetches the PDF at raw, which must pass allow, as must every
// redirect, and writes it to w. A *DownloadError says why it did not; any
// other error comes from w. Nothing is written to w unless the body starts
// as a PDF does, but a failure part way leaves what was written: w should
// be a temporary file.
func (d *Downloader) Download(ctx context.Context, raw string, allow AllowList, w io.Writer) (Result, error) {
	if err := allow.Check(raw); err != nil {
		return Result{}, err
	}
	ctx, cancel := context.WithTimeout(context.WithValue(ctx, allowKey{}, allow), d.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return Result{}, refusal("The file URL is not a web address PT Desk can fetch.")
	}
	req.Header.Set("Accept", "application/pdf")
	req.Header.Set("User-Agent", "PT-Desk")
	client := &http.Client{
		Transport: d.transport,
		CheckRedirect: func(next *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return refusal("The file URL redirected more than %d times.", maxRedirects)
			}
			if err := allow.Check(next.URL.String()); err != nil {
				return refusal("The file URL redirected to %s, which is not allowed: %s", Origin(next.URL.String()), err)
			}
			return nil
		},
	}
	where := Origin(raw)
	resp, err := client.Do(req)
	if err != nil {
		return Result{}, requestError(where, err)
	}
	defer resp.Body.Close()
	if err := statusError(where, resp); err != nil {
		return Result{}, err
	}
	max := d.opts.MaxBytes
	if resp.ContentLength > max {
		return Result{}, refusal("The PDF from %s is %s, more than the limit of %s.", where, size(resp.ContentLength), size(max))
	}

	head := make([]byte, len(pdfMagic))
	n, err := io.ReadFull(resp.Body, head)
	if err != nil {
		if (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) && (resp.ContentLength < 0 || int64(n) == resp.ContentLength) {
			return Result{}, refusal("The file from %s is not a PDF: it is empty or too short (%d bytes).", where, n)
		}
		return Result{}, bodyError(where, 0, err)
	}
	if !bytes.Equal(head, pdfMagic) {
		ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if ct == "" {
			ct = "no type"
		}
		return Result{}, refusal("The file from %s is not a PDF (it does not start with %%PDF-; the server called it %s).", where, ct)
	}
	h := sha256.New()
	sink := &recordingWriter{w: io.MultiWriter(w, h)}
	if _, err := sink.Write(head); err != nil {
		return Result{}, sink.err
	}
	rest, err := io.Copy(sink, io.LimitReader(resp.Body, max-int64(len(head))+1))
	total := int64(len(head)) + rest
	if sink.err != nil {
		return Result{}, sink.err
	}
	if err != nil {
		return Result{}, bodyError(where, total, err)
	}
	if total > max {
		return Result{}, refusal("The PDF from %s is larger than the limit of %s.", where, size(max))
	}
	return Result{Size: total, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// recordingWriter keeps the writer's own error apart from the body's.
type recordingWriter struct {
	w   io.Writer
	err error
}

func (r *recordingWriter) Write(p []byte) (int, error) {
	n, err := r.w.Write(p)
	if err != nil && r.err == nil {
		r.err = fmt.Errorf("write the PDF: %w", err)
	}
	return n, err
}

func statusError(where string, resp *http.Response) error {
	code := resp.StatusCode
	switch {
	case code == http.StatusOK:
		return nil
	case code == http.StatusRequestTimeout || code == http.StatusTooEarly || code == http.StatusTooManyRequests || code >= 500:
		e := transient("The server of %s answered %d %s.", where, code, http.StatusText(code))
		e.Status = code
		return e
	case code >= 300 && code < 400:
		e := refusal("The server of %s answered %d %s without a usable new location.", where, code, http.StatusText(code))
		e.Status = code
		return e
	default:
		e := refusal("The server of %s answered %d %s.", where, code, http.StatusText(code))
		e.Status = code
		return e
	}
}

// requestError turns a failed request into a DownloadError: refusals made
// by the checks stay refusals, anything from the network is temporary.
func requestError(where string, err error) error {
	var de *DownloadError
	if errors.As(err, &de) {
		return de
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return transient("The server of %s did not answer in time.", where)
	}
	// The URL error repeats the whole URL, signature and all: keep only
	// what went wrong.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return transient("Could not reach %s: %v.", where, err)
}

func bodyError(where string, got int64, err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return transient("The download from %s stalled after %s.", where, size(got))
	}
	return transient("The download from %s broke off after %s (%v).", where, size(got), err)
}

// size writes a byte count for people.
func size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
