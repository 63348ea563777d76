package kuberef

import (
	"fmt"
	"strconv"
	"strings"
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
// package has no logger, so the error is dropped silently). Any length
// works, as upstream: see ParseString.
func ParseContainerID(containerID string) ContainerID {
	var id ContainerID
	id.parse(containerID) // the error's text would only be dropped: not built
	return id
}

// ParseString sets c from "type://id", as upstream does: every leading and
// trailing '"' is trimmed, then the text must contain "://" exactly once. On
// failure c is unchanged and the error reads `invalid container ID: "<data>"`
// with the original, untrimmed data, as upstream's does. Type and ID share
// data's bytes (no copy). The C library parses text up to MaxStringLen
// bytes; longer text, which it refuses, is parsed here in Go by the same
// rules, so every length gives upstream's result and no other error.
func (c *ContainerID) ParseString(data string) error {
	switch st := c.parse(data); st {
	case StatusOK:
		return nil
	case StatusInvalidContainerID:
		return fmt.Errorf("invalid container ID: %q", data) // upstream's error
	default:
		return &Error{Op: "ParseString", Status: st}
	}
}

// parse is ParseString returning the library's status instead of an error:
// StatusOK (c set), StatusInvalidContainerID or an internal failure (c
// unchanged).
func (c *ContainerID) parse(data string) uint32 {
	if len(data) > MaxStringLen {
		typ, id, ok := parseLong(data)
		if !ok {
			return StatusInvalidContainerID
		}
		c.Type, c.ID = typ, id
		return StatusOK
	}
	r := cParse(data)
	if r.status == StatusOK {
		c.Type = data[r.off[0] : r.off[0]+r.len[0]]
		c.ID = data[r.off[1] : r.off[1]+r.len[1]]
	}
	return r.status
}

// parseLong is upstream ParseString's parse for text the C library does not
// take: every leading and trailing '"' trimmed, then exactly two parts
// around "://". strings.Split(s, "://") has two parts exactly when Cut
// finds a first separator and none follows it (Split, too, looks for the
// next one after the end of the last), and Cut allocates no slice of parts.
func parseLong(data string) (typ, id string, ok bool) {
	typ, id, found := strings.Cut(strings.Trim(data, `"`), "://")
	if !found || strings.Contains(id, "://") {
		return "", "", false
	}
	return typ, id, true
}

// String returns "type://id" ("://" for the zero value), as upstream's
// fmt.Sprintf("%s://%s", ...) does for every length: plain Go, no call into
// the C library (there is nothing for it to decide, and no limit applies).
func (c *ContainerID) String() string {
	return c.Type + "://" + c.ID
}

// IsEmpty reports whether both fields are empty (upstream: *c == ContainerID{}).
// A plain struct comparison; there is nothing for the C library to decide.
func (c *ContainerID) IsEmpty() bool {
	return *c == ContainerID{}
}

// MarshalJSON returns String() quoted with Go's %q, as upstream does
// (fmt.Sprintf("%q", c.String()), which is strconv.Quote). Note that %q is
// Go quoting, not JSON quoting: non-ASCII and control bytes come out the way
// strconv.Quote writes them, exactly as upstream. It never fails, for any
// length.
func (c *ContainerID) MarshalJSON() ([]byte, error) {
	return strconv.AppendQuote(nil, c.String()), nil
}

// UnmarshalJSON is ParseString(string(data)), as upstream: the raw JSON text
// is trimmed of quotes but not JSON-unescaped. Any length works.
func (c *ContainerID) UnmarshalJSON(data []byte) error {
	return c.ParseString(string(data))
}
