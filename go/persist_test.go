package kuberef_test

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	kuberef "github.com/kuberef/kuberef/go"
	v1 "k8s.io/api/core/v1"
)

// statusOf returns the status of a *kuberef.FileError, or 0.
func statusOf(err error) uint32 {
	var fe *kuberef.FileError
	if errors.As(err, &fe) {
		return fe.Status
	}
	return 0
}

// snapshotOf fills a new manager with snapshot k: 100 + 150k references
// whose names carry k.
func snapshotOf(k int) *kuberef.RefManager {
	m := kuberef.NewRefManager()
	for i := 0; i < 100+150*k; i++ {
		ref := podRef(i, i)
		ref.Name = fmt.Sprintf("%d-name-%d", k, i)
		m.SetRef(cid(i), ref)
	}
	return m
}

// whichSnapshot returns the k of snapshotOf that m holds exactly, or -1.
func whichSnapshot(m *kuberef.RefManager) int {
	k := -1
	ok := true
	m.ForEach(func(id kuberef.ContainerID, ref *v1.ObjectReference) bool {
		var tag, i int
		if _, err := fmt.Sscanf(ref.Name, "%d-name-%d", &tag, &i); err != nil || (k >= 0 && tag != k) || id != cid(i) {
			ok = false
			return false
		}
		k = tag
		return true
	})
	if !ok || k < 0 || m.Len() != 100+150*k {
		return -1
	}
	return k
}

func TestSaveNeverWritesThroughALink(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state")
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("precious\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The fixed temporary name of earlier versions, and the path itself.
	for _, link := range []string{path + ".kuberef-tmp", path} {
		if err := os.Symlink(victim, link); err != nil {
			t.Fatal(err)
		}
	}
	m := snapshotOf(1)
	defer m.Close()
	if n, err := m.Save(path); n != 250 || err != nil {
		t.Fatalf("Save = %d, %v", n, err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
		t.Errorf("the link's target now holds %q", b)
	}
	if st, _ := os.Stat(victim); st.Mode().Perm() != 0o644 {
		t.Errorf("the link's target's mode is now %v", st.Mode())
	}
	if st, _ := os.Lstat(path); !st.Mode().IsRegular() || st.Mode().Perm() != 0o600 {
		t.Errorf("path is %v, want a regular file with mode 0600", st.Mode())
	}
	got := kuberef.NewRefManager()
	defer got.Close()
	if _, err := got.Load(path, true); err != nil || whichSnapshot(got) != 1 {
		t.Fatalf("Load: %v", err)
	}
}

func TestLoadRefusesSpecialFilesAtOnce(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	m := snapshotOf(0)
	defer m.Close()
	// A load that blocked would hang until go test's -timeout fails it.
	for _, p := range []string{fifo, "/dev/zero", dir, sock} {
		n, err := m.Load(p, true)
		if statusOf(err) != kuberef.StatusFileNotRegular || n != 0 {
			t.Errorf("Load(%s) = %d, %v", p, n, err)
		}
		if !strings.Contains(fmt.Sprint(err), "not a regular file") {
			t.Errorf("Load(%s): %v does not say what was wrong", p, err)
		}
	}
	if whichSnapshot(m) != 0 {
		t.Error("the manager changed")
	}
}

// peakRSS returns the process's peak resident set (VmHWM) in KiB.
func peakRSS(t *testing.T) int {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kib, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(v, "kB")))
			return kib
		}
	}
	t.Fatal("no VmHWM")
	return 0
}

func TestLoadRefusesHeadersThatLieAboutTheLength(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "lies")
	m := snapshotOf(0)
	defer m.Close()
	if _, err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(path)
	before := peakRSS(t)
	// An 8 GiB sparse file behind a valid header that claims a payload of
	// that size for 100 records: refused by the header alone.
	header := append([]byte{}, good[:40]...)
	if err := os.WriteFile(path, header, 0o600); err != nil {
		t.Fatal(err)
	}
	claim := uint64(8<<30) - 40
	for i := 0; i < 8; i++ {
		header[24+i] = byte(claim >> (8 * i))
	}
	crc := crc32IEEE(header[:36])
	for i := 0; i < 4; i++ {
		header[36+i] = byte(crc >> (8 * i))
	}
	if err := os.WriteFile(path, header, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 8<<30); err != nil {
		t.Fatal(err)
	}
	// Refused from the header: the process reads a few bytes, not 8 GiB.
	read := bytesRead(t)
	if _, err := m.Load(path, true); statusOf(err) != kuberef.StatusFileCorrupt {
		t.Errorf("8 GiB that lie: %v", err)
	}
	if n := bytesRead(t) - read; n > 1<<20 {
		t.Errorf("8 GiB that lie: the load read %d bytes", n)
	}
	// The real header over fewer bytes than it says, and over more.
	for _, c := range []struct {
		data   []byte
		status uint32
	}{
		{good[:len(good)-1], kuberef.StatusFileTruncated},
		{append(append([]byte{}, good...), 0), kuberef.StatusFileCorrupt},
	} {
		os.WriteFile(path, c.data, 0o600)
		if _, err := m.Load(path, true); statusOf(err) != c.status {
			t.Errorf("%d bytes: %v", len(c.data), err)
		}
	}
	if grew := peakRSS(t) - before; grew > 16<<10 {
		t.Errorf("peak RSS grew by %d KiB", grew)
	}
	if whichSnapshot(m) != 0 {
		t.Error("the manager changed")
	}
}

func crc32IEEE(b []byte) uint32 {
	c := ^uint32(0)
	for _, x := range b {
		c ^= uint32(x)
		for k := 0; k < 8; k++ {
			c = (c >> 1) ^ (0xedb88320 & -(c & 1))
		}
	}
	return ^c
}

const saverEnv = "KUBEREF_TEST_SAVER" // "PATH:K:SAVES" for TestConcurrentSaverChild

// TestConcurrentSaverChild is one saving process of TestConcurrentSavers.
func TestConcurrentSaverChild(t *testing.T) {
	spec := os.Getenv(saverEnv)
	if spec == "" {
		t.Skip("run by TestConcurrentSavers")
	}
	parts := strings.Split(spec, ":")
	k, _ := strconv.Atoi(parts[1])
	saves, _ := strconv.Atoi(parts[2])
	m := snapshotOf(k)
	defer m.Close()
	for i := 0; i < saves; i++ {
		if _, err := m.Save(parts[0]); err != nil {
			t.Fatal(err)
		}
	}
}

func TestConcurrentSavers(t *testing.T) {
	// Two goroutines here and two other processes save their own snapshots
	// to one path while a third goroutine loads it: every load is whole and
	// one of the four, every save succeeds, and no temporary file is left.
	dir := t.TempDir()
	path := filepath.Join(dir, "state")
	const saves = 40
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for k := 0; k < 2; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			m := snapshotOf(k)
			defer m.Close()
			for i := 0; i < saves; i++ {
				if _, err := m.Save(path); err != nil {
					errs <- err
					return
				}
			}
		}(k)
	}
	for k := 2; k < 4; k++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestConcurrentSaverChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s:%d:%d", saverEnv, path, k, saves))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if out, err := cmd.CombinedOutput(); err != nil {
				errs <- fmt.Errorf("saver process: %v\n%s", err, out)
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	m := kuberef.NewRefManager()
	defer m.Close()
	seen := map[int]int{}
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		_, err := m.Load(path, true)
		if statusOf(err) == kuberef.StatusFileNotFound {
			continue
		}
		if err != nil {
			t.Fatalf("a load during the saves: %v", err)
		}
		k := whichSnapshot(m)
		if k < 0 {
			t.Fatal("a load during the saves is not one of the snapshots")
		}
		seen[k]++
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 1 {
		t.Errorf("left in the directory: %v", left)
	}
	t.Logf("loads during the saves, by snapshot: %v", seen)
	if len(seen) == 0 {
		t.Error("no load found a snapshot while the saves ran: nothing was checked")
	}
}

// TestSaveNotDurable needs a user whom directory permissions bind: make
// go-test runs it as an unprivileged user; as root it is skipped.
func TestSaveNotDurable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores directory permissions; make go-test runs this as an unprivileged user")
	}
	sub := filepath.Join(t.TempDir(), "wx")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(sub, 0o700)
	path := filepath.Join(sub, "state")
	old, next := snapshotOf(0), snapshotOf(1)
	defer old.Close()
	defer next.Close()
	if _, err := old.Save(path); err != nil {
		t.Fatal(err)
	}
	os.Chmod(sub, 0o300) // write and search, no read: the directory cannot be synced
	n, err := next.Save(path)
	if statusOf(err) != kuberef.StatusSaveNotDurable || n != 250 {
		t.Fatalf("Save in a 0300 directory = %d, %v", n, err)
	}
	os.Chmod(sub, 0o500) // no write: nothing can change
	if n, err := old.Save(path); statusOf(err) != kuberef.StatusIOError || n != 0 {
		t.Fatalf("Save in a 0500 directory = %d, %v", n, err)
	}
	os.Chmod(sub, 0o700)
	got := kuberef.NewRefManager()
	defer got.Close()
	if _, err := got.Load(path, true); err != nil || whichSnapshot(got) != 1 {
		t.Fatalf("the file holds snapshot %d (%v); the statuses said 1", whichSnapshot(got), err)
	}
}

func TestSaveLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "refs")
	a, b := kuberef.NewRefManager(), kuberef.NewRefManager()
	defer a.Close()
	defer b.Close()
	for i := 0; i < 500; i++ {
		a.SetRef(cid(i), podRef(i/5, i))
	}
	_, err := b.Load(path, false)
	var fe *kuberef.FileError
	if !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &fe) || fe.Status != kuberef.StatusFileNotFound {
		t.Fatalf("Load of a missing file: %v", err)
	}
	if n, err := a.Save(path); n != 500 || err != nil {
		t.Fatalf("Save = %d, %v", n, err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("saved file: %v, %v", st, err)
	}
	b.SetRef(cid(9999), podRef(1, 1))
	if n, err := b.Load(path, false); n != 500 || err != nil || b.Len() != 501 {
		t.Fatalf("merge Load = %d, %v (len %d)", n, err, b.Len())
	}
	if n, err := b.Load(path, true); n != 500 || err != nil || b.Len() != 500 {
		t.Fatalf("replace Load = %d, %v (len %d)", n, err, b.Len())
	}
	for i := 0; i < 500; i++ {
		if ref, ok := b.GetRef(cid(i)); !ok || *ref != *podRef(i/5, i) {
			t.Fatalf("ref %d after Load: %+v", i, ref)
		}
	}
	good, _ := os.ReadFile(path)
	bad := filepath.Join(dir, "bad")
	for _, c := range []struct {
		name   string
		data   []byte
		status uint32
	}{
		{"empty", nil, kuberef.StatusFileTruncated},
		{"half", good[:len(good)/2], kuberef.StatusFileTruncated},
		{"foreign", []byte("apiVersion: v1\nkind: Pod\n...................................."), kuberef.StatusFileForeign},
		{"version", append(append(append([]byte{}, good[:8]...), 2, 0, 0, 0), good[12:]...), kuberef.StatusFileVersion},
		{"flipped", append(append(append([]byte{}, good[:len(good)-3]...), good[len(good)-3]^0x40), good[len(good)-2:]...), kuberef.StatusFileCorrupt},
	} {
		os.WriteFile(bad, c.data, 0o600)
		_, err := b.Load(bad, true)
		if !errors.As(err, &fe) || fe.Status != c.status || b.Len() != 500 {
			t.Errorf("%s: %v (len %d)", c.name, err, b.Len())
		}
	}
	if _, err := a.Save(filepath.Join(dir, "no", "such", "dir")); !errors.As(err, &fe) || fe.Status != kuberef.StatusIOError {
		t.Errorf("Save into a missing directory: %v", err)
	}
}

// bytesRead is what the process has read from files, pipes and sockets so
// far (/proc/self/io, rchar).
func bytesRead(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "rchar: "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no rchar in /proc/self/io")
	return 0
}
