package gmailapi

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strings"
)

// Bounds of a fields parameter. Google refuses a selection it cannot use
// with 400; these keep the parse of any selection cheap, whatever a client
// sends. The deepest real selection (payload/parts/parts/…/headers/name)
// is far from them.
const (
	maxFieldsBytes = 8 << 10
	maxFieldsDepth = 32
)

// fieldMask is a parsed fields parameter, Google's partial response: the
// fields to keep, each with the mask of its own fields (nil: all of it).
// "*" stands for every field of an object, whole.
type fieldMask map[string]fieldMask

// errInvalidFieldSelection is Google's 400 for a fields parameter it
// cannot use: unparsable, or naming a field the response does not have.
func errInvalidFieldSelection(what string) *apiError {
	message := "Invalid field selection " + what
	return &apiError{
		Code:    http.StatusBadRequest,
		Message: message,
		Errors: []errorItem{{Message: message, Domain: "global", Reason: "invalidParameter",
			Location: "fields", LocationType: "parameter"}},
		Status: "INVALID_ARGUMENT",
	}
}

// parseFields parses Google's syntax — fields separated by commas, a path
// of names separated by slashes, a sub-selection in parentheses:
// "messages(id,threadId),nextPageToken", "payload/headers", "*" — and
// checks every name against response, the Go type of the method's answer
// (json tags name its fields). It takes time linear in raw.
func parseFields(raw string, response reflect.Type) (fieldMask, *apiError) {
	if len(raw) > maxFieldsBytes {
		return nil, errInvalidFieldSelection(fmt.Sprintf("of %d bytes: the sandbox takes at most %d", len(raw), maxFieldsBytes))
	}
	p := fieldParser{in: raw}
	mask := p.list(0)
	if p.err == nil && p.pos < len(p.in) {
		p.fail("unexpected character")
	}
	if p.err != nil {
		return nil, p.err
	}
	if apiErr := mask.check(response); apiErr != nil {
		return nil, apiErr
	}
	return mask, nil
}

type fieldParser struct {
	in  string
	pos int
	err *apiError
}

func (p *fieldParser) fail(what string) {
	if p.err == nil {
		p.err = errInvalidFieldSelection(fmt.Sprintf("%.100q: %s at %d", p.in, what, p.pos+1))
	}
}

// list = field {"," field}; depth is how deep in the mask it sits.
func (p *fieldParser) list(depth int) fieldMask {
	mask := fieldMask{}
	for p.err == nil {
		p.field(mask, depth)
		if p.pos >= len(p.in) || p.in[p.pos] != ',' {
			break
		}
		p.pos++
	}
	return mask
}

// field = name {"/" name} ["(" list ")"], with name = "*" or letters,
// digits and "_"; a "*" ends its path. The field goes into mask.
func (p *fieldParser) field(mask fieldMask, depth int) {
	var path []string
	for {
		if depth+len(path) >= maxFieldsDepth {
			p.fail(fmt.Sprintf("deeper than %d fields", maxFieldsDepth))
			return
		}
		name := p.name()
		if name == "" {
			p.fail("missing field name")
			return
		}
		path = append(path, name)
		if p.pos >= len(p.in) || p.in[p.pos] != '/' {
			break
		}
		if name == "*" {
			p.fail("\"*\" selects whole fields")
			return
		}
		p.pos++
	}
	var sub fieldMask
	if p.pos < len(p.in) && p.in[p.pos] == '(' {
		if path[len(path)-1] == "*" {
			p.fail("\"*\" selects whole fields")
			return
		}
		p.pos++
		sub = p.list(depth + len(path))
		if p.err != nil {
			return
		}
		if p.pos >= len(p.in) || p.in[p.pos] != ')' {
			p.fail("missing )")
			return
		}
		p.pos++
	}
	mask.add(path, sub)
}

func (p *fieldParser) name() string {
	if p.pos < len(p.in) && p.in[p.pos] == '*' {
		p.pos++
		return "*"
	}
	start := p.pos
	for p.pos < len(p.in) && isFieldNameByte(p.in[p.pos]) {
		p.pos++
	}
	return p.in[start:p.pos]
}

func isFieldNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
}

// add keeps path, with sub selected under it (nil: whole).
func (m fieldMask) add(path []string, sub fieldMask) {
	for _, name := range path[:len(path)-1] {
		next, seen := m[name]
		if seen && next == nil {
			return // already whole
		}
		if !seen {
			next = fieldMask{}
			m[name] = next
		}
		m = next
	}
	m.merge(path[len(path)-1], sub)
}

// merge keeps name with sub under it, as a union with what m keeps of it
// already: a field kept whole stays whole. A sub-selection new to m is
// taken as it is, not copied, so that parsing stays linear.
func (m fieldMask) merge(name string, sub fieldMask) {
	existing, seen := m[name]
	switch {
	case !seen || sub == nil:
		m[name] = sub
	case existing != nil:
		for child, childSub := range sub {
			existing.merge(child, childSub)
		}
	}
}

// check reports the first name, in sorted order, that t does not have.
func (m fieldMask) check(t reflect.Type) *apiError {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	for _, name := range slices.Sorted(maps.Keys(m)) {
		if name == "*" {
			continue
		}
		field, ok := jsonField(t, name)
		if !ok {
			return errInvalidFieldSelection(name)
		}
		if sub := m[name]; sub != nil {
			if apiErr := sub.check(field); apiErr != nil {
				return apiErr
			}
		}
	}
	return nil
}

// jsonField is the type of the field that encoding/json writes as name in
// an object of type t.
func jsonField(t reflect.Type, name string) (reflect.Type, bool) {
	if t.Kind() != reflect.Struct {
		return nil, false
	}
	for _, field := range reflect.VisibleFields(t) {
		tag, _, _ := strings.Cut(field.Tag.Get("json"), ",")
		if tag == "" {
			tag = field.Name
		}
		if field.IsExported() && !field.Anonymous && tag == name {
			return field.Type, true
		}
	}
	return nil, false
}

// keep returns what of v the mask selects, as JSON values; a nil mask
// keeps all of v.
func (m fieldMask) keep(v any) any {
	if m == nil {
		return v
	}
	data, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var generic any
	if err := json.Unmarshal(data, &generic); err != nil {
		return v
	}
	return m.apply(generic)
}

func (m fieldMask) apply(v any) any {
	if m == nil {
		return v
	}
	switch v := v.(type) {
	case map[string]any:
		_, everything := m["*"]
		kept := map[string]any{}
		for name, value := range v {
			if everything {
				kept[name] = value // "*" keeps it whole, whatever else names it
				continue
			}
			if sub, ok := m[name]; ok {
				kept[name] = sub.apply(value)
			}
		}
		return kept
	case []any:
		kept := make([]any, len(v))
		for i, item := range v {
			kept[i] = m.apply(item)
		}
		return kept
	}
	return v
}
