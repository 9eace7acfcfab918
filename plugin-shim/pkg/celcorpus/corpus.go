// Package celcorpus evaluates Sextant's CEL selector corpus (test/data/cel/corpus.json) with the
// upstream DRA CEL compiler, called the way the upstream structured allocator calls it, and
// compares the outcomes with the expectations checked into the corpus. The C++ engine's test
// reads the same file, so both sides are held to one set of answers.
package celcorpus

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	resourceapi "k8s.io/api/resource/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	dracel "k8s.io/dynamic-resource-allocation/cel"
)

// Outcome values stored in the corpus.
const (
	Match        = "match"
	NoMatch      = "no_match"
	RuntimeError = "runtime_error"
	CompileError = "compile_error"
)

// Features are the DRA CEL features of kube-scheduler v1.37 with default feature gates
// (DRAConsumableCapacity beta and on, DRAListTypeAttributes alpha and off). The scheduler compiles
// selectors as stored expressions, which see every declaration regardless of these gates.
var Features = dracel.Features{EnableConsumableCapacity: true}

// Device is one corpus device: the fields a selector can see, in the resource.k8s.io/v1 shape.
type Device struct {
	Name                     string                                                    `json:"name"`
	Driver                   string                                                    `json:"driver"`
	AllowMultipleAllocations *bool                                                     `json:"allowMultipleAllocations,omitempty"`
	Attributes               map[resourceapi.QualifiedName]resourceapi.DeviceAttribute `json:"attributes,omitempty"`
	Capacity                 map[resourceapi.QualifiedName]Capacity                    `json:"capacity,omitempty"`
}

// Capacity is a device capacity as written in a ResourceSlice. The text is kept as written:
// upstream's quantity.asInteger() depends on it ("1000m" is not an integer, "1" is), and
// re-encoding a resource.Quantity would canonicalise it.
type Capacity struct {
	Value string `json:"value"`
}

// Expression is one corpus selector with its expected outcome.
type Expression struct {
	// Expression is the CEL source.
	Expression string `json:"expression"`
	// OutsideSubset, when set, says why Sextant rejects an expression upstream accepts.
	OutsideSubset string `json:"outside_subset,omitempty"`
	// Compile is "ok" or "compile_error" (upstream's compiler).
	Compile string `json:"compile"`
	// CompileMessage is upstream's compile error, for the reader.
	CompileMessage string `json:"compile_message,omitempty"`
	// Results maps a device name to match, no_match or runtime_error; empty on a compile error.
	Results map[string]string `json:"results,omitempty"`
	// Errors maps a device name to upstream's runtime error, for the reader.
	Errors map[string]string `json:"errors,omitempty"`
}

// Corpus is the whole file.
type Corpus struct {
	Comment     []string     `json:"comment,omitempty"`
	Devices     []Device     `json:"devices"`
	Expressions []Expression `json:"expressions"`
}

// Load reads a corpus file.
func Load(path string) (*Corpus, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c Corpus
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	seen := map[string]bool{}
	for _, d := range c.Devices {
		if d.Name == "" || seen[d.Name] {
			return nil, fmt.Errorf("%s: device name %q empty or repeated", path, d.Name)
		}
		seen[d.Name] = true
		if _, err := d.upstreamCapacity(); err != nil {
			return nil, fmt.Errorf("%s: device %s: %w", path, d.Name, err)
		}
	}
	exprs := map[string]bool{}
	for _, e := range c.Expressions {
		if exprs[e.Expression] {
			return nil, fmt.Errorf("%s: expression %q repeated", path, e.Expression)
		}
		exprs[e.Expression] = true
	}
	return &c, nil
}

// Marshal renders a corpus the way it is checked in.
func Marshal(c *Corpus) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(c); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// upstreamCapacity parses the capacities the way a ResourceSlice decoder does.
func (d *Device) upstreamCapacity() (map[resourceapi.QualifiedName]resourceapi.DeviceCapacity, error) {
	out := make(map[resourceapi.QualifiedName]resourceapi.DeviceCapacity, len(d.Capacity))
	for name, c := range d.Capacity {
		q, err := resource.ParseQuantity(c.Value)
		if err != nil {
			return nil, fmt.Errorf("capacity %s: %w", name, err)
		}
		out[name] = resourceapi.DeviceCapacity{Value: q}
	}
	return out, nil
}

// Recompute returns a copy of c whose outcomes come from the upstream compiler and evaluator.
func Recompute(ctx context.Context, c *Corpus) *Corpus {
	compiler := dracel.GetCompiler(Features)
	out := *c
	out.Expressions = make([]Expression, len(c.Expressions))
	for i, e := range c.Expressions {
		r := Expression{Expression: e.Expression, OutsideSubset: e.OutsideSubset}
		// As the allocator's cache compiles selectors: stored-expression environment, no cost
		// estimation.
		compiled := compiler.CompileCELExpression(e.Expression, dracel.Options{DisableCostEstimation: true})
		if compiled.Error != nil {
			r.Compile = CompileError
			r.CompileMessage = compiled.Error.Error()
			out.Expressions[i] = r
			continue
		}
		r.Compile = "ok"
		r.Results = map[string]string{}
		for _, d := range c.Devices {
			capacity, err := d.upstreamCapacity()
			if err != nil {
				panic(err) // Load validated every quantity
			}
			matches, _, err := compiled.DeviceMatches(ctx, dracel.Device{
				Driver:                   d.Driver,
				AllowMultipleAllocations: d.AllowMultipleAllocations,
				Attributes:               d.Attributes,
				Capacity:                 capacity,
			})
			switch {
			case err != nil:
				r.Results[d.Name] = RuntimeError
				if r.Errors == nil {
					r.Errors = map[string]string{}
				}
				r.Errors[d.Name] = dracel.EnhanceRuntimeError(err).Error()
			case matches:
				r.Results[d.Name] = Match
			default:
				r.Results[d.Name] = NoMatch
			}
		}
		out.Expressions[i] = r
	}
	return &out
}

// Diff lists every expression whose checked-in outcome differs from the recomputed one.
func Diff(checked, recomputed *Corpus) []string {
	var diffs []string
	for i, want := range recomputed.Expressions {
		got := checked.Expressions[i]
		if got.Compile != want.Compile {
			diffs = append(diffs, fmt.Sprintf("%q: corpus says compile %q, upstream %q %s", want.Expression, got.Compile, want.Compile, want.CompileMessage))
			continue
		}
		if want.Compile == CompileError && want.OutsideSubset != "" {
			diffs = append(diffs, fmt.Sprintf("%q: marked outside_subset but upstream rejects it", want.Expression))
		}
		for _, d := range recomputed.Devices {
			if got.Results[d.Name] != want.Results[d.Name] {
				diffs = append(diffs, fmt.Sprintf("%q on %s: corpus says %q, upstream %q %s", want.Expression, d.Name, got.Results[d.Name], want.Results[d.Name], want.Errors[d.Name]))
			}
		}
		if len(got.Results) != len(want.Results) {
			diffs = append(diffs, fmt.Sprintf("%q: corpus has %d results, upstream %d", want.Expression, len(got.Results), len(want.Results)))
		}
	}
	return diffs
}

// Summary counts expressions and expression x device pairs.
func Summary(c *Corpus) string {
	pairs, compileErrors, outside := 0, 0, 0
	counts := map[string]int{}
	for _, e := range c.Expressions {
		if e.Compile == CompileError {
			compileErrors++
		}
		if e.OutsideSubset != "" {
			outside++
		}
		for _, r := range e.Results {
			counts[r]++
			pairs++
		}
	}
	var parts []string
	for _, k := range []string{Match, NoMatch, RuntimeError} {
		parts = append(parts, fmt.Sprintf("%s %d", k, counts[k]))
	}
	return fmt.Sprintf("%d devices, %d expressions (%d compile errors, %d outside the subset), %d evaluated pairs: %s",
		len(c.Devices), len(c.Expressions), compileErrors, outside, pairs, strings.Join(parts, ", "))
}
