package kuberef

import (
	"fmt"
	"strconv"
	"unsafe"
)

// ContainerID is upstream's kubecontainer.ContainerID (Kubernetes v1.18.6):
// the same two fields in the same order, so a plain conversion
// kuberef.ContainerID(id) / kubecontainer.ContainerID(id) works both ways.
type ContainerID struct {
	// The type of the container runtime, e.g. "docker" or "containerd".
	Type string
	// The runtime's identification of the container.
	ID string
}

// BuildContainerID returns ContainerID{Type: typ, ID: ID}, as upstream does.
func BuildContainerID(typ, ID string) ContainerID {
	return ContainerID{Type: typ, ID: ID}
}

// ParseContainerID parses "type://id" and returns the zero ContainerID if the
// text is not a container ID (upstream also logs the error through klog; this
// package has no logger, so the error is dropped silently).
func ParseContainerID(containerID string) ContainerID {
	var id ContainerID
	_ = id.ParseString(containerID)
	return id
}

// ParseString sets c from "type://id", as upstream does: every leading and
// trailing '"' is trimmed, then the text must contain "://" exactly once. On
// failure c is unchanged and the error reads `invalid container ID: "<data>"`
// with the original, untrimmed data, as upstream's does. The parsing is done
// by the C library; Type and ID share data's bytes (no copy).
func (c *ContainerID) ParseString(data string) error {
	r := cParse(data)
	switch r.status {
	case statusOK:
		c.Type = data[r.off[0] : r.off[0]+r.len[0]]
		c.ID = data[r.off[1] : r.off[1]+r.len[1]]
		return nil
	case statusInvalidContainer:
		return fmt.Errorf("invalid container ID: %q", data)
	default:
		return &Error{Op: "ParseString", Status: r.status}
	}
}

// String returns "type://id" ("://" for the zero value), formatted by the C
// library into one allocation.
func (c *ContainerID) String() string {
	buf := make([]byte, len(c.Type)+len(c.ID)+4) // "://" and the library's NUL
	if st := cFormat(c.Type, c.ID, buf); st != statusOK {
		panic(&Error{Op: "ContainerID.String", Status: st})
	}
	return unsafe.String(&buf[0], len(buf)-1)
}

// IsEmpty reports whether both fields are empty (upstream: *c == ContainerID{}).
// A plain struct comparison; there is nothing for the C library to decide.
func (c *ContainerID) IsEmpty() bool {
	return *c == ContainerID{}
}

// MarshalJSON returns String() quoted with Go's %q, as upstream does
// (fmt.Sprintf("%q", c.String())). Note that %q is Go quoting, not JSON
// quoting: non-ASCII and control bytes come out the way strconv.Quote writes
// them, exactly as upstream.
func (c *ContainerID) MarshalJSON() ([]byte, error) {
	return strconv.AppendQuote(nil, c.String()), nil
}

// UnmarshalJSON is ParseString(string(data)), as upstream: the raw JSON text
// is trimmed of quotes but not JSON-unescaped.
func (c *ContainerID) UnmarshalJSON(data []byte) error {
	return c.ParseString(string(data))
}

// Error is a failure reported by the C library that has no upstream
// equivalent: a string over the library's size limit (64 MiB), or an
// internal error. Operations without an error result panic with it.
type Error struct {
	Op     string // the Go operation, e.g. "SetRef"
	Status uint32 // the library's kuberef_status
}

func (e *Error) Error() string {
	return fmt.Sprintf("kuberef: %s: %s (status %d)", e.Op, statusMessage(e.Status), e.Status)
}

func statusMessage(s uint32) string {
	if s == statusOutOfMemory {
		return "out of memory"
	}
	return cMessage(s)
}

// ABIVersion returns the ABI version of the loaded C library (1).
func ABIVersion() uint32 { return cABIVersion() }

// LibraryVersion returns the version of the loaded C library, e.g. "1.3.0".
func LibraryVersion() string { return cVersion() }
