package gpu

import (
	"errors"
	"runtime"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

// Timing is the device time of one recorded command: from the end of the
// command before it to its own end, so the timings of a sequence add up to
// its whole run.
type Timing struct {
	Section string // the Section in force when it was recorded
	Kernel  string // kernel name, "fill" or "copy"
	Ns      float64
}

// timestamp records a timestamp query, if enabled, labelled for Timings.
// The first one (empty label) marks the start.
func (s *Sequence) timestamp(section, kernel string) {
	if !s.timestamps || s.err != nil {
		return
	}
	if s.nQueries == len(s.queries)*queriesPerPool {
		info := vk.QueryPoolCreateInfo{
			SType:      vk.StructureTypeQueryPoolCreateInfo,
			QueryType:  vk.QueryTypeTimestamp,
			QueryCount: queriesPerPool,
		}
		var q vk.QueryPool
		defer runtime.KeepAlive(&info) // keeps the binding's C copy alive (direct.go)
		if err := check(vk.CreateQueryPool(s.m.device, &info, nil, &q), "vkCreateQueryPool"); err != nil {
			s.fail(err)
			return
		}
		s.queries = append(s.queries, q)
		vk.CmdResetQueryPool(s.cmd, q, 0, queriesPerPool)
	}
	pool := s.queries[s.nQueries/queriesPerPool]
	stage := vk.PipelineStageBottomOfPipeBit
	if s.nQueries == 0 {
		stage = vk.PipelineStageTopOfPipeBit
	}
	vk.CmdWriteTimestamp(s.cmd, stage, pool, uint32(s.nQueries%queriesPerPool))
	if s.nQueries > 0 {
		s.labels = append(s.labels, Timing{Section: section, Kernel: kernel})
	}
	s.nQueries++
}

// Timings returns the device time of each command of the last completed
// submission, in recording order; nil when timestamps are off or
// unsupported.
func (s *Sequence) Timings() ([]Timing, error) {
	if !s.timestamps {
		return nil, nil
	}
	if s.runs == 0 {
		return nil, errors.New("gpu: timings asked for before the sequence ran")
	}
	if s.nQueries < 2 {
		return nil, nil
	}
	if err := s.Wait(); err != nil {
		return nil, err
	}
	ticks := make([]uint64, s.nQueries)
	for p, q := range s.queries {
		first := p * queriesPerPool
		n := min(queriesPerPool, s.nQueries-first)
		flags := vk.QueryResultFlags(vk.QueryResult64Bit | vk.QueryResultWaitBit)
		if err := check(vk.GetQueryPoolResults(s.m.device, q, 0, uint32(n), uint(8*n),
			unsafe.Pointer(&ticks[first]), 8, flags), "vkGetQueryPoolResults"); err != nil {
			return nil, err
		}
	}
	ns := tickDurations(ticks, s.m.tsBits, float64(s.m.info.TimestampPeriodNs))
	out := append([]Timing(nil), s.labels...)
	for i := range out {
		out[i].Ns = ns[i]
	}
	return out, nil
}

// tickDurations turns consecutive timestamps into the nanoseconds between
// them: only the low validBits bits of a timestamp count (a counter of 36
// bits wraps every 95 minutes at Intel's 83 ns a tick), and a tick lasts
// periodNs.
func tickDurations(ticks []uint64, validBits uint32, periodNs float64) []float64 {
	mask := ^uint64(0)
	if validBits < 64 {
		mask = 1<<validBits - 1
	}
	out := make([]float64, max(len(ticks)-1, 0))
	for i := range out {
		out[i] = float64((ticks[i+1]-ticks[i])&mask) * periodNs
	}
	return out
}
