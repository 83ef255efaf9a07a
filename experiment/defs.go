// Package experiment runs named sets of training runs and compares them:
// the CIFAR-10 experiments of He et al. 2016 (section 4.2) and VGG
// against ResNet. Each run is a train invocation in its own folder; an
// experiment resumes where it stopped, spreads its runs over devices, and
// draws the paper's plots and a markdown table from the folders, which may
// have been gathered from several machines.
package experiment

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Run is one training run of an experiment.
type Run struct {
	Name  string // its folder, e.g. "plain56"
	Model string // the zoo model it trains
	Group string // the panel of the plot it is drawn in
	Depth int    // its layers: the row of the table, the colour in its panel
}

// Def is a named experiment.
type Def struct {
	Name string
	Doc  string
	// Depths are the ResNet/plain depths run when --depths is not given
	// (nil: the experiment has fixed runs).
	Depths []int
	runs   func(depths []int) []Run
	// Paper is the paper's test error (%) by run name, where it gives one.
	Paper map[string]float64
	// PaperParams is the paper's parameter count by run name.
	PaperParams map[string]string
}

// Runs are the experiment's runs at these depths (nil: the defaults).
func (d Def) Runs(depths []int) []Run {
	if depths == nil {
		depths = d.Depths
	}
	return d.runs(depths)
}

// Table 6 of the paper: CIFAR-10 test error of the ResNets (110: best of
// 5 runs, mean 6.61 +- 0.16).
var table6 = map[string]float64{"resnet20": 8.75, "resnet32": 7.51, "resnet44": 7.17, "resnet56": 6.97, "resnet110": 6.43, "resnet1202": 7.93}
var table6Params = map[string]string{"resnet20": "0.27M", "resnet32": "0.46M", "resnet44": "0.66M", "resnet56": "0.85M", "resnet110": "1.7M", "resnet1202": "19.4M"}

func resnets(prefix, group string, depths []int) []Run {
	var out []Run
	for _, d := range depths {
		name := fmt.Sprintf("%s%d", prefix, d)
		out = append(out, Run{Name: name, Model: name, Group: group, Depth: d})
	}
	return out
}

// Names are the experiments Named knows.
var Names = []string{"fig6", "table6", "vgg-vs-resnet"}

// Named returns an experiment by name.
func Named(name string) (Def, error) {
	switch name {
	case "fig6":
		return Def{Name: name, Doc: "plain nets and ResNets of 20-56 layers, and ResNet-110 (the paper's Fig. 6)",
			Depths: []int{20, 32, 44, 56, 110}, Paper: table6, PaperParams: table6Params,
			runs: func(depths []int) []Run {
				// The paper has no plain-110.
				plain := slices.DeleteFunc(slices.Clone(depths), func(d int) bool { return d >= 110 })
				return append(resnets("plain", "plain", plain), resnets("resnet", "ResNet", depths)...)
			}}, nil
	case "table6":
		return Def{Name: name, Doc: "ResNet-20/32/44/56/110 error table (the paper's Table 6)",
			Depths: []int{20, 32, 44, 56, 110}, Paper: table6, PaperParams: table6Params,
			runs: func(depths []int) []Run { return resnets("resnet", "ResNet", depths) }}, nil
	case "vgg-vs-resnet":
		return Def{Name: name, Doc: "VGG-11/16 with batch norm against ResNet-20/56",
			Paper: table6, PaperParams: table6Params,
			runs: func([]int) []Run {
				return []Run{{"vgg11", "vgg11", "VGG", 11}, {"vgg16", "vgg16", "VGG", 16},
					{"resnet20", "resnet20", "ResNet", 20}, {"resnet56", "resnet56", "ResNet", 56}}
			}}, nil
	}
	return Def{}, fmt.Errorf("no experiment %q: the experiments are %s", name, strings.Join(Names, ", "))
}

// Select keeps the runs named in only (all when only is empty); a name
// that is not a run is an error.
func Select(runs []Run, only []string) ([]Run, error) {
	if len(only) == 0 {
		return runs, nil
	}
	var out []Run
	for k, name := range only {
		if slices.Contains(only[:k], name) {
			return nil, fmt.Errorf("--only names %s twice", name)
		}
		i := slices.IndexFunc(runs, func(r Run) bool { return r.Name == name })
		if i < 0 {
			names := make([]string, len(runs))
			for j, r := range runs {
				names[j] = r.Name
			}
			sort.Strings(names)
			return nil, fmt.Errorf("--only %s: not a run of this experiment (%s)", name, strings.Join(names, ", "))
		}
		out = append(out, runs[i])
	}
	return out, nil
}
