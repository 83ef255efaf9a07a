package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/vknn/vknn/nn"
	"github.com/vknn/vknn/zoo"
)

// options are the command's flags.
type options struct {
	gpu          int
	listGPUs     bool
	cpu          bool
	model        string
	depth        int
	plain        bool
	shortcut     string
	iters        int
	epochs       int
	batch        int
	lr           float64
	milestones   []int       // resolved against the run's length
	msSpec       []milestone // as given
	warmup       string
	warmLR       float64
	warmBelow    float64
	logEvery     int
	momentum     float64
	wd           float64
	val          int
	data         string
	out          string
	seed         uint64
	resume       bool
	overwrite    bool
	allowChanges bool
	quiet        bool
	profile      bool
	validate     bool
	plot         string
	onNaN        string
	optName      string
	nesterov     bool
	noDecayNB    bool
	labels       string
	imageSize    int
	set          map[string]bool // flags given on the command line
}

func parse(args []string, stderr io.Writer) (*options, error) {
	o := &options{set: map[string]bool{}}
	fs, milestones := newFlags(o)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: train [flags]\n       train experiment NAME [flags] (train experiment --help)\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return o, o.finish(fs, *milestones)
}

// newFlags defines train's flags on o; milestones receives --milestones.
func newFlags(o *options) (fs *flag.FlagSet, milestones *string) {
	fs = flag.NewFlagSet("train", flag.ContinueOnError)
	fs.IntVar(&o.gpu, "gpu", 0, "Vulkan device index (see --list-gpus)")
	fs.BoolVar(&o.listGPUs, "list-gpus", false, "list the Vulkan devices and exit")
	fs.BoolVar(&o.cpu, "cpu", false, "train on the CPU reference path (slow; for checking)")
	fs.StringVar(&o.model, "model", "", "the network: "+strings.Join(zoo.Names, ", ")+" (default: resnet of --depth, or plain with --plain)")
	fs.IntVar(&o.depth, "depth", 20, "ResNet or plain-net depth 6n+2: 20, 32, 44, 56, 110, ...")
	fs.BoolVar(&o.plain, "plain", false, "the plain net of --depth (no shortcuts)")
	fs.StringVar(&o.shortcut, "shortcut", "A", "ResNet shortcut option: A (zero padding) or B (projection)")
	fs.IntVar(&o.iters, "iters", 64000, "training iterations (ignored when --epochs is set)")
	fs.IntVar(&o.epochs, "epochs", 0, "training epochs instead of --iters")
	fs.IntVar(&o.batch, "batch", 128, "batch size")
	fs.Float64Var(&o.lr, "lr", 0, "initial learning rate (default: the model's: 0.1 for ResNets and plain nets, 0.01 for VGG and AlexNet)")
	milestones = fs.String("milestones", "32000,48000", "steps at which the learning rate is divided by 10, or percentages of the run (50%,75% is the paper's 32k,48k of 64k)")
	fs.StringVar(&o.warmup, "warmup", "auto", "the paper's warm-up: --warmup-lr until the training error is below --warmup-below, then --lr: on, off, or auto (on for ResNets of depth 110 and more)")
	fs.Float64Var(&o.warmLR, "warmup-lr", 0.01, "the warm-up's learning rate")
	fs.Float64Var(&o.warmBelow, "warmup-below", 0.8, "the warm-up ends when the training error over --log-every steps falls below this")
	fs.IntVar(&o.logEvery, "log-every", 20, "record the training loss and error averaged over every this many steps (curve.jsonl)")
	fs.StringVar(&o.optName, "optimizer", "sgd", "sgd (PyTorch's, with --momentum) or adamw (betas 0.9, 0.999, eps 1e-8)")
	fs.Float64Var(&o.momentum, "momentum", 0.9, "SGD momentum")
	fs.BoolVar(&o.nesterov, "nesterov", false, "SGD with Nesterov momentum")
	fs.Float64Var(&o.wd, "wd", 1e-4, "weight decay (SGD: L2, AdamW: decoupled)")
	fs.BoolVar(&o.noDecayNB, "no-decay-norm-bias", false, "no weight decay on biases and batch-norm parameters")
	fs.IntVar(&o.val, "val", 5000, "images held out of the training set for validation (the last ones)")
	fs.StringVar(&o.data, "data", "", "CIFAR-10 or CIFAR-100 (.tar.gz, folder or .bin), or a folder of class folders of PNG/JPEG images (folder, .tar or .tar.gz) (default: CIFAR-10 from $VKNN_DATA or ~/.cache/vknn, downloaded if absent)")
	fs.StringVar(&o.labels, "labels", "fine", "CIFAR-100's labels: fine (100 classes) or coarse (20)")
	fs.IntVar(&o.imageSize, "image-size", 0, "bring an image folder's images to this size (0: their most common size)")
	fs.StringVar(&o.out, "out", "", "output folder for checkpoints, metrics and plot (default runs/<model>)")
	fs.Uint64Var(&o.seed, "seed", 1, "seed for initialisation, data order and augmentation")
	fs.BoolVar(&o.resume, "resume", false, "continue the run saved in --out")
	fs.BoolVar(&o.overwrite, "overwrite", false, "start anew in an --out that holds a run, deleting its checkpoints and metrics")
	fs.BoolVar(&o.allowChanges, "allow-changes", false, "with --resume: continue with other hyperparameters or data than the run's (it will no longer match an uninterrupted run)")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress bar or summary; one line per epoch")
	fs.BoolVar(&o.profile, "profile", false, "print where a training step's device time goes")
	fs.BoolVar(&o.validate, "validate", false, "enable the Vulkan validation layer")
	fs.StringVar(&o.plot, "plot", "", "redraw DIR/errors.png from DIR/metrics.jsonl and exit")
	fs.StringVar(&o.onNaN, "on-nan", "stop", "when a loss turns NaN or Inf: stop, or rollback to the last checkpoint with the lr divided by 10 (at most 3 times)")
	return fs, milestones
}

// finish checks the parsed flags and fills in what follows from them.
func (o *options) finish(fs *flag.FlagSet, milestones string) error {
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var err error
	if o.msSpec, err = parseMilestones(milestones); err != nil {
		return fmt.Errorf("--milestones: %w", err)
	}
	fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true })
	if o.model == "" {
		o.model = fmt.Sprintf("resnet%d", o.depth)
		if o.plain {
			o.model = fmt.Sprintf("plain%d", o.depth)
		}
	} else if o.set["depth"] || o.set["plain"] {
		return fmt.Errorf("--model %s with --depth or --plain: give one or the other (e.g. --model plain56)", o.model)
	}
	if !o.set["lr"] {
		o.lr = zoo.LR(o.model)
	}
	if o.warmup == "auto" {
		o.warmup = "off"
		var d int
		if _, err := fmt.Sscanf(o.model, "resnet%d", &d); err == nil && d >= 110 {
			o.warmup = "on"
		}
	}
	return o.check()
}

// finite tells whether x is a number other than ±Inf.
func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func (o *options) check() error {
	switch {
	case o.depth < 8 || (o.depth-2)%6 != 0:
		return fmt.Errorf("--depth %d: must be 6n+2 with n >= 1 (20, 32, 44, 56, 110)", o.depth)
	case o.shortcut != "A" && o.shortcut != "B":
		return fmt.Errorf("--shortcut %q: must be A or B", o.shortcut)
	case o.set["shortcut"] && !strings.HasPrefix(o.model, "resnet"):
		return fmt.Errorf("--shortcut %s: %s has no shortcuts (only the ResNets do)", o.shortcut, o.model)
	case o.batch < 1:
		return fmt.Errorf("--batch %d: must be at least 1", o.batch)
	case !(o.lr > 0) || !finite(o.lr):
		return fmt.Errorf("--lr %g: must be a positive number", o.lr)
	case !(o.momentum >= 0 && o.momentum < 1):
		return fmt.Errorf("--momentum %g: must be in [0, 1)", o.momentum)
	case !(o.wd >= 0 && o.wd < 1):
		return fmt.Errorf("--wd %g: must be in [0, 1)", o.wd)
	case o.iters < 1 && o.epochs < 1:
		return fmt.Errorf("--iters %d: must be at least 1", o.iters)
	case o.epochs < 0:
		return fmt.Errorf("--epochs %d: must not be negative", o.epochs)
	case o.val < 0:
		return fmt.Errorf("--val %d: must not be negative", o.val)
	case o.optName != "sgd" && o.optName != "adamw":
		return fmt.Errorf("--optimizer %q: must be sgd or adamw", o.optName)
	case o.nesterov && (o.optName != "sgd" || o.momentum == 0):
		return fmt.Errorf("--nesterov needs --optimizer sgd and a --momentum above 0")
	case o.onNaN != "stop" && o.onNaN != "rollback":
		return fmt.Errorf("--on-nan %q: must be stop or rollback", o.onNaN)
	case o.gpu < 0:
		return fmt.Errorf("--gpu %d: must not be negative", o.gpu)
	case o.labels != "fine" && o.labels != "coarse":
		return fmt.Errorf("--labels %q: must be fine or coarse", o.labels)
	case o.imageSize < 0:
		return fmt.Errorf("--image-size %d: must not be negative", o.imageSize)
	case o.warmup != "on" && o.warmup != "off":
		return fmt.Errorf("--warmup %q: must be on, off or auto", o.warmup)
	case !(o.warmLR > 0) || !finite(o.warmLR):
		return fmt.Errorf("--warmup-lr %g: must be a positive number", o.warmLR)
	case !(o.warmBelow > 0 && o.warmBelow <= 1):
		return fmt.Errorf("--warmup-below %g: must be in (0, 1]", o.warmBelow)
	case o.logEvery < 1:
		return fmt.Errorf("--log-every %d: must be at least 1", o.logEvery)
	case o.resume && o.overwrite:
		return fmt.Errorf("--resume and --overwrite: continue the run, or delete it, not both")
	}
	return nil
}

// steps is the run's length in steps for per steps an epoch.
func (o *options) steps(per int) (int, error) {
	if o.epochs == 0 {
		return o.iters, nil
	}
	if o.epochs > math.MaxInt32/per {
		return 0, fmt.Errorf("--epochs %d: too many (%d steps each); at most %d", o.epochs, per, math.MaxInt32/per)
	}
	return o.epochs * per, nil
}

// optimizer is the optimizer the flags describe.
func (o *options) optimizer() nn.Optimizer {
	if o.optName == "adamw" {
		a := nn.DefaultAdamW
		a.WD, a.NoDecayNormBias = o.wd, o.noDecayNB
		return a
	}
	return nn.SGD{Momentum: o.momentum, Nesterov: o.nesterov, WD: o.wd, NoDecayNormBias: o.noDecayNB}
}
