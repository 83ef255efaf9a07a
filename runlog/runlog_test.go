package runlog

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRedoneSteps: lines of a run resumed from an older checkpoint
// replace those from the step they redo; damaged lines are counted.
func TestRedoneSteps(t *testing.T) {
	path := filepath.Join(t.TempDir(), CurveFile)
	for _, s := range []int{20, 40, 60} {
		require.NoError(t, Append(path, Point{Step: s, Steps: 20, TrainErr: 0.5}))
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("{\"step\": 4\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	require.NoError(t, Append(path, Point{Step: 40, Steps: 20, TrainErr: 0.25}))
	got, skipped, err := Points(path)
	require.NoError(t, err)
	require.Equal(t, 1, skipped)
	require.Equal(t, []Point{{Step: 20, Steps: 20, TrainErr: 0.5}, {Step: 40, Steps: 20, TrainErr: 0.25}}, got)

	dir := t.TempDir()
	_, ok, err := ReadDone(dir)
	require.NoError(t, err)
	require.False(t, ok)
	require.NoError(t, MarkDone(dir, Done{Steps: 300, StepsPerEpoch: 351}))
	d, ok, err := ReadDone(dir)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, Done{Steps: 300, StepsPerEpoch: 351}, d)
	require.NoError(t, os.WriteFile(filepath.Join(dir, DoneFile), []byte("{"), 0o644))
	_, _, err = ReadDone(dir)
	require.ErrorContains(t, err, DoneFile)
}
