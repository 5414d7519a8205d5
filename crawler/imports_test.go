package crawler

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The packages that turn bytes into items and articles: pure, so that
// they can be tested, fuzzed and benchmarked without a network.
var purePackages = []string{"./site", "./feed"}

// TestPurePackagesFetchNothing: site and feed depend on neither the
// fetcher nor colly, and nothing they build on (site, feed, the internal
// helpers, config, converter) uses net/http's client. net/http itself may
// be linked in by a library (goquery offers a document from a response);
// what is checked is that no newsmd code of theirs sends a request.
func TestPurePackagesFetchNothing(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is not on PATH: the import rule is checked where it is (CI)")
	}
	args := append([]string{"list", "-deps", "-f", "{{.ImportPath}}\t{{.Dir}}\t{{.Standard}}"}, purePackages...)
	out, err := exec.Command("go", args...).Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const module = "github.com/newsmd/newsmd"
	var own []string // directories of newsmd's packages among the deps
	for line := range strings.Lines(string(out)) {
		path, rest, _ := strings.Cut(strings.TrimSpace(line), "\t")
		dir, _, _ := strings.Cut(rest, "\t")
		switch {
		case path == module+"/crawler/fetch", strings.HasPrefix(path, "github.com/gocolly/colly"):
			t.Errorf("%v depend on %s: the pure packages must not fetch", purePackages, path)
		case path == module+"/crawler", path == module+"/store", strings.HasPrefix(path, module+"/cmd/"):
			t.Errorf("%v depend on %s", purePackages, path)
		case path == module || strings.HasPrefix(path, module+"/"):
			own = append(own, dir)
		}
	}
	if len(own) < 4 {
		t.Fatalf("found only %d newsmd packages among the deps (%v): go list output changed?", len(own), own)
	}
	for _, dir := range own {
		for _, use := range httpClientUses(t, dir) {
			t.Errorf("%s: %s: the pure packages must not make requests", dir, use)
		}
	}
}

// clientNames are the parts of net/http that send requests or build them.
var clientNames = []string{"Client", "DefaultClient", "Get", "Head", "Post", "PostForm", "NewRequest",
	"NewRequestWithContext", "Transport", "DefaultTransport", "RoundTripper"}

// httpClientUses lists the uses of net/http's client in the non-test Go
// files of dir, as "file:line: http.Name".
func httpClientUses(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var uses []string
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]bool{}
		for _, imp := range file.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == "net/http" || p == "net/http/httptest" {
				name := filepath.Base(p)
				if imp.Name != nil {
					name = imp.Name.Name
				}
				names[name] = true
			}
		}
		if len(names) == 0 {
			continue
		}
		ast.Inspect(file, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); ok && names[id.Name] && slices.Contains(clientNames, sel.Sel.Name) {
				uses = append(uses, fset.Position(sel.Pos()).String()+": "+id.Name+"."+sel.Sel.Name)
			}
			return true
		})
	}
	return uses
}

// roomRules are the rooms of crawler beside the pure ones, with the
// newsmd packages each must not depend on (directly or through another):
// the runner calls them, never the other way round.
var roomRules = map[string][]string{
	// What an operator sees: it counts and says, and fetches nothing.
	"./watch": {"/crawler", "/crawler/fetch", "/crawler/feedpoll", "/store", "/cmd/"},
	// Feed polling: the network and the pure feed reader, not the runner.
	"./feedpoll": {"/crawler", "/crawler/watch", "/store", "/cmd/"},
}

// TestRoomImports: the rooms of crawler do not import the runner (no
// cycle, no back door) nor what their doc.go forbids.
func TestRoomImports(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is not on PATH: the import rule is checked where it is (CI)")
	}
	const module = "github.com/newsmd/newsmd"
	for pkg, banned := range roomRules {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		for line := range strings.Lines(string(out)) {
			path := strings.TrimSpace(line)
			for _, b := range banned {
				if path == module+b || (strings.HasSuffix(b, "/") && strings.HasPrefix(path, module+b)) {
					t.Errorf("%s depends on %s", pkg, path)
				}
			}
		}
	}
}
