package sandbox

import (
	"encoding/json"
	"fmt"
)

// fieldMask is a parsed fields parameter, Google's partial response: the
// fields to keep, each with the mask of its own fields (nil: all of it).
// "*" stands for every field.
type fieldMask map[string]fieldMask

// parseFields parses Google's syntax: fields separated by commas, a path
// of names separated by slashes, and a sub-selection in parentheses:
// "messages(id,threadId),nextPageToken", "payload/headers", "*".
func parseFields(raw string) (fieldMask, error) {
	p := fieldParser{in: raw}
	mask := p.list()
	if p.err == nil && p.pos < len(p.in) {
		p.fail()
	}
	if p.err != nil {
		return nil, p.err
	}
	return mask, nil
}

type fieldParser struct {
	in  string
	pos int
	err error
}

func (p *fieldParser) fail() {
	if p.err == nil {
		p.err = fmt.Errorf("field selection %q: unexpected character at %d", p.in, p.pos+1)
	}
}

// list = field {"," field}
func (p *fieldParser) list() fieldMask {
	mask := fieldMask{}
	for p.err == nil {
		path, sub := p.field()
		mask.add(path, sub)
		if p.pos >= len(p.in) || p.in[p.pos] != ',' {
			return mask
		}
		p.pos++
	}
	return mask
}

// field = name {"/" name} ["(" list ")"]
func (p *fieldParser) field() ([]string, fieldMask) {
	var path []string
	for {
		start := p.pos
		for p.pos < len(p.in) && (isFieldNameByte(p.in[p.pos]) || p.in[p.pos] == '*') {
			p.pos++
		}
		if p.pos == start {
			p.fail()
			return nil, nil
		}
		path = append(path, p.in[start:p.pos])
		if p.pos < len(p.in) && p.in[p.pos] == '/' {
			p.pos++
			continue
		}
		break
	}
	if p.pos < len(p.in) && p.in[p.pos] == '(' {
		p.pos++
		sub := p.list()
		if p.pos >= len(p.in) || p.in[p.pos] != ')' {
			p.fail()
			return nil, nil
		}
		p.pos++
		return path, sub
	}
	return path, nil
}

func isFieldNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
}

// add keeps path, with sub selected under it; a field kept whole stays
// whole.
func (m fieldMask) add(path []string, sub fieldMask) {
	if len(path) == 0 {
		return
	}
	name := path[0]
	existing, seen := m[name]
	if seen && existing == nil {
		return // already whole
	}
	if len(path) == 1 {
		if sub == nil {
			m[name] = nil
			return
		}
		if existing == nil {
			existing = fieldMask{}
		}
		for child, childSub := range sub {
			existing.add([]string{child}, childSub)
		}
		m[name] = existing
		return
	}
	if existing == nil {
		existing = fieldMask{}
	}
	existing.add(path[1:], sub)
	m[name] = existing
}

// keep returns what of v the mask selects, as JSON values.
func (m fieldMask) keep(v any) any {
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
		kept := map[string]any{}
		for name, sub := range m {
			if name == "*" {
				for field, value := range v {
					kept[field] = sub.apply(value)
				}
				continue
			}
			if value, ok := v[name]; ok {
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
