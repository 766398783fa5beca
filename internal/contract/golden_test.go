package contract_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// golden returns testdata/name.
func golden(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// serveGolden is a stand-in Google answering every request with status and
// body, for checking how the app's clients decode Google's documented
// answers.
func serveGolden(t *testing.T, status int, body []byte) *httptest.Server {
	t.Helper()
	return httptestServer(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, status, body)
	})
}

// httptestServer serves handler on 127.0.0.1 for the test's duration.
func httptestServer(t *testing.T, handler http.HandlerFunc) *httptest.Server {
	t.Helper()
	server := httptest.NewServer(handler)
	t.Cleanup(server.Close)
	return server
}

// writeJSON answers with body as Google labels JSON.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	w.Write(body)
}

// decode unmarshals a JSON body the test needs.
func decode(t *testing.T, body []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, body)
	}
}

// answer is a finished HTTP response with its body read.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// do sends req and reads the answer.
func do(t *testing.T, req *http.Request) answer {
	t.Helper()
	resp, err := http.DefaultClient.Do(req.WithContext(testContext(t)))
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Redacted(), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", req.Method, req.URL.Redacted(), err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: body}
}

// modernErrorFields are fields Google's current error model adds to every
// API error (https://google.aip.dev/193) though older reference samples
// leave them out.
var modernErrorFields = []string{"error.status"}

// checkShape fails the test unless live has golden's shape: every field of
// golden, with the same JSON type, arrays' elements shaped like golden's
// first. Paths in optional ("payload.headers[].name" style) may be missing.
// Real Google may add fields; the sandbox may not add any that the golden
// lacks, so that no client comes to rely on something Google does not send.
func checkShape(t *testing.T, tg *target, goldenName string, live []byte, optional ...string) {
	t.Helper()
	problems, err := shapeProblems(golden(t, goldenName), live, tg.sandbox != nil, optional)
	if err != nil {
		t.Fatalf("%s, where %s is due: %v\n%s", tg.name, goldenName, err, live)
	}
	for _, problem := range problems {
		t.Errorf("%s against %s: %s", tg.name, goldenName, problem)
	}
	if len(problems) > 0 {
		t.Logf("%s answered:\n%s", tg.name, live)
	}
}

// shapeProblems lists how live differs in shape from golden; with strict,
// fields golden lacks count too.
func shapeProblems(golden, live []byte, strict bool, optional []string) ([]string, error) {
	var want, got any
	if err := json.Unmarshal(golden, &want); err != nil {
		return nil, fmt.Errorf("golden: %w", err)
	}
	if err := json.Unmarshal(live, &got); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	var problems []string
	walkShape(want, got, "", optional, &problems)
	if strict {
		walkExtra(got, want, "", &problems)
	}
	return problems, nil
}

func walkShape(want, got any, path string, optional []string, problems *[]string) {
	if kind(want) != kind(got) {
		*problems = append(*problems, fmt.Sprintf("%s is %s; Google's is %s", orRoot(path), kind(got), kind(want)))
		return
	}
	switch want := want.(type) {
	case map[string]any:
		got := got.(map[string]any)
		for _, key := range sortedKeys(want) {
			child := join(path, key)
			value, ok := got[key]
			if !ok {
				if !slices.Contains(optional, child) {
					*problems = append(*problems, fmt.Sprintf("%s is missing", child))
				}
				continue
			}
			walkShape(want[key], value, child, optional, problems)
		}
	case []any:
		if len(want) == 0 {
			return
		}
		for _, element := range got.([]any) {
			walkShape(want[0], element, path+"[]", optional, problems)
		}
	}
}

// walkExtra reports fields of got that want does not have.
func walkExtra(got, want any, path string, problems *[]string) {
	switch got := got.(type) {
	case map[string]any:
		want, _ := want.(map[string]any)
		for _, key := range sortedKeys(got) {
			child := join(path, key)
			if _, ok := want[key]; !ok {
				if !slices.Contains(modernErrorFields, child) {
					*problems = append(*problems, fmt.Sprintf("%s is sent, but Google's reference shows no such field", child))
				}
				continue
			}
			walkExtra(got[key], want[key], child, problems)
		}
	case []any:
		want, _ := want.([]any)
		if len(want) == 0 {
			return
		}
		for _, element := range got {
			walkExtra(element, want[0], path+"[]", problems)
		}
	}
}

func kind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	default:
		return "null"
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	return keys
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func orRoot(path string) string {
	if path == "" {
		return "the body"
	}
	return path
}

// field returns the value at path ("error.errors[0].reason" style) of a JSON
// body, or nil.
func field(t *testing.T, body []byte, path string) any {
	t.Helper()
	var v any
	decode(t, body, &v)
	for _, step := range strings.Split(path, ".") {
		name, index, indexed := strings.Cut(strings.TrimSuffix(step, "]"), "[")
		object, _ := v.(map[string]any)
		v = object[name]
		if indexed {
			array, _ := v.([]any)
			i, err := strconv.Atoi(index)
			if err != nil || i >= len(array) {
				return nil
			}
			v = array[i]
		}
	}
	return v
}

// wantFields fails the test unless live holds golden's values at paths,
// for the fields that identify an answer (codes and reasons, not prose).
func wantFields(t *testing.T, tg *target, goldenName string, live []byte, paths ...string) {
	t.Helper()
	want := golden(t, goldenName)
	for _, path := range paths {
		if w, g := field(t, want, path), field(t, live, path); fmt.Sprint(w) != fmt.Sprint(g) {
			t.Errorf("%s: %s = %v; want %v, as in %s", tg.name, path, g, w, goldenName)
		}
	}
}

// wantJSON fails the test unless an answer is JSON, as Google labels it.
func wantJSON(t *testing.T, tg *target, what string, got answer) {
	t.Helper()
	if mediaType := strings.ToLower(strings.TrimSpace(strings.Split(got.header.Get("Content-Type"), ";")[0])); mediaType != "application/json" {
		t.Errorf("%s: %s Content-Type = %q; want application/json", tg.name, what, got.header.Get("Content-Type"))
	}
	if !json.Valid(bytes.TrimSpace(got.body)) {
		t.Errorf("%s: %s body is not JSON:\n%s", tg.name, what, got.body)
	}
}

func TestShapeProblems(t *testing.T) {
	const golden = `{"id": "a", "n": 1, "labels": ["X"], "payload": {"headers": [{"name": "From"}]}}`
	tests := []struct {
		name     string
		golden   string // default: the one above
		live     string
		strict   bool
		optional []string
		want     []string
	}{
		{name: "same shape, other values", live: `{"id": "b", "n": 2, "labels": ["Y", "Z"], "payload": {"headers": [{"name": "To"}]}}`},
		{name: "an added field is Google's right", live: `{"id": "b", "n": 2, "labels": [], "payload": {"headers": []}, "new": true}`},
		{name: "an added field is not the sandbox's", strict: true,
			live: `{"id": "b", "n": 2, "labels": [], "payload": {"headers": [{"name": "To", "value": "x"}]}, "new": true}`,
			want: []string{"new is sent, but Google's reference shows no such field", "payload.headers[].value is sent, but Google's reference shows no such field"}},
		{name: "error.status is Google's current model", strict: true, golden: `{"error": {"code": 1}}`,
			live: `{"error": {"code": 2, "status": "X", "details": []}}`,
			want: []string{"error.details is sent, but Google's reference shows no such field"}},
		{name: "a missing field", live: `{"n": 2, "labels": [], "payload": {"headers": [{}]}}`,
			want: []string{"id is missing", "payload.headers[].name is missing"}},
		{name: "a missing optional field", live: `{"n": 2, "payload": {"headers": []}}`, optional: []string{"id", "labels"}},
		{name: "a number sent as a string", live: `{"id": "b", "n": "2", "labels": [], "payload": {"headers": []}}`,
			want: []string{"n is a string; Google's is a number"}},
		{name: "an object where an array is due", live: `{"id": "b", "n": 2, "labels": {}, "payload": {"headers": []}}`,
			want: []string{"labels is an object; Google's is an array"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := golden
			if tt.golden != "" {
				want = tt.golden
			}
			got, err := shapeProblems([]byte(want), []byte(tt.live), tt.strict, tt.optional)
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("shapeProblems(%s) = %q, %v; want %q", tt.live, got, err, tt.want)
			}
		})
	}
}
