package sandbox_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"gmailoauth/internal/sandbox"
)

type discoveryMethod struct {
	ID, Path, HTTPMethod string
}

type discoveryResource struct {
	Methods   map[string]discoveryMethod
	Resources map[string]discoveryResource
}

// methods lists every method of r and the resources below it.
func (r discoveryResource) methods() []discoveryMethod {
	var all []discoveryMethod
	for _, m := range r.Methods {
		all = append(all, m)
	}
	for _, sub := range r.Resources {
		all = append(all, sub.methods()...)
	}
	return all
}

// TestGmailDiscoveryDocument: the document at Google's discovery paths
// has the sandbox as its root and batch path, and exactly the methods the
// sandbox serves, each answering where the document says.
func TestGmailDiscoveryDocument(t *testing.T) {
	f := newFixture(t, googleLike)
	token := f.sandbox.IssueToken(hanako).AccessToken
	var profile struct{ HistoryID string }
	f.gmail(t, token, "/gmail/v1/users/me/profile").decode(t, &profile)
	historyID := profile.HistoryID
	for _, path := range []string{sandbox.GmailDiscoveryPath, "/$discovery/rest?version=v1"} {
		resp := f.get(t, path)
		wantStatus(t, resp, http.StatusOK)
		var doc struct {
			RootURL   string `json:"rootUrl"`
			BatchPath string `json:"batchPath"`
			Resources map[string]discoveryResource
		}
		resp.decode(t, &doc)
		if doc.RootURL != f.url+"/" || doc.BatchPath != "batch" {
			t.Errorf("GET %s: rootUrl %q, batchPath %q; want %q and batch", path, doc.RootURL, doc.BatchPath, f.url+"/")
		}
		var ids []string
		for _, m := range doc.Resources["users"].methods() {
			ids = append(ids, m.ID)
			target := strings.ReplaceAll(m.Path, "{userId}", "me")
			if m.HTTPMethod != http.MethodGet || strings.Contains(target, "{id}") {
				continue // each method with an ID or a body is tested by its own test
			}
			if m.ID == "gmail.users.history.list" {
				target += "?startHistoryId=" + historyID
			}
			if got := f.gmail(t, token, "/"+target).status; got != http.StatusOK {
				t.Errorf("%s at /%s = %d; want 200, served where the document says", m.ID, target, got)
			}
		}
		slices.Sort(ids)
		want := []string{"gmail.users.getProfile", "gmail.users.history.list", "gmail.users.labels.get", "gmail.users.labels.list",
			"gmail.users.messages.get", "gmail.users.messages.insert", "gmail.users.messages.list", "gmail.users.messages.modify",
			"gmail.users.threads.get", "gmail.users.threads.list"}
		if !slices.Equal(ids, want) {
			t.Errorf("GET %s: methods %v; want %v, the ones the sandbox serves", path, ids, want)
		}
	}
	if got := f.get(t, "/$discovery/rest?version=v2").status; got != http.StatusNotFound {
		t.Errorf("a discovery document of another version = %d; want 404", got)
	}
}

// TestBatchAtTheDiscoveryDocumentsPath: clients built from the document
// send batches to its batchPath, /batch.
func TestBatchAtTheDiscoveryDocumentsPath(t *testing.T) {
	f := newFixture(t, googleLike)
	token := f.sandbox.IssueToken(hanako).AccessToken
	req := f.batchRequest(t, token, []batchPart{getPart("1", "/gmail/v1/users/me/profile")})
	req.URL, _ = url.Parse(f.url + "/batch")
	resp := f.do(t, req)
	wantStatus(t, resp, http.StatusOK)
	parts := parseBatchResponse(t, resp)
	if len(parts) != 1 || parts[0].status != http.StatusOK {
		t.Errorf("POST /batch with a profile call = %+v; want its answer, 200", parts)
	}
}

// TestDiscoveryFormatsAreTheOnesServed: Google's Gmail discovery document
// (gmail/v1/gmail-api.json, as google-api-go-client ships it) offers
// threads.get the formats full, metadata and minimal, and messages.get raw
// as well; the sandbox's document says the same, and threads.get refuses
// raw as Google does.
func TestDiscoveryFormatsAreTheOnesServed(t *testing.T) {
	f := newFixture(t, googleLike)
	var doc struct {
		Resources struct {
			Users struct {
				Resources map[string]struct {
					Methods map[string]struct {
						Parameters map[string]struct{ Enum []string }
					}
				}
			}
		}
	}
	f.get(t, sandbox.GmailDiscoveryPath).decode(t, &doc)
	for _, tt := range []struct {
		resource string
		want     []string
	}{
		{"threads", []string{"full", "metadata", "minimal"}},
		{"messages", []string{"full", "metadata", "minimal", "raw"}},
	} {
		got := slices.Sorted(slices.Values(doc.Resources.Users.Resources[tt.resource].Methods["get"].Parameters["format"].Enum))
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s.get formats in the discovery document = %v; want %v", tt.resource, got, tt.want)
		}
	}
	token := f.sandbox.IssueToken(hanako).AccessToken
	id := f.listAll(t, token, "")[0]
	wantGoogleError(t, "threads.get format=raw", f.gmail(t, token, "/gmail/v1/users/me/threads/"+id+"?format=raw"),
		http.StatusBadRequest, "INVALID_ARGUMENT", "invalidArgument")
}
