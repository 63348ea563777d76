package kuberef_test

import (
	"testing"

	kuberef "github.com/kuberef/kuberef/go"
)

func TestLibraryVersion(t *testing.T) {
	if got := kuberef.ABIVersion(); got != 1 {
		t.Fatalf("ABIVersion = %d, want 1", got)
	}
	if v := kuberef.LibraryVersion(); v == "" {
		t.Fatal("empty LibraryVersion")
	}
}
