package checkpoint

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestMain doubles as the helper process of TestKillDuringSave: with
// VKNN_SAVE_PATH set it saves checkpoints there until killed.
func TestMain(m *testing.M) {
	if path := os.Getenv("VKNN_SAVE_PATH"); path != "" {
		saveLoop(path)
	}
	os.Exit(m.Run())
}

func saveLoop(path string) {
	big := make([]float32, 1<<20) // 4 MiB: a save takes a while
	for i := 0; ; i++ {
		for j := range big {
			big[j] = float32(i)
		}
		f := &File{Tensors: []Tensor{{Name: "w", Shape: []int{len(big)}, Data: big}},
			Metadata: map[string]string{"i": fmt.Sprint(i)}}
		if err := Save(path, f); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
}

// TestKillDuringSave kills a process that is saving checkpoints, with
// SIGKILL at random moments: the file left behind always loads, whole.
func TestKillDuringSave(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "last.safetensors")
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 8 {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), "VKNN_SAVE_PATH="+path)
		require.NoError(t, cmd.Start())
		// Wait for a first checkpoint, then kill at a random moment.
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			if _, err := os.Stat(path); err == nil || time.Now().After(deadline) {
				break
			}
		}
		time.Sleep(time.Duration(rng.IntN(200)) * time.Millisecond)
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		cmd.Wait()
		f, err := Load(path)
		require.NoError(t, err, "round %d: the checkpoint left by a killed save does not load", round)
		w, ok := f.Get("w")
		require.True(t, ok)
		require.Equal(t, f.Metadata["i"], fmt.Sprint(w.Data[len(w.Data)-1]), "round %d: data and metadata from one save", round)
	}
}
