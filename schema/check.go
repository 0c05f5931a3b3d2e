package schema

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/kdrill/kdrill/scenario"
)

var compiled = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(JSON))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.UseRegexpEngine(lazyRegexps())
	if err := c.AddResource(ID, doc); err != nil {
		return nil, err
	}
	return c.Compile(ID)
})

// lazyRegexps compiles each of the schema's patterns the first time a
// value meets it, once per distinct pattern: most never meet a value in a
// given file, and compiling all 117 on every load was a seventh of a
// single run's allocations. That each pattern compiles is checked by the
// schema's tests, which compile the schema as editors do.
func lazyRegexps() jsonschema.RegexpEngine {
	seen := map[string]*lazyRegexp{}
	var mu sync.Mutex
	return func(pattern string) (jsonschema.Regexp, error) {
		mu.Lock()
		defer mu.Unlock()
		if r, ok := seen[pattern]; ok {
			return r, nil
		}
		r := &lazyRegexp{pattern: pattern, compiled: sync.OnceValues(func() (*regexp.Regexp, error) { return regexp.Compile(pattern) })}
		seen[pattern] = r
		return r, nil
	}
}

type lazyRegexp struct {
	pattern  string
	compiled func() (*regexp.Regexp, error)
}

func (l *lazyRegexp) MatchString(s string) bool {
	re, err := l.compiled()
	return err == nil && re.MatchString(s)
}

func (l *lazyRegexp) String() string { return l.pattern }

// Check validates a scenario file's text against the schema and returns
// nil or an error with one "FILE:LINE: at PATH: message" line per problem.
func Check(file string, data []byte) error {
	docs, err := scenario.ParseDocuments(data)
	if err != nil {
		return &scenario.LoadError{File: file, Msg: err.Error()}
	}
	if len(docs) == 0 {
		return nil
	}
	return CheckDocument(file, docs[0])
}

// CheckDocument validates a scenario file's document, as the loader
// parsed it (scenario.LoadOptions.Check), against the schema.
func CheckDocument(file string, doc scenario.Document) error {
	s, err := compiled()
	if err != nil {
		return fmt.Errorf("the embedded schema does not compile: %w", err)
	}
	docs := []scenario.Document{doc}
	err = s.Validate(docs[0].Value)
	var verr *jsonschema.ValidationError
	if !errors.As(err, &verr) {
		return err
	}
	var errs scenario.LoadErrors
	seen := map[string]bool{}
	for _, leaf := range leaves(verr) {
		key := strings.Join(leaf.path, "/") + "\x00" + leaf.msg
		if seen[key] {
			continue
		}
		seen[key] = true
		errs = append(errs, &scenario.LoadError{File: file, Line: docs[0].LineAt(leaf.path), Field: strings.Join(leaf.path, "."), Msg: "schema: " + leaf.msg})
	}
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
	return errs
}

type leaf struct {
	path []string
	msg  string
}

var printer = message.NewPrinter(language.English)

// leaves flattens the schema's error tree into what a person can act on.
func leaves(e *jsonschema.ValidationError) []leaf {
	if one, ok := e.ErrorKind.(*kind.OneOf); ok {
		// The branches are the step kinds: "missing property" seventeen
		// times says less than this.
		if one.Subschemas == nil {
			return []leaf{{e.InstanceLocation, "a step needs one action (apply, assert, kill, ...; kdrill steps lists them)"}}
		}
		return []leaf{{e.InstanceLocation, "a step does one thing, and this one has several actions"}}
	}
	if len(e.Causes) == 0 {
		path := e.InstanceLocation
		if extra, ok := e.ErrorKind.(*kind.AdditionalProperties); ok && len(extra.Properties) == 1 {
			// Point at the unknown key's own line.
			path = append(slices.Clip(path), extra.Properties[0])
			return []leaf{{path, fmt.Sprintf("unknown field %q", extra.Properties[0])}}
		}
		return []leaf{{path, e.ErrorKind.LocalizedString(printer)}}
	}
	var out []leaf
	others := false
	for _, c := range e.Causes {
		if _, ok := c.ErrorKind.(*kind.OneOf); !ok {
			others = true
		}
	}
	for _, c := range e.Causes {
		if _, ok := c.ErrorKind.(*kind.OneOf); ok && others {
			continue // an unknown key already explains the missing action
		}
		out = append(out, leaves(c)...)
	}
	return out
}
