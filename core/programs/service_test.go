package programs_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"ptdesk/core"
	"ptdesk/core/programs"
)

func startConfig(e *env, addr string) programs.Config {
	return programs.Config{Store: e.store, Home: e.home, Secret: testSecret, Addr: addr,
		Worker: programs.WorkerOptions{PollInterval: 20 * time.Millisecond}}
}

func TestStartServesOneDataDirectoryOnce(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	first, err := programs.Start(ctx, startConfig(e, "127.0.0.1:0"))
	must(t, err)
	t.Cleanup(func() { first.Close() })
	if !strings.HasPrefix(first.URL(), "http://127.0.0.1:") || !strings.HasSuffix(first.URL(), programs.DefaultPath) {
		t.Fatalf("URL = %q", first.URL())
	}

	// The same data directory, another port: refused, naming the holder.
	_, err = programs.Start(ctx, startConfig(e, "127.0.0.1:0"))
	if core.ErrorCode(err) != core.ECONFLICT || core.ErrorField(err) != "serve" || !strings.Contains(err.Error(), first.URL()) {
		t.Fatalf("second Start on the directory: %v, want ECONFLICT on serve naming %s", err, first.URL())
	}
	// Another data directory, the same port: the port is taken.
	other := newEnv(t, envOptions{})
	_, err = programs.Start(ctx, startConfig(other, first.Addr()))
	if core.ErrorCode(err) != core.ECONFLICT || core.ErrorField(err) != "addr" || !strings.Contains(err.Error(), "--addr") {
		t.Fatalf("Start on a taken port: %v, want ECONFLICT on addr", err)
	}

	// Once the first stops, the directory can be served again.
	must(t, first.Close())
	again, err := programs.Start(ctx, startConfig(e, "127.0.0.1:0"))
	must(t, err)
	must(t, again.Close())
}

func TestStartTakesOverFromAProcessThatDied(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	// A worker that died without releasing: its lease would last an
	// hour, and the lock file still names it.
	ok, err := e.store.AcquireWorkerLease(ctx, "dead-host/pid-1/x", time.Now(), time.Hour)
	must(t, err)
	if !ok {
		t.Fatal("could not set up the dead worker's lease")
	}
	notes, _ := json.Marshal(map[string]any{"owner": "dead-host/pid-1/x", "pid": 1, "url": "http://127.0.0.1:1/webhooks/physitrack"})
	must(t, os.MkdirAll(filepath.Join(e.home, "programs"), 0o700))
	must(t, os.WriteFile(filepath.Join(e.home, "programs", programs.LockFile), notes, 0o600))
	srv := newPDFServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) { servePDF(w, pdfBytes(1)) })
	s, err := e.store.Settings(ctx)
	must(t, err)
	s.DownloadOrigins = []string{srv.URL}
	must(t, e.store.SaveSettings(ctx, s))
	id := e.send(e.hookFor(srv.URL+"/p", "Knee"))
	r, err := programs.Start(ctx, startConfig(e, "127.0.0.1:0"))
	must(t, err)
	defer r.Close()
	// The new worker files the event at once instead of waiting an hour
	// for the dead one's lease.
	waitFor(t, "the event to be filed", func() bool { return e.event(id).Status == core.WebhookFiled })
}

// waitFor polls cond until it holds, failing the test after 20 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestStartRefusesBadConfiguration(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	tests := []struct {
		name  string
		c     func(c *programs.Config)
		code  string
		field string
	}{
		{"no secret", func(c *programs.Config) { c.Secret = "" }, core.EUNAUTHORIZED, "webhook-secret"},
		{"path without slash", func(c *programs.Config) { c.Path = "webhooks" }, core.EINVALID, "path"},
		{"path with a pattern", func(c *programs.Config) { c.Path = "/{x}" }, core.EINVALID, "path"},
		{"cert without key", func(c *programs.Config) { c.TLSCertFile = "cert.pem" }, core.EINVALID, "tls-cert"},
		{"missing cert files", func(c *programs.Config) { c.TLSCertFile, c.TLSKeyFile = "nope.pem", "nope.key" }, core.EINVALID, "tls-cert"},
		{"not an address", func(c *programs.Config) { c.Addr = "nowhere" }, core.EINVALID, "addr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := startConfig(e, "127.0.0.1:0")
			tt.c(&c)
			r, err := programs.Start(ctx, c)
			if err == nil {
				r.Close()
			}
			if core.ErrorCode(err) != tt.code || core.ErrorField(err) != tt.field {
				t.Fatalf("err = %v, want %s on %s", err, tt.code, tt.field)
			}
		})
	}
}

func TestStartServesHTTPS(t *testing.T) {
	e := newEnv(t, envOptions{})
	certFile, keyFile, pool := selfSignedCert(t)
	c := startConfig(e, "127.0.0.1:0")
	c.TLSCertFile, c.TLSKeyFile = certFile, keyFile
	r, err := programs.Start(context.Background(), c)
	must(t, err)
	defer r.Close()
	if !strings.HasPrefix(r.URL(), "https://") {
		t.Fatalf("URL = %q, want https", r.URL())
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	body, _ := json.Marshal(e.hookFor("https://uk.physitrack.com/pdf/1", "Knee"))
	res, err := client.Post(r.URL(), "application/json", bytes.NewReader(body))
	must(t, err)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d over https", res.StatusCode)
	}
}

// selfSignedCert writes a certificate for 127.0.0.1 and its key, and
// returns a pool that trusts it.
func selfSignedCert(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:   time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	must(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	must(t, err)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	must(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	must(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600))
	cert, err := x509.ParseCertificate(der)
	must(t, err)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestSecretFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "webhook-secret")
	must(t, programs.WriteSecretFile(path, testSecret))
	fi, err := os.Stat(path)
	must(t, err)
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret file mode %04o, want 0600", fi.Mode().Perm())
	}
	got, err := programs.ReadSecretFile(path)
	must(t, err)
	if got != testSecret {
		t.Fatal("read back a different secret")
	}
	if err := programs.WriteSecretFile(path, "short"); core.ErrorCode(err) != core.EINVALID {
		t.Fatalf("weak secret written: %v", err)
	}

	if runtime.GOOS != "windows" {
		must(t, os.Chmod(path, 0o644))
		_, err = programs.ReadSecretFile(path)
		if core.ErrorCode(err) != core.EINVALID || !strings.Contains(err.Error(), "chmod 600 "+path) {
			t.Fatalf("group-readable secret file: %v, want a refusal with the fix", err)
		}
		if strings.Contains(err.Error(), testSecret) {
			t.Fatal("the error shows the secret")
		}
		// Writing again makes an existing file private.
		must(t, programs.WriteSecretFile(path, testSecret))
		if _, err := programs.ReadSecretFile(path); err != nil {
			t.Fatalf("after rewriting: %v", err)
		}
	}
	_, err = programs.ReadSecretFile(filepath.Join(dir, "missing"))
	if core.ErrorCode(err) != core.ENOTFOUND || !strings.Contains(err.Error(), "--generate --file") {
		t.Fatalf("missing file: %v", err)
	}
}
