package nn

import (
	"fmt"
	"strings"
	"text/tabwriter"
)

// Summary describes the model as torchinfo and Keras do: one line an
// operation with its module's name, kind, output shape (one sample),
// parameters and forward FLOPs, then the totals. Operations that the GPU
// runs inside a batch norm's kernels are marked with *.
func (m *Model) Summary() string {
	fused := map[*node]bool{}
	for _, s := range m.g.plan() {
		for _, c := range m.g.nodes {
			if c != s.n && (c.out == s.out || (s.res >= 0 && c.op.kind() == "Add" && (c.in[0] == s.n.out || c.in[1] == s.n.out))) {
				fused[c] = true
			}
		}
	}
	var sb strings.Builder
	w := tabwriter.NewWriter(&sb, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "layer\tkind\toutput\tparams\tMFLOPs")
	fmt.Fprintf(w, "input\t\t%v\t\t\n", m.Input)
	for _, n := range m.g.nodes {
		count := 0
		for _, p := range n.op.params() {
			count += p.Len
		}
		kind := n.op.kind()
		if fused[n] {
			kind += "*"
		}
		fmt.Fprintf(w, "%s\t%s\t%v\t%s\t%s\n", n.name, kind, m.g.values[n.out].shape, thousands(count),
			mflops(n.op.flops(m.g.shapes(n.in))))
	}
	w.Flush()
	fmt.Fprintf(&sb, "%s: %s parameters (%.2fM), %s buffer floats; forward %.1f MFLOPs per sample (2 per multiply-add of convolutions and linear layers), a training step about 3x that\n",
		m.Name, thousands(m.Count()), float64(m.Count())/1e6, thousands(m.bufferCount()), m.FLOPs()/1e6)
	if len(fused) > 0 {
		sb.WriteString("* run inside the batch norm before it on the GPU\n")
	}
	return sb.String()
}

func (m *Model) bufferCount() int {
	n := 0
	for _, p := range m.Buffers {
		n += p.Len
	}
	return n
}

func mflops(f float64) string {
	if f == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", f/1e6)
}

// thousands writes n with commas: 269,722.
func thousands(n int) string {
	s := fmt.Sprint(n)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}
