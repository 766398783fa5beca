package web_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"gmailoauth/internal/apptest"
)

// TestBehindNginx runs the app as docs/nginx.conf deploys it: two instances
// behind Debian's nginx, reached over https, with nginx's limits on the
// sign-in routes. The file is used as it is, with only its addresses, host
// name and certificate paths replaced.
func TestBehindNginx(t *testing.T) {
	nginx := findNginx(t)
	// nginx takes over sockets the test has bound already, so there is no
	// port to race for and nothing to wait for: connections queue until
	// nginx accepts them.
	httpsListener, httpListener := listenLoopback(t), listenLoopback(t)
	public := "https://localhost:" + port(httpsListener)
	env := apptest.Start(t, apptest.Options{Instances: 2, PublicURL: public})
	dir := t.TempDir()
	roots := writeCertificate(t, dir)
	site := siteConfig(t, []replacement{
		{old: "listen 80;", new: "listen 127.0.0.1:" + port(httpListener) + ";", count: 1},
		{old: "listen 443 ssl http2;", new: "listen 127.0.0.1:" + port(httpsListener) + " ssl http2;", count: 1},
		{old: "server 127.0.0.1:5000;", new: "server " + strings.TrimPrefix(env.Apps[0].URL, "http://") + ";", count: 1},
		{old: "server 127.0.0.1:5002;", new: "server " + strings.TrimPrefix(env.Apps[1].URL, "http://") + ";", count: 1},
		{old: "server_name mail.example.com;", new: "server_name localhost;", count: 2},
		{old: "/etc/ssl/certs/mail.example.com.pem", new: filepath.Join(dir, "cert.pem"), count: 1},
		{old: "/etc/ssl/private/mail.example.com.key", new: filepath.Join(dir, "key.pem"), count: 1},
	})
	startNginx(t, nginx, dir, site, httpsListener, httpListener)

	b := apptest.NewBrowser(t)
	b.Client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: true}

	toHTTPS := b.Get(t, "http://localhost:"+port(httpListener)+"/home?page=x")
	wantRedirect(t, toHTTPS, http.StatusPermanentRedirect, "https://localhost/home?page=x")

	b.SignIn(t, &apptest.App{URL: public}, hanako)
	inbox := getWith(t, b, public+"/home", "gzip")
	wantStatus(t, inbox, http.StatusOK)
	if inbox.Proto != "HTTP/2.0" || inbox.Header.Get("Content-Encoding") != "gzip" || inbox.Header.Get("Strict-Transport-Security") == "" {
		t.Errorf("GET /home through nginx: %s, Content-Encoding %q, HSTS %q; want HTTP/2, the app's gzip and HSTS",
			inbox.Proto, inbox.Header.Get("Content-Encoding"), inbox.Header.Get("Strict-Transport-Security"))
	}
	if n := len(apptest.FindAll(apptest.Parse(t, gunzip(t, inbox.Body)), "li.message")); n != 50 {
		t.Errorf("inbox through nginx: %d messages; want 50", n)
	}
	for i, app := range env.Apps {
		if served := requestsServed(t, app); served == 0 {
			t.Errorf("instance %d served no request of the sign-in; want nginx to share them out", i+1)
		}
	}
	wantRedirect(t, b.PostForm(t, public+"/logout", public, nil), http.StatusSeeOther, "/")

	// nginx's limit on the sign-in routes, per address: a burst of twenty
	// (less the two sign-in requests above), then 429.
	statuses := map[int]int{}
	for range 40 {
		statuses[b.Get(t, public+"/oauth").StatusCode]++
	}
	if statuses[http.StatusFound] == 0 || statuses[http.StatusTooManyRequests] < 15 || statuses[http.StatusFound]+statuses[http.StatusTooManyRequests] != 40 {
		t.Errorf("40 quick GET /oauth through nginx: statuses %v; want some 302, then 429 past the burst", statuses)
	}
}

// findNginx is Debian's nginx, or skips the test; REQUIRE_NGINX=1 (as CI
// sets) makes its absence a failure.
func findNginx(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("nginx")
	if err != nil {
		path, err = exec.LookPath("/usr/sbin/nginx")
	}
	if err != nil {
		if os.Getenv("REQUIRE_NGINX") == "1" {
			t.Fatalf("nginx not found (REQUIRE_NGINX=1): %v", err)
		}
		t.Skip("nginx not found: apt-get install nginx to run the proxy test")
	}
	return path
}

func listenLoopback(t *testing.T) *net.TCPListener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l.(*net.TCPListener)
}

func port(l net.Listener) string {
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// replacement is a change siteConfig makes to docs/nginx.conf, and how many
// times old must be found there, so that the file cannot drift from what
// the test replaces.
type replacement struct {
	old, new string
	count    int
}

// siteConfig returns docs/nginx.conf with the replacements made.
func siteConfig(t *testing.T, replacements []replacement) string {
	t.Helper()
	conf, err := os.ReadFile(filepath.Join("..", "..", "docs", "nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	site := string(conf)
	for _, r := range replacements {
		if n := strings.Count(site, r.old); n != r.count {
			t.Fatalf("docs/nginx.conf holds %q %d times; the test replaces it %d times", r.old, n, r.count)
		}
		site = strings.ReplaceAll(site, r.old, r.new)
	}
	return site
}

// startNginx runs nginx in the foreground with site in its http block,
// serving on the sockets of listeners, until the test ends.
func startNginx(t *testing.T, nginx, dir, site string, listeners ...*net.TCPListener) {
	t.Helper()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	sitePath := write("gmailoauth.conf", site)
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;" // the workers read and write in the test's directory
	}
	main := write("nginx.conf", fmt.Sprintf(`%s
daemon off;
worker_processes 1;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path %[2]s/client_body;
    proxy_temp_path %[2]s/proxy;
    fastcgi_temp_path %[2]s/fastcgi;
    uwsgi_temp_path %[2]s/uwsgi;
    scgi_temp_path %[2]s/scgi;
    include %[3]s;
}
`, user, dir, sitePath))

	cmd := exec.Command(nginx, "-p", dir, "-c", main, "-e", filepath.Join(dir, "error.log"))
	// NGINX names inherited listening sockets, as for nginx's binary
	// upgrade: nginx uses them for the listen directives of their address.
	var fds []string
	for i, l := range listeners {
		f, err := l.File()
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		cmd.ExtraFiles = append(cmd.ExtraFiles, f)
		fds = append(fds, strconv.Itoa(3+i))
	}
	cmd.Env = append(os.Environ(), "NGINX="+strings.Join(fds, ";")+";")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGQUIT) // finish what is in flight, then exit
		select {
		case <-exited:
		case <-time.After(hangGuard):
			cmd.Process.Kill()
			t.Errorf("nginx still running %v after SIGQUIT", hangGuard)
		}
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("nginx error.log:\n%s", log)
		}
	})
	// From here nginx accepts on the sockets; the test's own copies would
	// keep them open were nginx to exit, hanging requests instead of
	// refusing them.
	for _, l := range listeners {
		l.Close()
	}
}

// hangGuard only turns a hang into a failure; nothing waited for takes a
// fraction of it.
const hangGuard = time.Minute

// writeCertificate writes a self-signed certificate for localhost, and its
// key, to dir as cert.pem and key.pem, and returns a pool that trusts it.
func writeCertificate(t *testing.T, dir string) *x509.CertPool {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	for name, block := range map[string]*pem.Block{
		"cert.pem": {Type: "CERTIFICATE", Bytes: der},
		"key.pem":  {Type: "EC PRIVATE KEY", Bytes: keyDER},
	} {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	return roots
}

// requestsServed is how many requests app's metrics count, of any route.
func requestsServed(t *testing.T, app *apptest.App) float64 {
	t.Helper()
	var total float64
	for _, m := range regexp.MustCompile(`(?m)^gmailoauth_http_requests_total\{[^}]*\} (\S+)$`).FindAllStringSubmatch(scrape(t, app), -1) {
		n, _ := strconv.ParseFloat(m[1], 64)
		total += n
	}
	return total
}
