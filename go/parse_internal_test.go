package kuberef

import (
	"strings"
	"testing"
)

// parseLong, the parse of text over the library's limit, agrees with
// upstream's strings.Split rule and with the C library's parse on every
// string of up to 8 bytes over the alphabet that matters (quotes, the
// separator's bytes, one other byte): 87,381 texts.
func TestParseLongIsUpstreamsParse(t *testing.T) {
	const alphabet = `":/a`
	var walk func(text string)
	n := 0
	walk = func(text string) {
		n++
		parts := strings.Split(strings.Trim(text, `"`), "://") // upstream's ParseString
		typ, id, ok := parseLong(text)
		if ok != (len(parts) == 2) || ok && (typ != parts[0] || id != parts[1]) {
			t.Fatalf("parseLong(%q) = %q, %q, %v; upstream's parts %q", text, typ, id, ok, parts)
		}
		r := cParse(text)
		if (r.status == StatusOK) != ok || ok && (text[r.off[0]:r.off[0]+r.len[0]] != typ ||
			text[r.off[1]:r.off[1]+r.len[1]] != id) {
			t.Fatalf("parseLong(%q) = %q, %q, %v; the library's status %d", text, typ, id, ok, r.status)
		}
		if len(text) < 8 {
			for i := 0; i < len(alphabet); i++ {
				walk(text + alphabet[i:i+1])
			}
		}
	}
	walk("")
	t.Logf("%d texts", n)
}
