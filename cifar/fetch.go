package cifar

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/schollz/progressbar/v3"
)

// The official archive.
const (
	OfficialURL  = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
	OfficialMD5  = "c32a1d4ab5d03f1284b67883e8d87530"
	OfficialSize = 170052171
	ArchiveName  = "cifar-10-binary.tar.gz"
)

// CacheDir is where the archive is looked for and kept: $VKNN_DATA if set,
// else ~/.cache/vknn.
func CacheDir() string {
	if d := os.Getenv("VKNN_DATA"); d != "" {
		return d
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".cache", "vknn")
	}
	return filepath.Join(os.TempDir(), "vknn")
}

// Find returns the first CIFAR-10 copy in dir: the archive, an extracted
// cifar-10-batches-bin folder, the shared training archive, or dir itself
// when it holds the .bin files.
func Find(dir string) (string, bool) {
	for _, name := range []string{ArchiveName, "cifar-10-batches-bin", "cifar-10-train-binary.tar.gz"} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p, true
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !e.IsDir() && (trainName.MatchString(e.Name()) || testName.MatchString(e.Name())) {
			return dir, true
		}
	}
	return "", false
}

// Fetcher downloads the official archive.
type Fetcher struct {
	URL      string
	MD5      string
	Size     int64
	Progress io.Writer // progress bar destination; nil for none
	Client   *http.Client
}

// Official is a Fetcher for the official archive, with a progress bar on
// stderr.
func Official() *Fetcher {
	// Fail fast when offline: a few seconds to connect, not minutes.
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
	}
	return &Fetcher{URL: OfficialURL, MD5: OfficialMD5, Size: OfficialSize, Progress: os.Stderr,
		Client: &http.Client{Transport: transport, Timeout: 30 * time.Minute}}
}

// Fetch downloads the archive into dir/cifar-10-binary.tar.gz, verifying
// its size and MD5, through a temporary file renamed into place only when
// whole and verified. It returns the archive's path.
func (f *Fetcher) Fetch(ctx context.Context, dir string) (string, error) {
	dest := filepath.Join(dir, ArchiveName)
	fail := func(err error) (string, error) {
		return "", fmt.Errorf("cifar: downloading %s: %w\n%s holds no CIFAR-10 (%s, an extracted cifar-10-batches-bin folder or its .bin files); "+
			"without network, download it elsewhere and put it there (or pass the data path; $VKNN_DATA sets the folder)", f.URL, err, dir, ArchiveName)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.URL, nil)
	if err != nil {
		return fail(err)
	}
	client := f.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return fail(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fail(fmt.Errorf("HTTP %s", resp.Status))
	}
	tmp, err := os.CreateTemp(dir, ArchiveName+".part-*")
	if err != nil {
		return fail(err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	sum := md5.New()
	var w io.Writer = io.MultiWriter(tmp, sum)
	if f.Progress != nil {
		bar := progressbar.DefaultBytes(f.Size, "downloading CIFAR-10")
		progressbar.OptionSetWriter(f.Progress)(bar)
		w = io.MultiWriter(w, bar)
	}
	n, err := io.Copy(w, resp.Body)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fail(err)
	}
	if f.Size > 0 && n != f.Size {
		return fail(fmt.Errorf("got %d bytes, want %d", n, f.Size))
	}
	if got := hex.EncodeToString(sum.Sum(nil)); f.MD5 != "" && got != f.MD5 {
		return fail(fmt.Errorf("MD5 %s, want %s", got, f.MD5))
	}
	if err := os.Rename(tmp.Name(), dest); err != nil {
		return fail(err)
	}
	return dest, nil
}

// Resolve finds the data: path if given, else a copy in CacheDir(), else
// a download into CacheDir() through f (nil: no download).
func Resolve(ctx context.Context, path string, f *Fetcher) (string, error) {
	if path != "" {
		if _, err := os.Stat(path); err != nil {
			return "", fmt.Errorf("cifar: data path: %w", err)
		}
		return path, nil
	}
	dir := CacheDir()
	if p, ok := Find(dir); ok {
		return p, nil
	}
	if f == nil {
		return "", errors.New("cifar: no data in " + dir + "; put " + ArchiveName + " there or pass a data path")
	}
	return f.Fetch(ctx, dir)
}
