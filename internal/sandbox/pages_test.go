package sandbox_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"gmailoauth/internal/sandbox"
)

func TestSandboxPages(t *testing.T) {
	f := newFixture(t)
	// The message page shows mail to a browser signed in to the account.
	f.signInToGoogle(t, hanako, alex)
	token := f.sandbox.IssueToken(hanako).AccessToken
	nakamura := f.findMessage(t, token, subjectIs("ご無沙汰しております")).ID
	script := f.findMessage(t, token, subjectIs(`<script>alert("x")</script> Quarterly report`)).ID
	koi8 := f.findMessage(t, token, func(m messageResource) bool {
		from, _ := m.header("From")
		return strings.HasSuffix(from, "<ivan.petrov@example.ru>")
	})
	split := f.findMessage(t, token, func(m messageResource) bool {
		from, _ := m.header("From")
		return strings.HasSuffix(from, "<info@shoji.example.co.jp>")
	})
	if subject, _ := koi8.header("Subject"); subject != "=?KOI8-R?B?8NLJ18XUIMnaIO3P08vX2Q==?=" {
		t.Errorf("Subject of the KOI8-R seed = %q; want it as KOI8-R encoded words", subject)
	}
	tests := []struct {
		name            string
		path            string
		wantStatus      int
		wantContentType string
		wantContains    []string
		wantAbsent      []string
	}{
		{"index", "/", http.StatusOK, "text/html; charset=utf-8",
			[]string{`<html lang="en">`, "not Google", "山田 花子", hanako, alex, emptyBox, "75 unread"}, nil},
		{"stylesheet", "/sandbox.css", http.StatusOK, "text/css; charset=utf-8",
			[]string{"prefers-color-scheme: dark", `"Noto Sans CJK JP"`, `"Hiragino Sans"`, "sans-serif"}, nil},
		{"favicon", "/favicon.ico", http.StatusOK, "image/x-icon", []string{"\x00\x00\x01\x00"}, nil},
		{"message by address", "/mail/u/" + hanako + "/message/" + nakamura, http.StatusOK, "text/html; charset=utf-8",
			[]string{"ご無沙汰しております", "中村 太郎", "来月東京に行く予定"}, nil},
		{"message by account index", "/mail/u/0/message/" + nakamura, http.StatusOK, "text/html; charset=utf-8",
			[]string{"ご無沙汰しております"}, nil},
		{"message in KOI8-R", "/mail/u/0/message/" + koi8.ID, http.StatusOK, "text/html; charset=utf-8",
			[]string{"Привет из Москвы", "Иван Петров"}, []string{"=?KOI8-R?"}},
		{"message in ISO-2022-JP cut inside a character", "/mail/u/0/message/" + split.ID, http.StatusOK, "text/html; charset=utf-8",
			[]string{"【ご案内】年末年始の営業時間について", "株式会社サンプル商事"}, []string{"=?ISO-2022-JP?", "\uFFFD"}},
		{"message with markup in the subject", "/mail/u/" + hanako + "/message/" + script, http.StatusOK, "text/html; charset=utf-8",
			[]string{"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; Quarterly report"}, []string{"<script>"}},
		{"message of another account", "/mail/u/" + alex + "/message/" + nakamura, http.StatusNotFound, "text/html; charset=utf-8",
			[]string{"not Google"}, nil},
		{"account not signed in", "/mail/u/nobody@example.com/message/" + nakamura, http.StatusFound, "text/html; charset=utf-8", nil, nil},
		{"unknown page", "/no/such/page", http.StatusNotFound, "text/html; charset=utf-8", []string{"not_found"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := f.get(t, tt.path)
			if resp.status != tt.wantStatus {
				t.Fatalf("GET %s = %d; want %d", tt.path, resp.status, tt.wantStatus)
			}
			if got := resp.header.Get("Content-Type"); got != tt.wantContentType {
				t.Errorf("Content-Type = %q; want %q", got, tt.wantContentType)
			}
			for _, want := range tt.wantContains {
				if !bytes.Contains(resp.body, []byte(want)) {
					t.Errorf("GET %s lacks %q", tt.path, want)
				}
			}
			for _, absent := range tt.wantAbsent {
				if bytes.Contains(resp.body, []byte(absent)) {
					t.Errorf("GET %s contains %q", tt.path, absent)
				}
			}
			wantSecurityHeaders(t, resp)
		})
	}
}

// TestPagesReadWellOnAPhone checks what a person sees of the index and
// consent pages: one title, and the client ID, scopes and redirect URI
// whole in the text but with places to wrap between their parts.
func TestPagesReadWellOnAPhone(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name, path string
		wantTitle  string
		wantText   []string
		wantHTML   []string
	}{
		{"index", "/", "<title>Google sign-in sandbox</title>",
			[]string{clientID, redirectURI, "GET /gmail/v1/users/me/messages"},
			[]string{"sandbox-test<wbr>.apps<wbr>.googleusercontent<wbr>.com", "http:/<wbr>/<wbr>127<wbr>.0<wbr>.0<wbr>.1:8080/<wbr>callback"}},
		{"consent", sandbox.AuthPath + "?" + authParams().Encode(), "<title>Sign in · Google sign-in sandbox</title>",
			[]string{clientID, redirectURI, sandbox.GmailScope},
			[]string{"https:/<wbr>/<wbr>www<wbr>.googleapis<wbr>.com/<wbr>auth/<wbr>gmail<wbr>.readonly"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := f.get(t, tt.path)
			wantStatus(t, resp, http.StatusOK)
			if got := bytes.Count(resp.body, []byte("<title>")); got != 1 || !bytes.Contains(resp.body, []byte(tt.wantTitle)) {
				t.Errorf("GET %s has %d titles; want one, %s", tt.path, got, tt.wantTitle)
			}
			text := pageText(resp.body)
			for _, want := range tt.wantText {
				if !strings.Contains(text, want) {
					t.Errorf("GET %s: the text lacks %q", tt.path, want)
				}
			}
			for _, want := range tt.wantHTML {
				if !bytes.Contains(resp.body, []byte(want)) {
					t.Errorf("GET %s lacks %q", tt.path, want)
				}
			}
		})
	}
}

func wantSecurityHeaders(t *testing.T, resp response) {
	t.Helper()
	want := map[string]string{
		"Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; " +
			"form-action 'self' http://127.0.0.1:8080 https://app.example.com; frame-ancestors 'none'; base-uri 'none'",
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
	}
	for name, value := range want {
		if got := resp.header.Get(name); got != value {
			t.Errorf("%s = %q; want %q", name, got, value)
		}
	}
}

func TestErrorPagesCarrySecurityHeaders(t *testing.T) {
	f := newFixture(t)
	params := authParams()
	params.Set("redirect_uri", "https://evil.example/callback")
	resp := f.authorize(t, params)
	wantStatus(t, resp, http.StatusBadRequest)
	wantSecurityHeaders(t, resp)
	if !strings.Contains(string(resp.body), "https://evil.example/callback") {
		t.Errorf("redirect_uri_mismatch page does not name the refused URI")
	}
}

func TestUserinfo(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name       string
		token      string
		wantStatus int
		wantClaims map[string]any
	}{
		{"email and profile", f.sandbox.IssueToken(hanako, "openid", "email", "profile").AccessToken, http.StatusOK,
			map[string]any{"email": hanako, "email_verified": true, "name": "山田 花子", "given_name": "花子", "family_name": "山田", "picture": "/a/{sub}"}},
		{"openid only", f.sandbox.IssueToken(alex, "openid").AccessToken, http.StatusOK, map[string]any{}},
		{"Gmail only", f.sandbox.IssueToken(alex).AccessToken, http.StatusForbidden, nil},
		{"no token", "", http.StatusUnauthorized, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := f.gmail(t, tt.token, sandbox.UserinfoPath)
			wantStatus(t, resp, tt.wantStatus)
			if tt.wantStatus != http.StatusOK {
				return
			}
			var claims map[string]any
			resp.decode(t, &claims)
			sub, ok := claims["sub"].(string)
			if !ok || len(sub) < 10 {
				t.Errorf("sub = %v; want a stable numeric ID", claims["sub"])
			}
			for name, want := range tt.wantClaims {
				if name == "picture" { // the avatar, by sub, at the sandbox
					want = f.url + strings.ReplaceAll(want.(string), "{sub}", sub)
				}
				if claims[name] != want {
					t.Errorf("%s = %v; want %v", name, claims[name], want)
				}
			}
			if len(claims) != len(tt.wantClaims)+1 {
				t.Errorf("claims = %v; want only sub and %v", claims, tt.wantClaims)
			}
		})
	}
}

func TestNewValidatesOptions(t *testing.T) {
	valid := func() sandbox.Options {
		return sandbox.Options{ClientID: clientID, ClientSecret: clientSecret, RedirectURIs: []string{redirectURI}}
	}
	tests := []struct {
		name    string
		edit    func(*sandbox.Options)
		wantErr bool
	}{
		{"valid", func(*sandbox.Options) {}, false},
		{"missing client ID", func(o *sandbox.Options) { o.ClientID = "" }, true},
		{"missing client secret", func(o *sandbox.Options) { o.ClientSecret = "" }, true},
		{"no redirect URIs", func(o *sandbox.Options) { o.RedirectURIs = nil }, true},
		{"relative redirect URI", func(o *sandbox.Options) { o.RedirectURIs = []string{"/callback"} }, true},
		{"custom scheme", func(o *sandbox.Options) { o.RedirectURIs = []string{"myapp://callback"} }, true},
		{"fragment", func(o *sandbox.Options) { o.RedirectURIs = []string{redirectURI + "#top"} }, true},
		{"negative code TTL", func(o *sandbox.Options) { o.CodeTTL = -1 }, true},
		{"negative access token TTL", func(o *sandbox.Options) { o.AccessTokenTTL = -1 }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := valid()
			tt.edit(&opts)
			_, err := sandbox.New(opts)
			if (err != nil) != tt.wantErr {
				t.Errorf("New(%+v) error = %v; want error: %v", opts, err, tt.wantErr)
			}
		})
	}
}
