// Command kit is the kubelet fork kit's helper (kubelet/fork.sh and
// kubelet/test.sh run it):
//
//	kit check DIR     DIR is pkg/kubelet/container of a Kubernetes v1.18 tree
//	                  that fork.sh can change: exit 1 with the reasons if not
//	kit strip FILE    delete ContainerID's definitions from runtime.go, and
//	                  the imports only they used (FILE is rewritten, gofmt'd)
//	kit compare OUT   compare upstream's test results in OUT/baseline and
//	                  OUT/swap, print a table, exit 1 on a regression
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: kit check DIR | kit strip FILE | kit compare OUT")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "check":
		err = check(os.Args[2])
	case "strip":
		err = strip(os.Args[2])
	case "compare":
		err = compare(os.Args[2], os.Stdout)
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kit:", err)
		os.Exit(1)
	}
}
