package web_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"gmailoauth/internal/apptest"
	"gmailoauth/internal/config"
	"gmailoauth/internal/web"
)

func TestBrokenTemplateFailsAtStart(t *testing.T) {
	templates := apptest.MapFS(t, apptest.Templates(t))
	templates["inbox.html"].Data = []byte(`{{define "main"}}{{range .Messages}}{{end}`)
	cfg := config.Config{
		ClientID: "id", RedirectURL: "http://127.0.0.1/callback", AuthURL: "http://a", TokenURL: "http://t",
		GmailAPIURL: "http://127.0.0.1:1", SessionKeys: newKeys(t), PageTimeout: time.Second, CallTimeout: time.Second,
	}
	deps := web.NewDeps(templates, apptest.Static(t), slog.New(slog.DiscardHandler))
	if _, err := web.New(cfg, deps); err == nil || !strings.Contains(err.Error(), "inbox.html") {
		t.Errorf("web.New with a broken inbox.html: err = %v; want one naming inbox.html", err)
	}
}

func TestTemplateErrorIsACleanPage(t *testing.T) {
	templates := apptest.MapFS(t, apptest.Templates(t))
	// The inbox, because the signed-out start page is rendered at start.
	templates["inbox.html"].Data = bytes.Replace(templates["inbox.html"].Data,
		[]byte(`{{define "main"}}`), []byte(`{{define "main"}}<p>half a page</p>{{.NoSuchField}}`), 1)
	_, app := start(t, apptest.Options{Deps: func(d *web.Deps) { d.Templates = templates }})
	b := apptest.NewBrowser(t)
	b.SignIn(t, app, hanako)
	resp := b.Get(t, app.URL+"/home")
	wantStatus(t, resp, http.StatusInternalServerError)
	if bytes.Contains(resp.Body, []byte("half a page")) || bytes.Contains(resp.Body, []byte("NoSuchField")) {
		t.Errorf("template error leaked half a page or internals:\n%s", clipBody(resp.Body))
	}
	if got := heading(t, resp); got != "Something went wrong on our side" {
		t.Errorf("h1 = %q; want the shared error page", got)
	}
}
