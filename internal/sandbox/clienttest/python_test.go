package clienttest

import (
	"cmp"
	"context"
	"os"
	"os/exec"
	"testing"
)

// TestGooglesPythonClient runs python/check.py, Google's Python client
// (Debian's python3-googleapi and python3-google-auth-oauthlib) against
// the standalone sandbox started as every test here starts it: sign-in,
// gmail v1 built from the sandbox's discovery document, a list with q, a
// batch, history.list page by page, and a 400 read as HttpError. $PYTHON
// names the interpreter (default python3); without those modules the test
// is skipped, unless REQUIRE_PYTHON_CLIENT is set, as CI sets it.
func TestGooglesPythonClient(t *testing.T) {
	python := cmp.Or(os.Getenv("PYTHON"), "python3")
	if err := exec.Command(python, "-c", "import googleapiclient, google_auth_oauthlib").Run(); err != nil {
		if os.Getenv("REQUIRE_PYTHON_CLIENT") != "" {
			t.Fatalf("%s has no googleapiclient and google_auth_oauthlib (%v); apt-get install python3-googleapi python3-google-auth-oauthlib", python, err)
		}
		t.Skipf("%s has no googleapiclient and google_auth_oauthlib (%v); apt-get install python3-googleapi python3-google-auth-oauthlib", python, err)
	}
	sb := startSandbox(t, "-auto-approve", hanako)
	ctx, cancel := context.WithTimeout(t.Context(), hangGuard)
	defer cancel()
	check := exec.CommandContext(ctx, python, "python/check.py")
	check.Env = append(os.Environ(), "SANDBOX_URL="+sb.base, "GOOGLE_CLIENT_ID="+sb.clientID,
		"GOOGLE_CLIENT_SECRET="+sb.clientSecret, "REDIRECT_URI="+redirectURI, "ACCOUNT="+hanako)
	out, err := check.CombinedOutput()
	if err != nil {
		t.Fatalf("%s python/check.py: %v\n%s", python, err, out)
	}
	t.Logf("%s", out)
}
