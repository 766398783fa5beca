// Package e2e drives the app and its sandbox Google in headless Chromium:
// the flows a person clicks through, checked the way a browser sees them,
// with no console error, failed load or CSP violation on any page.
//
// The tests need Debian's Chromium. Without it they skip, unless
// E2E_REQUIRE_BROWSER=1 (as CI sets), which makes a missing browser a failure.
package e2e

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"testing"
)

const (
	// chromiumEnv names the variable that says which Chromium to drive. A path
	// that does not exist runs the suite as on a machine without a browser.
	chromiumEnv = "CHROMIUM"
	// requireBrowserEnv set to 1 turns a missing browser from a skip into a
	// failure, so CI never passes by skipping.
	requireBrowserEnv = "E2E_REQUIRE_BROWSER"
	// debianChromium is where Debian's chromium package installs its launcher.
	debianChromium = "/usr/bin/chromium"
	// missingChromium is what TestMain says, once, when the browser tests skip.
	missingChromium = "chromium not found: browser tests skipped; install Debian's chromium"
)

// screenshotDir, when set, makes TestScreenshots save the pages there.
var screenshotDir = flag.String("screenshots", "", "save screenshots of the app's pages as PNGs in this directory")

// chromiumPath is the browser TestMain found; chromiumErr says why there is none.
var (
	chromiumPath string
	chromiumErr  error
)

func TestMain(m *testing.M) {
	flag.Parse()
	chromiumPath, chromiumErr = findChromium(os.Getenv, exec.LookPath)
	if chromiumErr != nil && browserRequiredBy() == "" {
		// Said once here rather than in every skipped test.
		fmt.Printf("%s (%v)\n", missingChromium, chromiumErr)
	}
	code := m.Run()
	closeSharedBrowser()
	os.Exit(code)
}

// browserRequiredBy names what makes a missing browser a failure rather
// than a skip, or returns "".
func browserRequiredBy() string {
	switch {
	case os.Getenv(requireBrowserEnv) == "1":
		return requireBrowserEnv + "=1"
	case *screenshotDir != "":
		return "-screenshots"
	}
	return ""
}

// findChromium returns the browser to drive: $CHROMIUM when it is set (and
// nothing else then, so it can hide the browser), otherwise chromium on PATH,
// otherwise Debian's launcher. lookPath checks that the file is executable.
func findChromium(getenv func(string) string, lookPath func(string) (string, error)) (string, error) {
	if path := getenv(chromiumEnv); path != "" {
		found, err := lookPath(path)
		if err != nil {
			return "", fmt.Errorf("%s=%s: %w", chromiumEnv, path, err)
		}
		return found, nil
	}
	if found, err := lookPath("chromium"); err == nil {
		return found, nil
	}
	found, err := lookPath(debianChromium)
	if err != nil {
		return "", fmt.Errorf("no chromium on PATH or at %s", debianChromium)
	}
	return found, nil
}

// requireChromium skips the test when there is no browser, or fails it when
// a browser is required: by E2E_REQUIRE_BROWSER=1, or because screenshots
// were asked for.
func requireChromium(t *testing.T) {
	t.Helper()
	if chromiumErr == nil {
		return
	}
	if by := browserRequiredBy(); by != "" {
		t.Fatalf("chromium not found and %s needs it: install Debian's chromium (%v)", by, chromiumErr)
	}
	t.Skip("chromium not found")
}

func TestFindChromium(t *testing.T) {
	// installed lists the executables of a fake machine, by the name
	// lookPath is given.
	lookPathIn := func(installed map[string]string) func(string) (string, error) {
		return func(file string) (string, error) {
			if path, ok := installed[file]; ok {
				return path, nil
			}
			return "", errors.New("executable file not found")
		}
	}
	tests := []struct {
		name      string
		env       string // $CHROMIUM
		installed map[string]string
		want      string // "" means not found
	}{
		{"on PATH", "", map[string]string{"chromium": "/opt/bin/chromium", debianChromium: debianChromium}, "/opt/bin/chromium"},
		{"Debian's only", "", map[string]string{debianChromium: debianChromium}, debianChromium},
		{"none", "", map[string]string{}, ""},
		{"override", "/srv/chrome", map[string]string{"/srv/chrome": "/srv/chrome", "chromium": "/usr/bin/chromium"}, "/srv/chrome"},
		{"override hides the installed one", "/nonexistent", map[string]string{"chromium": "/usr/bin/chromium", debianChromium: debianChromium}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(key string) string {
				if key == chromiumEnv {
					return tt.env
				}
				return ""
			}
			got, err := findChromium(getenv, lookPathIn(tt.installed))
			switch {
			case tt.want == "" && err == nil:
				t.Errorf("findChromium = %q; want not found", got)
			case tt.want != "" && err != nil:
				t.Errorf("findChromium: %v; want %q", err, tt.want)
			case got != tt.want:
				t.Errorf("findChromium = %q; want %q", got, tt.want)
			}
		})
	}
}
