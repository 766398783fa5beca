package gmailapi

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// FuzzFields parses fields selections against the richest answer, a thread
// in full format (messages with parts, headers and attachments). A
// selection parses only within its bounds, and a mask keeps only what the
// answer has: it never adds a key, an item or a value.
func FuzzFields(f *testing.F) {
	for _, seed := range []string{
		"messages(id,threadId),nextPageToken", "payload/headers", "*", "*,messages(id)", "messages(id),*",
		"nosuchfield", "messages(nosuch)", "id(name)", "*/x", "*(id)", "messages(id", "a,,b", "a/", "(id)", "",
		"messages(payload(parts(body/size,parts(mimeType,headers(name)))),id),id,messages/payload/headers/value",
		strings.Repeat("messages(", 9000) + "id" + strings.Repeat(")", 9000), // 18 KB: froze a mailbox for 8 s
		strings.Repeat("messages(payload(parts(", 10) + "mimeType" + strings.Repeat(")))", 10),
		strings.Repeat("messages/id,", 700),
	} {
		f.Add(seed)
	}
	s := newTestAPI(f)
	box := s.store.Mailbox(hanakoAddress)
	var answer threadResource
	for _, m := range box.Messages {
		if len(m.Attachments) > 0 || m.HTML != "" {
			answer.Messages = append(answer.Messages, resource(m, formatFull, nil))
		}
		if len(answer.Messages) == 3 {
			break
		}
	}
	answer.ID, answer.HistoryID = answer.Messages[0].ThreadID, answer.Messages[0].HistoryID
	whole := fieldMask{"*": nil}.keep(answer) // the answer as JSON values
	f.Fuzz(func(t *testing.T, raw string) {
		mask, apiErr := parseFields(raw, reflect.TypeFor[threadResource]())
		if apiErr != nil {
			if apiErr.Code != http.StatusBadRequest || apiErr.Errors[0].Reason != "invalidParameter" {
				t.Fatalf("parseFields(%.100q) error = %+v; want 400 invalidParameter", raw, apiErr)
			}
			return
		}
		if len(raw) > maxFieldsBytes {
			t.Fatalf("parseFields took %d bytes; the bound is %d", len(raw), maxFieldsBytes)
		}
		if depth := mask.depth(); depth > maxFieldsDepth {
			t.Fatalf("parseFields(%.100q) is %d deep; the bound is %d", raw, depth, maxFieldsDepth)
		}
		kept := mask.keep(answer)
		if path, ok := within(kept, whole, "answer"); !ok {
			t.Fatalf("fields=%.100q keeps %s, which the answer does not have", raw, path)
		}
		if again := mask.keep(answer); !reflect.DeepEqual(again, kept) {
			t.Fatalf("fields=%.100q keeps one thing, then another", raw)
		}
		if _, err := json.Marshal(kept); err != nil {
			t.Fatalf("fields=%.100q: the kept answer does not encode: %v", raw, err)
		}
	})
}

// depth is how many levels of fields the mask selects.
func (m fieldMask) depth() int {
	deepest := 0
	for _, sub := range m {
		deepest = max(deepest, sub.depth())
	}
	if m == nil {
		return 0
	}
	return 1 + deepest
}

// within reports whether every key, item and value of kept is in whole, and
// where the first that is not sits.
func within(kept, whole any, path string) (string, bool) {
	switch kept := kept.(type) {
	case map[string]any:
		object, ok := whole.(map[string]any)
		if !ok {
			return path, false
		}
		for name, value := range kept {
			inWhole, ok := object[name]
			if !ok {
				return path + "." + name, false
			}
			if at, ok := within(value, inWhole, path+"."+name); !ok {
				return at, false
			}
		}
		return "", true
	case []any:
		list, ok := whole.([]any)
		if !ok || len(list) != len(kept) {
			return path, false
		}
		for i, item := range kept {
			if at, ok := within(item, list[i], path+"[]"); !ok {
				return at, false
			}
		}
		return "", true
	}
	return path, reflect.DeepEqual(kept, whole)
}
