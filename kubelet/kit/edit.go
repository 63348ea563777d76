package main

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// What fork.sh replaces, by file: the names each file must declare. ref.go
// and container_reference_manager.go are deleted whole, so they must declare
// nothing else; runtime.go keeps everything but these.
var (
	refGo     = []string{"ImplicitContainerPrefix", "GenerateContainerRef", "fieldPath"}
	managerGo = []string{"RefManager", "NewRefManager", "RefManager.SetRef", "RefManager.ClearRef", "RefManager.GetRef"}
	runtimeGo = []string{"ContainerID", "BuildContainerID", "ParseContainerID", "ContainerID.ParseString",
		"ContainerID.String", "ContainerID.IsEmpty", "ContainerID.MarshalJSON", "ContainerID.UnmarshalJSON"}
)

// declName is a top-level declaration's name: "F", "T", "V", or "T.M" for a
// method of T or *T. A GenDecl with several specs gives several names.
func declNames(d ast.Decl) []string {
	switch d := d.(type) {
	case *ast.FuncDecl:
		if d.Recv == nil || len(d.Recv.List) != 1 {
			return []string{d.Name.Name}
		}
		t := d.Recv.List[0].Type
		if s, ok := t.(*ast.StarExpr); ok {
			t = s.X
		}
		if id, ok := t.(*ast.Ident); ok {
			return []string{id.Name + "." + d.Name.Name}
		}
		return []string{"?." + d.Name.Name}
	case *ast.GenDecl:
		var names []string
		for _, s := range d.Specs {
			switch s := s.(type) {
			case *ast.TypeSpec:
				names = append(names, s.Name.Name)
			case *ast.ValueSpec:
				for _, n := range s.Names {
					names = append(names, n.Name)
				}
			}
		}
		return names
	}
	return nil
}

func parse(path string) (*token.FileSet, *ast.File, []byte, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, nil, err
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, src, parser.ParseComments)
	return fset, f, src, err
}

func fileNames(f *ast.File) map[string]bool {
	names := map[string]bool{}
	for _, d := range f.Decls {
		for _, n := range declNames(d) {
			names[n] = true
		}
	}
	return names
}

// check reports why dir (pkg/kubelet/container) is not a package whose
// definitions fork.sh knows how to replace, or nil.
func check(dir string) error {
	var problems []string
	bad := func(format string, args ...interface{}) { problems = append(problems, fmt.Sprintf(format, args...)) }

	exact := func(file string, want []string) {
		_, f, _, err := parse(filepath.Join(dir, file))
		if err != nil {
			bad("%s: %v", file, err)
			return
		}
		got := fileNames(f)
		for _, n := range want {
			if !got[n] {
				bad("%s does not declare %s", file, n)
			}
			delete(got, n)
		}
		for n := range got {
			bad("%s also declares %s, which deleting the file would lose", file, n)
		}
	}
	exact("ref.go", refGo)
	exact("container_reference_manager.go", managerGo)

	_, rt, _, err := parse(filepath.Join(dir, "runtime.go"))
	if err != nil {
		bad("runtime.go: %v", err)
	} else {
		got := fileNames(rt)
		for _, n := range runtimeGo {
			if !got[n] {
				bad("runtime.go does not declare %s", n)
			}
		}
		for _, d := range rt.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.TYPE {
				continue
			}
			for _, s := range g.Specs {
				ts := s.(*ast.TypeSpec)
				if ts.Name.Name != "ContainerID" {
					continue
				}
				if len(g.Specs) != 1 {
					bad("runtime.go declares ContainerID in a group of types")
				}
				if got := fieldList(ts.Type); got != "Type string; ID string" {
					bad("runtime.go's ContainerID is struct { %s }, not struct { Type string; ID string }", got)
				}
			}
		}
	}

	// Every other file of the package: no other method on ContainerID or
	// RefManager (an alias of kuberef's type cannot have methods added), and
	// none of the names the kit declares.
	kit := append(append(append([]string{}, refGo...), managerGo...), runtimeGo...)
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	for _, path := range files {
		base := filepath.Base(path)
		if base == "ref.go" || base == "container_reference_manager.go" || base == "runtime.go" ||
			strings.HasSuffix(base, "_test.go") || strings.HasPrefix(base, "kuberef") {
			continue
		}
		_, f, _, err := parse(path)
		if err != nil {
			bad("%s: %v", base, err)
			continue
		}
		for n := range fileNames(f) {
			for _, k := range kit {
				if n == k {
					bad("%s declares %s", base, n)
				}
			}
			if strings.HasPrefix(n, "ContainerID.") || strings.HasPrefix(n, "RefManager.") {
				bad("%s declares the method %s", base, n)
			}
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return errors.New(dir + " is not a Kubernetes v1.18 pkg/kubelet/container that the kit knows:\n  " +
			strings.Join(problems, "\n  "))
	}
	return nil
}

// fieldList renders a struct type's fields as "Name type; Name type".
func fieldList(e ast.Expr) string {
	st, ok := e.(*ast.StructType)
	if !ok {
		return "not a struct"
	}
	var parts []string
	for _, f := range st.Fields.List {
		typ := "?"
		if id, ok := f.Type.(*ast.Ident); ok {
			typ = id.Name
		}
		for _, n := range f.Names {
			parts = append(parts, n.Name+" "+typ)
		}
		if len(f.Names) == 0 {
			parts = append(parts, "(embedded) "+typ)
		}
	}
	return strings.Join(parts, "; ")
}

// strip deletes the declarations named in runtimeGo from the file at path,
// each with its doc comment, then every import that only they used.
func strip(path string) error {
	fset, f, src, err := parse(path)
	if err != nil {
		return err
	}
	remove := map[string]bool{}
	for _, n := range runtimeGo {
		remove[n] = true
	}
	type span struct{ from, to int }
	var cuts []span
	usedByRemoved := map[string]bool{}
	found := 0
	for _, d := range f.Decls {
		names := declNames(d)
		if len(names) != 1 || !remove[names[0]] {
			continue
		}
		found++
		from := d.Pos()
		var doc *ast.CommentGroup
		switch d := d.(type) {
		case *ast.FuncDecl:
			doc = d.Doc
		case *ast.GenDecl:
			doc = d.Doc
		}
		if doc != nil {
			from = doc.Pos()
		}
		cuts = append(cuts, span{fset.Position(from).Offset, fset.Position(d.End()).Offset})
		ast.Inspect(d, func(n ast.Node) bool {
			if s, ok := n.(*ast.SelectorExpr); ok {
				if id, ok := s.X.(*ast.Ident); ok {
					usedByRemoved[id.Name] = true
				}
			}
			return true
		})
	}
	if found != len(runtimeGo) {
		return fmt.Errorf("%s: found %d of the %d declarations to delete", path, found, len(runtimeGo))
	}
	// The remaining code's uses of package names.
	usedElsewhere := map[string]bool{}
	for _, d := range f.Decls {
		if names := declNames(d); len(names) == 1 && remove[names[0]] {
			continue
		}
		ast.Inspect(d, func(n ast.Node) bool {
			if s, ok := n.(*ast.SelectorExpr); ok {
				if id, ok := s.X.(*ast.Ident); ok {
					usedElsewhere[id.Name] = true
				}
			}
			return true
		})
	}
	for _, imp := range f.Imports {
		name := importName(imp)
		if usedByRemoved[name] && !usedElsewhere[name] {
			cuts = append(cuts, span{fset.Position(imp.Pos()).Offset, fset.Position(imp.End()).Offset})
		}
	}
	sort.Slice(cuts, func(i, j int) bool { return cuts[i].from < cuts[j].from })
	var out bytes.Buffer
	at := 0
	for _, c := range cuts {
		out.Write(src[at:c.from])
		// The newlines after a deleted declaration go with it: the blank
		// line before it then separates its neighbours.
		for at = c.to; at < len(src) && src[at] == '\n'; at++ {
		}
	}
	out.Write(src[at:])
	formatted, err := format.Source(out.Bytes())
	if err != nil {
		return fmt.Errorf("%s after the deletions: %v", path, err)
	}
	return os.WriteFile(path, formatted, 0o644)
}

// importName is the name an import is used by: its explicit name, else the
// last element of its path.
func importName(imp *ast.ImportSpec) string {
	if imp.Name != nil {
		return imp.Name.Name
	}
	p := strings.Trim(imp.Path.Value, `"`)
	return p[strings.LastIndex(p, "/")+1:]
}
