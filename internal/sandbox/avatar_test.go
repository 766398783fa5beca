package sandbox_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"gmailoauth/internal/sandbox"
)

// TestPictureClaim: with the profile scope, the ID token and userinfo carry
// picture, the URL of the account's avatar, as Google's do (OpenID Connect
// Core §5.1; Google's discovery document lists picture in
// claims_supported, and so does the sandbox's); the sandbox serves that
// avatar, the initial the consent page shows, as an image. Without the
// profile scope there is no picture.
func TestPictureClaim(t *testing.T) {
	f := newFixture(t, googleLike)
	var discovery struct {
		Claims []string `json:"claims_supported"`
	}
	f.get(t, sandbox.DiscoveryPath).decode(t, &discovery)
	if !slices.Contains(discovery.Claims, "picture") {
		t.Errorf("claims_supported = %q; want picture among them", discovery.Claims)
	}

	for _, tt := range []struct {
		scope       string
		wantPicture bool
	}{
		{"openid email profile", true},
		{"openid email", false},
	} {
		params := authParams()
		params.Set("scope", tt.scope)
		resp := f.postForm(t, sandbox.TokenPath, exchangeForm(f.code(t, params, hanako)))
		wantStatus(t, resp, http.StatusOK)
		var tokens struct {
			AccessToken string `json:"access_token"`
			IDToken     string `json:"id_token"`
		}
		resp.decode(t, &tokens)
		claims := verifyIDToken(t, f, tokens.IDToken)
		picture, _ := claims["picture"].(string)
		var userinfo struct{ Picture string }
		f.gmail(t, tokens.AccessToken, sandbox.UserinfoPath).decode(t, &userinfo)
		if !tt.wantPicture {
			if picture != "" || userinfo.Picture != "" {
				t.Errorf("scope %q: picture %q in the ID token, %q in userinfo; want none", tt.scope, picture, userinfo.Picture)
			}
			continue
		}
		if !strings.HasPrefix(picture, f.url+"/") || userinfo.Picture != picture {
			t.Fatalf("scope %q: picture %q in the ID token, %q in userinfo; want one URL of the sandbox", tt.scope, picture, userinfo.Picture)
		}
		image := f.get(t, strings.TrimPrefix(picture, f.url))
		wantStatus(t, image, http.StatusOK)
		// Hanako's name is 山田 花子: the consent page shows 山.
		if image.header.Get("Content-Type") != "image/svg+xml" || !strings.Contains(string(image.body), ">山</text>") {
			t.Errorf("GET %s = %s, %s; want an SVG of the initial 山", picture, image.header.Get("Content-Type"), image.body)
		}
	}
	if got := f.get(t, "/a/100000000000000000000").status; got != http.StatusNotFound {
		t.Errorf("GET the avatar of no account = %d; want 404", got)
	}
}
