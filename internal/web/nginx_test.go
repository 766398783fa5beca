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
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"gmailoauth/internal/apptest"
)

// TestBehindNginx runs the app as docs/nginx.conf deploys it: two instances
// behind Debian's nginx, reached over https, each person kept on one
// instance, and nginx's limit on starting a sign-in. The file is used as it
// is, with only its addresses, host name and certificate paths replaced.
func TestBehindNginx(t *testing.T) {
	nginx := findNginx(t)
	// nginx takes over sockets the test has bound already, so there is no
	// port to race for and nothing to wait for: connections queue until
	// nginx accepts them.
	httpsListener, httpListener := listenLoopback(t), listenLoopback(t)
	public := "https://localhost:" + port(httpsListener)
	env := apptest.Start(t, apptest.Options{Instances: 2, PublicURL: public})
	// nginx reaches each instance through a server of the test's own,
	// which the test can stop, and which counts each request before the
	// app answers it: a count read once a response is in is final.
	var served [2]atomic.Int64
	servedByEach := func() [2]int64 { return [2]int64{served[0].Load(), served[1].Load()} }
	var instances [2]*httptest.Server
	for i := range instances {
		app := env.Apps[i].Server
		instances[i] = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			served[i].Add(1)
			app.ServeHTTP(w, r)
		}))
		t.Cleanup(instances[i].Close)
	}
	dir := t.TempDir()
	roots := writeCertificate(t, dir)
	site := siteConfig(t, []replacement{
		{old: "listen 80;", new: "listen 127.0.0.1:" + port(httpListener) + ";", count: 1},
		{old: "listen 443 ssl http2;", new: "listen 127.0.0.1:" + port(httpsListener) + " ssl http2;", count: 1},
		{old: "server 127.0.0.1:5000;", new: "server " + instances[0].Listener.Addr().String() + ";", count: 1},
		{old: "server 127.0.0.1:5002;", new: "server " + instances[1].Listener.Addr().String() + ";", count: 1},
		{old: "server_name mail.example.com;", new: "server_name localhost;", count: 2},
		{old: "/etc/ssl/certs/mail.example.com.pem", new: filepath.Join(dir, "cert.pem"), count: 1},
		{old: "/etc/ssl/private/mail.example.com.key", new: filepath.Join(dir, "key.pem"), count: 1},
	})
	startNginx(t, nginx, dir, site, httpsListener, httpListener)
	// The HSTS value the app sends; nginx sends it, once, on every answer.
	hsts := apptest.NewBrowser(t).Get(t, env.Apps[0].URL+"/healthz").Header.Values("Strict-Transport-Security")
	if len(hsts) != 1 {
		t.Fatalf("GET /healthz from the app: Strict-Transport-Security %q; want one value", hsts)
	}
	wantHSTS := func(resp *apptest.Response) {
		t.Helper()
		if got := resp.Header.Values("Strict-Transport-Security"); !slices.Equal(got, hsts) {
			t.Errorf("%s %s through nginx = %d with Strict-Transport-Security %q; want %q", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, got, hsts)
		}
	}

	b := browserFrom(t, roots, "127.0.0.1")
	// Whatever Host a client sends, the redirect to https goes to the
	// server's own name.
	req, err := http.NewRequest(http.MethodGet, "http://127.0.0.1:"+port(httpListener)+"/home?page=x", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "evil.example"
	toHTTPS := b.Do(t, req)
	wantRedirect(t, toHTTPS, http.StatusPermanentRedirect, "https://localhost/home?page=x")
	if server := toHTTPS.Header.Get("Server"); server != "nginx" {
		t.Errorf("GET /home over http: Server %q; want nginx without its version", server)
	}

	b.SignIn(t, &apptest.App{URL: public}, hanako)
	inbox := getWith(t, b, public+"/home", "gzip")
	wantStatus(t, inbox, http.StatusOK)
	if inbox.Proto != "HTTP/2.0" || inbox.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("GET /home through nginx: %s, Content-Encoding %q; want HTTP/2 and the app's gzip", inbox.Proto, inbox.Header.Get("Content-Encoding"))
	}
	wantHSTS(inbox)
	if n := len(apptest.FindAll(apptest.Parse(t, gunzip(t, inbox.Body)), "li.message")); n != 50 {
		t.Errorf("inbox through nginx: %d messages; want 50", n)
	}

	// Affinity: a signed-in person's views all go to one instance.
	const views = 6
	before := servedByEach()
	for range views {
		wantStatus(t, b.Get(t, public+"/home"), http.StatusOK)
	}
	after := servedByEach()
	home := 0 // the person's instance
	if after[1]-before[1] > after[0]-before[0] {
		home = 1
	}
	if after[home]-before[home] != views || after[1-home] != before[1-home] {
		t.Errorf("%d GET /home with one session: instances served %v more; want all %d by one of them", views, []int64{after[0] - before[0], after[1] - before[1]}, views)
	}
	// Without a session, requests are shared out: a first visit is not
	// always the same instance's. That 30 of them, each with a random key,
	// all land on the same one of two is negligible (2 in a billion at
	// even odds).
	newcomer := browserFrom(t, roots, "127.0.0.1")
	newcomer.Client.Jar = nil
	before = servedByEach()
	for range 30 {
		wantStatus(t, newcomer.Get(t, public+"/"), http.StatusOK)
	}
	if after = servedByEach(); after[0] == before[0] || after[1] == before[1] {
		t.Errorf("30 GET / without a session: instances served %v more; want both some", []int64{after[0] - before[0], after[1] - before[1]})
	}

	// nginx's limit on /oauth, per client address, counted from an address
	// of the test's own, 127.0.0.2: a burst of 20 above the rate (21 at
	// once), then one every 6 s; and the 429 page says when to retry.
	const burst, every = 21, 6 * time.Second
	signer, script := browserFrom(t, roots, "127.0.0.2"), browserFrom(t, roots, "127.0.0.2")
	began := time.Now()
	consent := signer.StartSignIn(t, &apptest.App{URL: public})
	statuses := map[int]int{}
	var limited *apptest.Response
	for range 2 * burst {
		resp := script.Get(t, public+"/oauth")
		statuses[resp.StatusCode]++
		if resp.StatusCode == http.StatusTooManyRequests {
			limited = resp
		}
	}
	// However slowly the requests went, no more passed than the burst and
	// what the rate gave back meanwhile.
	refilled := int((time.Since(began) + every - 1) / every)
	passed := 1 + statuses[http.StatusFound] // the signer's, then the script's
	if passed < burst || passed > burst+refilled || statuses[http.StatusFound]+statuses[http.StatusTooManyRequests] != 2*burst {
		t.Errorf("1+%d quick GET /oauth from one address through nginx: %d passed, the script's statuses %v; want %d to %d to pass, then 429",
			2*burst, passed, statuses, burst, burst+refilled)
	}
	if limited != nil {
		wantHSTS(limited)
		if server := limited.Header.Get("Server"); server != "nginx" {
			t.Errorf("GET /oauth past the limit: Server %q; want nginx without its version", server)
		}
		if got := limited.Header.Get("Retry-After"); got != strconv.Itoa(int(every/time.Second)) {
			t.Errorf("GET /oauth past the limit: Retry-After %q; want %d", got, int(every/time.Second))
		}
	}
	// The sign-in started before the limit was reached ends, past it: the
	// person has allowed access, and /callback is never limited.
	back := signer.Get(t, signer.Decide(t, consent, "allow").Location(t).String())
	wantRedirect(t, back, http.StatusSeeOther, "/home")

	tooLarge := b.PostForm(t, public+"/logout", public, url.Values{"x": {strings.Repeat("x", 9<<10)}})
	wantStatus(t, tooLarge, http.StatusRequestEntityTooLarge)
	wantHSTS(tooLarge)

	// Failover: with the person's instance down, the other one serves
	// them, signed in with the same SESSION_KEYS.
	instances[home].Close()
	before = servedByEach()
	inbox = b.Get(t, public+"/home")
	wantStatus(t, inbox, http.StatusOK)
	if n := len(apptest.FindAll(apptest.Parse(t, inbox.Body), "li.message")); n != 50 {
		t.Errorf("inbox through nginx with instance %d down: %d messages; want 50", home+1, n)
	}
	if after = servedByEach(); after[1-home] != before[1-home]+1 {
		t.Errorf("GET /home with instance %d down: instance %d served %v; want 1", home+1, 2-home, after[1-home]-before[1-home])
	}
	wantRedirect(t, b.PostForm(t, public+"/logout", public, nil), http.StatusSeeOther, "/")
}

// browserFrom is a browser that trusts roots and connects from ip, a
// loopback address: nginx limits per client address.
func browserFrom(t *testing.T, roots *x509.CertPool, ip string) *apptest.Browser {
	t.Helper()
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	b := apptest.NewBrowser(t)
	b.Client.Transport = &http.Transport{
		DialContext:       dialer.DialContext,
		TLSClientConfig:   &tls.Config{RootCAs: roots},
		ForceAttemptHTTP2: true,
	}
	return b
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
