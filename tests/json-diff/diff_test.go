package jsondiff

import (
	"bytes"
	"encoding/json"
	"flag"
	"math/rand"
	"testing"
	"unicode/utf8"
)

var (
	cases = flag.Int("cases", 200000, "random cases")
	seed  = flag.Int64("seed", 0, "random seed (0: time-based, printed)")
)

// Fragments that stress the encoder: every escape class, valid UTF-8 of
// each length, and each kind of invalid UTF-8 Go replaces by U+FFFD.
var fragments = []string{
	"a", "Z", "0", " ", "-", ".", "{", "}", "[", "]", "/", "pod", "spec.containers{app}",
	"<", ">", "&", "\"", "\\", "'", "\x7f", "\b", "\f", "\n", "\r", "\t", "\x00", "\x01", "\x1b", "\x1f",
	"é", "ß", "€", "\u2027", "\u2028", "\u2029", "\u202a", "\ufffd", "\ufeff", "😀", "\U0010ffff", "\u0800", "\u07ff",
	"\x80", "\xbf", "\xc0", "\xc1", "\xc2", "\xdf", "\xe0", "\xef", "\xf0", "\xf4", "\xf5", "\xf8", "\xfe", "\xff",
	"\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xe0\x9f\xbf", "\xed\xa0\x80", "\xed\xbf\xbf", "\xf0\x80\x80\x80",
	"\xf0\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xe2\x80", "\xe2\x82", "\xf0\x9f\x98", "\xf0\x9f", "\xe2\x80\xa8\x80",
}

func randString(r *rand.Rand) string {
	switch r.Intn(6) {
	case 0:
		return ""
	case 1: // random bytes
		b := make([]byte, r.Intn(24))
		r.Read(b)
		return string(b)
	case 2: // random runes, any plane, surrogates included (encoded as Go does)
		var b []byte
		for n := r.Intn(12); n > 0; n-- {
			b = utf8.AppendRune(b, rune(r.Intn(0x110000)))
		}
		return string(b)
	default: // fragments, sometimes cut at a random byte
		var b []byte
		for n := r.Intn(10); n > 0; n-- {
			b = append(b, fragments[r.Intn(len(fragments))]...)
		}
		if len(b) > 0 && r.Intn(4) == 0 {
			b = b[:r.Intn(len(b))]
		}
		return string(b)
	}
}

func randRef(r *rand.Rand) ObjectReference {
	return ObjectReference{
		Kind: randString(r), Namespace: randString(r), Name: randString(r), UID: UID(randString(r)),
		APIVersion: randString(r), ResourceVersion: randString(r), FieldPath: randString(r),
	}
}

type differ struct {
	t           *testing.T
	n, mismatch int
}

func (d *differ) check(ref ObjectReference, probe bool) {
	d.n++
	want, err := json.Marshal(ref)
	if err != nil {
		d.t.Fatalf("json.Marshal: %v", err)
	}
	got, err := KuberefJSON(ref, probe)
	if err != nil || !bytes.Equal(got, want) {
		d.mismatch++
		if d.mismatch <= 10 {
			d.t.Errorf("mismatch for %#v:\n go:      %q\n kuberef: %q (err %v)", ref, want, got, err)
		}
	}
}

func TestJSONMatchesGo(t *testing.T) {
	d := &differ{t: t}
	// Exhaustive: every string of one and of two bytes, as the name.
	for a := 0; a < 256; a++ {
		d.check(ObjectReference{Name: string([]byte{byte(a)})}, a%2 == 0)
		for b := 0; b < 256; b++ {
			d.check(ObjectReference{Name: string([]byte{byte(a), byte(b)})}, false)
		}
	}
	// Every valid and invalid three-byte start followed by ASCII, and every
	// lead byte of a four-byte sequence with every second byte.
	for a := 0xe0; a <= 0xff; a++ {
		for b := 0; b < 256; b++ {
			d.check(ObjectReference{FieldPath: string([]byte{byte(a), byte(b), 0x80, 'x'})}, false)
			d.check(ObjectReference{UID: UID([]byte{byte(a), byte(b), 0xbf, 0xbf})}, false)
		}
	}
	// Fixed adversarial cases.
	d.check(ObjectReference{}, true)
	for _, f := range fragments {
		d.check(ObjectReference{Kind: f, FieldPath: f + f}, true)
	}
	s := *seed
	if s == 0 {
		s = rand.Int63()
	}
	r := rand.New(rand.NewSource(s))
	for i := 0; i < *cases; i++ {
		d.check(randRef(r), i%7 == 0)
	}
	t.Logf("json-diff: %d cases (seed %d), %d mismatches", d.n, s, d.mismatch)
	if d.mismatch == 0 {
		println("json-diff:", d.n, "cases against encoding/json, 0 mismatches, seed", s)
	}
}
