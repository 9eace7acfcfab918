package sextant

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	configv1 "k8s.io/kube-scheduler/config/v1"
	"k8s.io/kubernetes/pkg/scheduler/apis/config"
	"k8s.io/kubernetes/pkg/scheduler/apis/config/validation"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"
	sigsjson "sigs.k8s.io/json"

	sextantv1 "sextant.io/plugin-shim/gen/sextant/v1"
)

// Defaults for Args.
const (
	DefaultEngineAddress = "unix:///tmp/sextant-engine.sock"
	DefaultTimeout       = 2 * time.Second
)

// Args are the plugin's arguments: pluginConfig[name=Sextant].args in a KubeSchedulerConfiguration.
type Args struct {
	// EngineAddress is the engine's gRPC target: unix:///path/to.sock or host:port.
	// Default unix:///tmp/sextant-engine.sock.
	EngineAddress string `json:"engineAddress,omitempty"`
	// Timeout bounds every call to the engine (a full snapshot gets ten times it). Default 2s.
	Timeout *metav1.Duration `json:"timeout,omitempty"`
	// ScoringStrategy is NodeResourcesFit's scoring strategy, spelled as upstream's
	// NodeResourcesFitArgs.scoringStrategy and sent to the engine with every full snapshot. An
	// empty type is LeastAllocated; empty resources are cpu and memory with weight 1; a weight of 0
	// is 1. Absent: the engine keeps the strategy it was started with.
	ScoringStrategy *configv1.ScoringStrategy `json:"scoringStrategy,omitempty"`
	// BindingTimeout bounds how long PreBind waits for allocated devices with binding conditions
	// to become ready, as upstream's DynamicResourcesArgs.bindingTimeout. Default 600s.
	BindingTimeout *metav1.Duration `json:"bindingTimeout,omitempty"`
}

// DecodeArgs decodes the plugin's args (nil means all defaults), applies the defaults and
// validates them. Unknown fields are an error, so that a misspelt field is not silently ignored.
func DecodeArgs(obj runtime.Object) (*Args, error) {
	args := &Args{}
	if err := frameworkruntime.DecodeInto(obj, args); err != nil {
		return nil, fmt.Errorf("decoding args: %w", err)
	}
	if u, ok := obj.(*runtime.Unknown); ok && u.Raw != nil && (u.ContentType == "" || u.ContentType == runtime.ContentTypeJSON) {
		strictErrs, err := sigsjson.UnmarshalStrict(u.Raw, &Args{})
		if err == nil && len(strictErrs) > 0 {
			return nil, fmt.Errorf("decoding args: %w", errors.Join(strictErrs...))
		}
	}
	setDefaults(args)
	if err := validateArgs(args); err != nil {
		return nil, err
	}
	return args, nil
}

func setDefaults(args *Args) {
	if args.EngineAddress == "" {
		args.EngineAddress = DefaultEngineAddress
	}
	if args.Timeout == nil {
		args.Timeout = &metav1.Duration{Duration: DefaultTimeout}
	}
	if args.BindingTimeout == nil {
		args.BindingTimeout = &metav1.Duration{Duration: DefaultBindingTimeout}
	}
	if s := args.ScoringStrategy; s != nil {
		if s.Type == "" {
			s.Type = configv1.LeastAllocated
		}
		if len(s.Resources) == 0 {
			s.Resources = []configv1.ResourceSpec{{Name: "cpu", Weight: 1}, {Name: "memory", Weight: 1}}
		}
		for i := range s.Resources {
			if s.Resources[i].Weight == 0 {
				s.Resources[i].Weight = 1
			}
		}
	}
}

func validateArgs(args *Args) error {
	var errs field.ErrorList
	if err := validateAddress(args.EngineAddress); err != nil {
		errs = append(errs, field.Invalid(field.NewPath("engineAddress"), args.EngineAddress, err.Error()))
	}
	if args.Timeout.Duration <= 0 {
		errs = append(errs, field.Invalid(field.NewPath("timeout"), args.Timeout.Duration.String(), "must be positive"))
	}
	if args.BindingTimeout.Duration <= 0 {
		errs = append(errs, field.Invalid(field.NewPath("bindingTimeout"), args.BindingTimeout.Duration.String(), "must be positive"))
	}
	if s := args.ScoringStrategy; s != nil {
		for i, r := range s.Resources {
			if r.Name == "" {
				errs = append(errs, field.Required(field.NewPath("scoringStrategy", "resources").Index(i).Child("name"), ""))
			}
		}
		// Upstream's own validation of NodeResourcesFit's strategy: types, weights, shape.
		fitArgs := &config.NodeResourcesFitArgs{ScoringStrategy: toInternal(s)}
		if err := validation.ValidateNodeResourcesFitArgs(nil, fitArgs); err != nil {
			errs = append(errs, field.Invalid(field.NewPath("scoringStrategy"), "", err.Error()))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid %s args: %w", Name, errs.ToAggregate())
	}
	return nil
}

func validateAddress(address string) error {
	if strings.ContainsAny(address, " \t\n") {
		return errors.New("must not contain whitespace")
	}
	if rest, ok := strings.CutPrefix(address, "unix:"); ok {
		u, err := url.Parse(address)
		if err != nil {
			return err
		}
		if strings.HasPrefix(rest, "//") && (u.Host != "" || u.Path == "") {
			return errors.New("a unix socket address is unix:///absolute/path or unix:relative/path")
		}
		if rest == "" {
			return errors.New("a unix socket address needs a path")
		}
	}
	return nil
}

func toInternal(s *configv1.ScoringStrategy) *config.ScoringStrategy {
	out := &config.ScoringStrategy{Type: config.ScoringStrategyType(s.Type)}
	for _, r := range s.Resources {
		out.Resources = append(out.Resources, config.ResourceSpec{Name: r.Name, Weight: r.Weight})
	}
	if s.RequestedToCapacityRatio != nil {
		out.RequestedToCapacityRatio = &config.RequestedToCapacityRatioParam{}
		for _, p := range s.RequestedToCapacityRatio.Shape {
			out.RequestedToCapacityRatio.Shape = append(out.RequestedToCapacityRatio.Shape,
				config.UtilizationShapePoint{Utilization: p.Utilization, Score: p.Score})
		}
	}
	return out
}

// scoringStrategyProto is the strategy as the engine receives it; nil when not configured.
func (a *Args) scoringStrategyProto() *sextantv1.ScoringStrategy {
	s := a.ScoringStrategy
	if s == nil {
		return nil
	}
	out := &sextantv1.ScoringStrategy{Type: string(s.Type)}
	for _, r := range s.Resources {
		out.Resources = append(out.Resources, &sextantv1.ResourceSpec{Name: r.Name, Weight: r.Weight})
	}
	if s.RequestedToCapacityRatio != nil {
		for _, p := range s.RequestedToCapacityRatio.Shape {
			out.Shape = append(out.Shape, &sextantv1.UtilizationShapePoint{Utilization: p.Utilization, Score: p.Score})
		}
	}
	return out
}
