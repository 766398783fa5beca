package clienttest

import (
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// TestSignInWithGoogle verifies the sandbox's ID token with go-oidc, an
// OpenID Connect library this project does not write: discovery at the
// sandbox's issuer, the signature against its published keys, the
// audience, the nonce and the access token's hash.
func TestSignInWithGoogle(t *testing.T) {
	sb := startSandbox(t, "-auto-approve", hanako)
	ctx := t.Context()
	provider, err := oidc.NewProvider(ctx, sb.base)
	if err != nil {
		t.Fatalf("discover the sandbox's OpenID provider: %v", err)
	}
	config := sb.config(oidc.ScopeOpenID, "email", "profile")
	config.Endpoint = provider.Endpoint()
	const nonce = "n-0S6_WzA2Mj"
	token := sb.signIn(t, config, oauth2.SetAuthURLParam("nonce", nonce))
	raw, ok := token.Extra("id_token").(string)
	if !ok {
		t.Fatalf("the token response holds no id_token")
	}
	idToken, err := provider.Verifier(&oidc.Config{ClientID: sb.clientID}).Verify(ctx, raw)
	if err != nil {
		t.Fatalf("go-oidc refuses the ID token: %v", err)
	}
	if idToken.Nonce != nonce {
		t.Errorf("nonce = %q; want %q", idToken.Nonce, nonce)
	}
	if err := idToken.VerifyAccessToken(token.AccessToken); err != nil {
		t.Errorf("at_hash does not match the access token: %v", err)
	}
	var claims struct {
		Email         string `json:"email"`
		EmailVerified bool   `json:"email_verified"`
		Name          string `json:"name"`
	}
	if err := idToken.Claims(&claims); err != nil || claims.Email != hanako || !claims.EmailVerified || claims.Name != "山田 花子" {
		t.Errorf("claims = %+v, %v; want %s, verified, and her name", claims, err, hanako)
	}
	userinfo, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(token))
	if err != nil || userinfo.Email != hanako || userinfo.Subject != idToken.Subject {
		t.Errorf("userinfo = %+v, %v; want %s with the ID token's subject", userinfo, err, hanako)
	}

	// Another client's ID token is refused: the audience is checked.
	if _, err := provider.Verifier(&oidc.Config{ClientID: "someone-else"}).Verify(ctx, raw); err == nil {
		t.Error("go-oidc accepted the ID token for another client")
	}
}
