package gpu_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vknn/vknn/gpu"
	"github.com/vknn/vknn/internal/testgpu"
)

func TestDevices(t *testing.T) {
	devs, err := gpu.Devices()
	require.NoError(t, err)
	require.NotEmpty(t, devs, "no Vulkan device")
	rank := map[string]int{"discrete": 0, "integrated": 1, "virtual": 2, "cpu": 3, "other": 4}
	for i, d := range devs {
		require.Equal(t, i, d.Index)
		require.NotEmpty(t, d.Name)
		require.Contains(t, rank, d.Type)
		require.Positive(t, d.MaxWorkgroupInvocations)
		require.Positive(t, d.SharedMemoryBytes)
		require.Positive(t, d.MaxStorageBufferRange)
		require.Positive(t, d.DeviceLocalBytes)
		if i > 0 {
			require.LessOrEqual(t, rank[devs[i-1].Type], rank[d.Type], "devices out of order")
		}
	}
	list := gpu.FormatDevices(devs)
	require.Contains(t, list, devs[0].Name)
	require.Contains(t, list, "shared memory")
}

func TestOpenOutOfRange(t *testing.T) {
	devs, err := gpu.Devices()
	require.NoError(t, err)
	for _, idx := range []int{len(devs), 5 + len(devs), -1} {
		_, err = gpu.Open(idx, gpu.Options{})
		require.Error(t, err)
		require.Contains(t, err.Error(), "out of range")
		require.Contains(t, err.Error(), devs[0].Name)
	}
}

func TestBufferRoundTrip(t *testing.T) {
	m := testgpu.Open(t)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 7, 1023, 1<<20 + 3} {
		x := testgpu.Rand(rng, n)
		b := testgpu.Upload(t, m, x)
		require.Equal(t, x, testgpu.Download(t, b, n))
		// Partial write at an offset.
		part := []byte{1, 2, 3}
		require.NoError(t, b.Write(1, part))
		got := make([]byte, 3)
		require.NoError(t, b.Read(1, got))
		require.Equal(t, part, got)
		require.Error(t, b.Write(b.Size()-1, part), "write past the end")
		require.Error(t, b.Read(b.Size()+1, nil), "read past the end")
		ints := []int32{-1, 2, math.MaxInt32}
		require.NoError(t, b.WriteInt32(ints[:min(n, 3)]))
		back := make([]int32, min(n, 3))
		require.NoError(t, b.ReadInt32(back))
		require.Equal(t, ints[:min(n, 3)], back)
		b.Free()
		b.Free() // twice is harmless
		require.Error(t, b.WriteFloat32(x[:1]), "write to a freed buffer")
	}
	_, err := m.NewBuffer(0)
	require.Error(t, err)
}

func TestClosedManager(t *testing.T) {
	m, err := gpu.Open(0, gpu.Options{})
	require.NoError(t, err)
	require.NoError(t, m.Close())
	require.NoError(t, m.Close())
	_, err = m.NewBuffer(4)
	require.Error(t, err)
	_, err = m.NewSequence(gpu.SequenceOptions{})
	require.Error(t, err)
}

func TestOutOfMemory(t *testing.T) {
	m := testgpu.Open(t)
	huge := m.Info().DeviceLocalBytes + 1<<30
	_, err := m.NewBuffer(huge)
	require.Error(t, err)
	require.Contains(t, err.Error(), "MiB")
	var ve *gpu.Error
	require.ErrorAs(t, err, &ve)
	require.True(t, ve.OutOfMemory())
	// Many buffers that together exceed the heap fail the same way, and
	// freeing one makes room again.
	var bufs []*gpu.Buffer
	chunk := m.Info().DeviceLocalBytes / 4
	for range 6 {
		b, err := m.NewBuffer(chunk)
		if err != nil {
			require.ErrorAs(t, err, &ve)
			break
		}
		bufs = append(bufs, b)
	}
	require.Less(t, len(bufs), 5, "the heap's size is enforced")
	require.NotEmpty(t, bufs, "a quarter of the heap fits once")
	_, _, _, used := m.Live()
	require.GreaterOrEqual(t, used, uint64(len(bufs))*chunk)
	require.NoError(t, bufs[0].Free())
	b, err := m.NewBuffer(chunk)
	require.NoError(t, err)
	require.NoError(t, b.Free())
}

// TestFreeRecorded: a buffer that an open sequence has recorded cannot be
// freed (a replay would use freed memory); once the sequence is closed it
// can.
func TestFreeRecorded(t *testing.T) {
	m := testgpu.Open(t)
	b, err := m.NewBuffer(256)
	require.NoError(t, err)
	s, err := m.NewSequence(gpu.SequenceOptions{})
	require.NoError(t, err)
	s.Fill(b, 0)
	require.NoError(t, s.Submit())
	require.ErrorContains(t, b.Free(), "still recorded in 1 open sequence")
	require.NoError(t, s.Submit(), "the sequence still works")
	s.Close()
	require.NoError(t, b.Free())
	require.NoError(t, b.Free(), "twice is harmless")
}

func TestDeviceLostInjection(t *testing.T) {
	t.Setenv("VKNN_FAULT", "device-lost:2")
	m := testgpu.Open(t)
	s, err := m.NewSequence(gpu.SequenceOptions{})
	require.NoError(t, err)
	require.NoError(t, s.Submit())
	require.NoError(t, s.Submit())
	err = s.Submit()
	var ve *gpu.Error
	require.ErrorAs(t, err, &ve)
	require.True(t, ve.DeviceLost())
	require.Contains(t, err.Error(), "VK_ERROR_DEVICE_LOST")
	t.Setenv("VKNN_FAULT", "bogus")
	_, err = gpu.Open(0, gpu.Options{})
	require.ErrorContains(t, err, "VKNN_FAULT")
}
