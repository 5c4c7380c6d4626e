// Command helm-render renders a Helm chart the way `helm template` does, for the chart tests on
// machines without a helm binary. It is this project's own small program on the engine helm is
// built on (Go's text/template with sprig's functions) plus the helm built-ins the chart uses:
// include, tpl, required, toYaml, fromYaml, fromJson, .Values, .Release, .Chart, .Files.Get,
// .Template and a minimal .Capabilities.
//
//	helm-render template RELEASE CHART_DIR [-n NAMESPACE] [-f FILE]... [--set K=V]... [--set-string K=V]... [--set-json K=JSON]... [--set-literal K=V]...
//
// It is not helm: no subcharts, no values.schema.json check (the tests validate it with ajv),
// no lookup, no kubeVersion check, output in file order rather than install order. --set takes
// a.b.c=value pairs separated by unescaped commas, a backslash taking the next character
// literally, and {x,y} lists, as helm's documentation describes; list indexes (a[0]) are refused.
// --set-json takes a JSON value; --set-literal takes the rest of the argument as text.
// Build: GO111MODULE=off GOPATH=<dir>:/usr/share/gocode go build (Debian's golang-go,
// golang-github-masterminds-sprig-dev and golang-gopkg-yaml.v3-dev).
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"gopkg.in/yaml.v3"
)

type assignment struct{ kind, expr string } // kind: set, set-string, set-json or set-literal

type options struct {
	release, chartDir, namespace string
	valueFiles                   []string
	assignments                  []assignment
}

func parseArgs(args []string) (options, error) {
	o := options{namespace: "default"}
	var positional []string
	for i := 0; i < len(args); i++ {
		arg, name, inline, hasInline := args[i], args[i], "", false
		if strings.HasPrefix(arg, "--") {
			if eq := strings.IndexByte(arg, '='); eq >= 0 {
				name, inline, hasInline = arg[:eq], arg[eq+1:], true
			}
		}
		value := func() (string, error) {
			if hasInline {
				return inline, nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("flag %s needs a value", name)
			}
			i++
			return args[i], nil
		}
		var err error
		var v string
		switch name {
		case "-n", "--namespace":
			v, err = value()
			o.namespace = v
		case "-f", "--values":
			v, err = value()
			o.valueFiles = append(o.valueFiles, v)
		case "--set", "--set-string", "--set-json", "--set-literal":
			v, err = value()
			o.assignments = append(o.assignments, assignment{strings.TrimPrefix(name, "--"), v})
		default:
			if strings.HasPrefix(arg, "-") {
				return o, fmt.Errorf("unknown flag %s", arg)
			}
			positional = append(positional, arg)
		}
		if err != nil {
			return o, err
		}
	}
	if len(positional) != 3 || positional[0] != "template" {
		return o, errors.New("usage: helm-render template RELEASE CHART_DIR [-n NS] [-f FILE]... [--set|--set-string|--set-json|--set-literal K=V]...")
	}
	o.release, o.chartDir = positional[1], positional[2]
	return o, nil
}

// viaJSON gives a value the shapes helm's values have: helm reads YAML through JSON, so maps are
// map[string]interface{} and every number is a float64.
func viaJSON(v interface{}) (interface{}, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out interface{}
	err = json.Unmarshal(data, &out)
	return out, err
}

func readYAML(data []byte) (map[string]interface{}, error) {
	var raw interface{}
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	if raw == nil {
		return map[string]interface{}{}, nil
	}
	v, err := viaJSON(raw)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]interface{})
	if !ok {
		return nil, errors.New("not a YAML mapping")
	}
	return m, nil
}

// mergeInto merges src into dst, maps key by key, later values winning; nulls are kept so that
// coalesce can delete the defaults they name.
func mergeInto(dst, src map[string]interface{}) {
	for k, v := range src {
		if sm, ok := v.(map[string]interface{}); ok {
			if dm, ok := dst[k].(map[string]interface{}); ok {
				mergeInto(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}

// coalesce lays the user's values over the chart's defaults; a user null removes a default.
func coalesce(defaults, user map[string]interface{}) {
	for k, v := range user {
		if v == nil {
			delete(defaults, k)
			continue
		}
		if um, ok := v.(map[string]interface{}); ok {
			if dm, ok := defaults[k].(map[string]interface{}); ok {
				coalesce(dm, um)
				continue
			}
		}
		defaults[k] = v
	}
}

type setParser struct {
	in  []rune
	pos int
}

// until reads up to one of the stop runes and returns the text and the stop rune (0 at the end).
// A backslash takes the next rune literally.
func (p *setParser) until(stop string) (string, rune) {
	var out []rune
	for p.pos < len(p.in) {
		r := p.in[p.pos]
		p.pos++
		if r == '\\' && p.pos < len(p.in) {
			out = append(out, p.in[p.pos])
			p.pos++
			continue
		}
		if strings.ContainsRune(stop, r) {
			return string(out), r
		}
		out = append(out, r)
	}
	return string(out), 0
}

// typed turns a --set value into what helm's documentation says it becomes; --set-string keeps text.
func typed(kind, s string) interface{} {
	if kind == "set-string" {
		return s
	}
	switch strings.ToLower(s) {
	case "true":
		return true
	case "false":
		return false
	case "null":
		return nil
	case "0":
		return int64(0)
	}
	if s != "" && s[0] != '0' {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
	}
	return s
}

func (p *setParser) endOfValue() error {
	if p.pos < len(p.in) {
		if p.in[p.pos] != ',' {
			return fmt.Errorf("unexpected %q after a value", string(p.in[p.pos:]))
		}
		p.pos++
	}
	return nil
}

// setPath stores value at the dotted path, making maps on the way.
func setPath(dest map[string]interface{}, path []string, value interface{}) {
	node := dest
	for _, key := range path[:len(path)-1] {
		next, ok := node[key].(map[string]interface{})
		if !ok {
			next = map[string]interface{}{}
			node[key] = next
		}
		node = next
	}
	node[path[len(path)-1]] = value
}

func applyAssignment(dest map[string]interface{}, a assignment) error {
	if a.kind == "set-literal" {
		// One key=value; the value is taken as it is: no comma splitting, no escapes.
		eq := strings.IndexByte(a.expr, '=')
		if eq < 0 {
			return fmt.Errorf("key %q has no value", a.expr)
		}
		setPath(dest, strings.Split(a.expr[:eq], "."), a.expr[eq+1:])
		return nil
	}
	p := &setParser{in: []rune(a.expr)}
	for p.pos < len(p.in) {
		var path []string
		for {
			segment, stop := p.until("=.,[")
			path = append(path, segment)
			if stop == '.' {
				continue
			}
			if stop == '=' {
				break
			}
			if stop == '[' {
				return fmt.Errorf("--%s %s: list indexes are not supported by this renderer", a.kind, a.expr)
			}
			return fmt.Errorf("key %q has no value", strings.Join(path, "."))
		}
		var value interface{}
		switch {
		case a.kind == "set-json":
			rest := string(p.in[p.pos:])
			dec := json.NewDecoder(strings.NewReader(rest))
			if err := dec.Decode(&value); err != nil {
				return fmt.Errorf("--set-json %s: %v", a.expr, err)
			}
			p.pos += len([]rune(rest[:dec.InputOffset()]))
			if err := p.endOfValue(); err != nil {
				return err
			}
		case p.pos < len(p.in) && p.in[p.pos] == '{':
			p.pos++
			list := []interface{}{}
			for {
				item, stop := p.until(",}")
				list = append(list, typed(a.kind, item))
				if stop == '}' {
					break
				}
				if stop == 0 {
					return fmt.Errorf("--%s %s: list not closed with }", a.kind, a.expr)
				}
			}
			value = list
			if err := p.endOfValue(); err != nil {
				return err
			}
		default:
			text, _ := p.until(",")
			value = typed(a.kind, text)
		}
		setPath(dest, path, value)
	}
	return nil
}

// chartFiles is .Files: the chart's own files, read on demand; a missing file reads as "".
type chartFiles struct{ root string }

func (f chartFiles) Get(name string) string {
	clean := filepath.Clean(name)
	if filepath.IsAbs(clean) || strings.HasPrefix(clean, "..") {
		return ""
	}
	data, err := os.ReadFile(filepath.Join(f.root, clean))
	if err != nil {
		return ""
	}
	return string(data)
}

func toYAML(v interface{}) string {
	j, err := viaJSON(v)
	if err != nil {
		return ""
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(j); err != nil {
		return ""
	}
	_ = enc.Close()
	return strings.TrimSuffix(buf.String(), "\n")
}

func funcMap(root **template.Template) template.FuncMap {
	funcs := sprig.TxtFuncMap()
	delete(funcs, "env") // helm leaves these out: a chart must not read the renderer's environment
	delete(funcs, "expandenv")
	funcs["toYaml"] = toYAML
	funcs["fromYaml"] = func(s string) map[string]interface{} {
		m, err := readYAML([]byte(s))
		if err != nil {
			return map[string]interface{}{"Error": err.Error()}
		}
		return m
	}
	funcs["fromJson"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	funcs["required"] = func(message string, v interface{}) (interface{}, error) {
		if s, ok := v.(string); v == nil || (ok && s == "") {
			return v, errors.New(message)
		}
		return v, nil
	}
	funcs["include"] = func(name string, data interface{}) (string, error) {
		var buf strings.Builder
		err := (*root).ExecuteTemplate(&buf, name, data)
		return buf.String(), err
	}
	funcs["tpl"] = func(text string, data interface{}) (string, error) {
		t, err := (*root).Clone()
		if err != nil {
			return "", err
		}
		if t, err = t.New("tpl").Parse(text); err != nil {
			return "", err
		}
		var buf strings.Builder
		err = t.Execute(&buf, data)
		return buf.String(), err
	}
	return funcs
}

// chartMetadata gives Chart.yaml's fields the names templates use (.Chart.Name, .Chart.AppVersion).
func chartMetadata(raw map[string]interface{}) map[string]interface{} {
	meta := map[string]interface{}{}
	for k, v := range raw {
		if k == "apiVersion" {
			meta["APIVersion"] = v
		} else if k != "" {
			meta[strings.ToUpper(k[:1])+k[1:]] = v
		}
	}
	return meta
}

func render(o options, out io.Writer) error {
	chartYAML, err := os.ReadFile(filepath.Join(o.chartDir, "Chart.yaml"))
	if err != nil {
		return err
	}
	rawChart, err := readYAML(chartYAML)
	if err != nil {
		return fmt.Errorf("Chart.yaml: %v", err)
	}
	chart := chartMetadata(rawChart)
	chartName, _ := chart["Name"].(string)

	values := map[string]interface{}{}
	if data, err := os.ReadFile(filepath.Join(o.chartDir, "values.yaml")); err == nil {
		if values, err = readYAML(data); err != nil {
			return fmt.Errorf("values.yaml: %v", err)
		}
	}
	user := map[string]interface{}{}
	for _, file := range o.valueFiles {
		data, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		m, err := readYAML(data)
		if err != nil {
			return fmt.Errorf("%s: %v", file, err)
		}
		mergeInto(user, m)
	}
	for _, a := range o.assignments {
		if err := applyAssignment(user, a); err != nil {
			return fmt.Errorf("failed parsing --%s data: %v", a.kind, err)
		}
	}
	coalesce(values, user)

	var names []string
	sources := map[string]string{}
	templatesDir := filepath.Join(o.chartDir, "templates")
	err = filepath.WalkDir(templatesDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(templatesDir, path)
		data, err := os.ReadFile(path)
		name := chartName + "/templates/" + filepath.ToSlash(rel)
		names, sources[name] = append(names, name), string(data)
		return err
	})
	if err != nil {
		return err
	}
	sort.Strings(names)

	var root *template.Template
	root = template.New("gotpl").Funcs(funcMap(&root)).Option("missingkey=zero")
	for _, name := range names {
		if _, err := root.New(name).Parse(sources[name]); err != nil {
			return err
		}
	}

	release := map[string]interface{}{"Name": o.release, "Namespace": o.namespace, "Service": "Helm", "IsInstall": true, "IsUpgrade": false, "Revision": 1}
	capabilities := map[string]interface{}{"KubeVersion": map[string]interface{}{"Version": "v1.30.0", "GitVersion": "v1.30.0", "Major": "1", "Minor": "30"}}
	for _, name := range names {
		base := filepath.Base(name)
		if strings.HasPrefix(base, "_") {
			continue
		}
		data := map[string]interface{}{
			"Values": values, "Release": release, "Chart": chart, "Capabilities": capabilities,
			"Files":    chartFiles{root: o.chartDir},
			"Template": map[string]interface{}{"Name": name, "BasePath": chartName + "/templates"},
		}
		var buf strings.Builder
		if err := root.ExecuteTemplate(&buf, name, data); err != nil {
			return err
		}
		text := strings.ReplaceAll(buf.String(), "<no value>", "")
		// NOTES.txt is executed (an error in it fails an install) but, as in helm template, not printed.
		if strings.TrimSpace(text) == "" || base == "NOTES.txt" {
			continue
		}
		dec := yaml.NewDecoder(strings.NewReader(text))
		for {
			var doc interface{}
			if err := dec.Decode(&doc); err == io.EOF {
				break
			} else if err != nil {
				return fmt.Errorf("YAML parse error on %s: %v", name, err)
			}
		}
		fmt.Fprintf(out, "---\n# Source: %s\n%s\n", name, strings.TrimRight(text, "\n"))
	}
	return nil
}

func main() {
	o, err := parseArgs(os.Args[1:])
	if err == nil {
		var buf bytes.Buffer
		if err = render(o, &buf); err == nil {
			_, err = os.Stdout.Write(buf.Bytes())
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "Error: %v\n", err)
		os.Exit(1)
	}
}
