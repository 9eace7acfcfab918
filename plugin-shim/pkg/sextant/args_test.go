package sextant

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	configv1 "k8s.io/kube-scheduler/config/v1"

	sextantv1 "sextant.io/plugin-shim/gen/sextant/v1"
)

func TestDecodeArgs(t *testing.T) {
	defaultBinding := &metav1.Duration{Duration: 600 * time.Second}
	tests := []struct {
		name         string
		obj          runtime.Object
		want         *Args
		wantStrategy *sextantv1.ScoringStrategy
		wantErr      string
	}{
		{
			name: "nil args take every default",
			obj:  nil,
			want: &Args{EngineAddress: DefaultEngineAddress, Timeout: &metav1.Duration{Duration: 2 * time.Second}, BindingTimeout: defaultBinding},
		},
		{
			name: "empty args take every default",
			obj:  &runtime.Unknown{Raw: []byte(`{}`)},
			want: &Args{EngineAddress: DefaultEngineAddress, Timeout: &metav1.Duration{Duration: 2 * time.Second}, BindingTimeout: defaultBinding},
		},
		{
			name: "everything set",
			obj: &runtime.Unknown{ContentType: runtime.ContentTypeJSON, Raw: []byte(`{
				"engineAddress": "localhost:7070", "timeout": "750ms", "bindingTimeout": "2m",
				"scoringStrategy": {"type": "RequestedToCapacityRatio",
					"resources": [{"name": "cpu", "weight": 3}, {"name": "nvidia.com/gpu", "weight": 5}],
					"requestedToCapacityRatio": {"shape": [{"utilization": 0, "score": 0}, {"utilization": 100, "score": 10}]}}}`)},
			want: &Args{EngineAddress: "localhost:7070", Timeout: &metav1.Duration{Duration: 750 * time.Millisecond},
				BindingTimeout: &metav1.Duration{Duration: 2 * time.Minute},
				ScoringStrategy: &configv1.ScoringStrategy{
					Type:      configv1.RequestedToCapacityRatio,
					Resources: []configv1.ResourceSpec{{Name: "cpu", Weight: 3}, {Name: "nvidia.com/gpu", Weight: 5}},
					RequestedToCapacityRatio: &configv1.RequestedToCapacityRatioParam{Shape: []configv1.UtilizationShapePoint{
						{Utilization: 0, Score: 0}, {Utilization: 100, Score: 10}}},
				}},
			wantStrategy: &sextantv1.ScoringStrategy{Type: "RequestedToCapacityRatio",
				Resources: []*sextantv1.ResourceSpec{{Name: "cpu", Weight: 3}, {Name: "nvidia.com/gpu", Weight: 5}},
				Shape:     []*sextantv1.UtilizationShapePoint{{Utilization: 0, Score: 0}, {Utilization: 100, Score: 10}}},
		},
		{
			name: "yaml content type",
			obj:  &runtime.Unknown{ContentType: runtime.ContentTypeYAML, Raw: []byte("engineAddress: unix:///run/sextant.sock\ntimeout: 1s\n")},
			want: &Args{EngineAddress: "unix:///run/sextant.sock", Timeout: &metav1.Duration{Duration: time.Second}, BindingTimeout: defaultBinding},
		},
		{
			name: "strategy defaults as upstream's: resources and zero weights",
			obj:  &runtime.Unknown{Raw: []byte(`{"scoringStrategy": {"type": "MostAllocated"}}`)},
			want: &Args{EngineAddress: DefaultEngineAddress, Timeout: &metav1.Duration{Duration: 2 * time.Second}, BindingTimeout: defaultBinding,
				ScoringStrategy: &configv1.ScoringStrategy{Type: configv1.MostAllocated,
					Resources: []configv1.ResourceSpec{{Name: "cpu", Weight: 1}, {Name: "memory", Weight: 1}}}},
			wantStrategy: &sextantv1.ScoringStrategy{Type: "MostAllocated",
				Resources: []*sextantv1.ResourceSpec{{Name: "cpu", Weight: 1}, {Name: "memory", Weight: 1}}},
		},
		{
			name: "empty type is LeastAllocated, weight 0 is 1",
			obj:  &runtime.Unknown{Raw: []byte(`{"scoringStrategy": {"resources": [{"name": "cpu"}]}}`)},
			want: &Args{EngineAddress: DefaultEngineAddress, Timeout: &metav1.Duration{Duration: 2 * time.Second}, BindingTimeout: defaultBinding,
				ScoringStrategy: &configv1.ScoringStrategy{Type: configv1.LeastAllocated,
					Resources: []configv1.ResourceSpec{{Name: "cpu", Weight: 1}}}},
			wantStrategy: &sextantv1.ScoringStrategy{Type: "LeastAllocated", Resources: []*sextantv1.ResourceSpec{{Name: "cpu", Weight: 1}}},
		},
		{name: "unknown strategy type", obj: &runtime.Unknown{Raw: []byte(`{"scoringStrategy": {"type": "Random"}}`)}, wantErr: `Unsupported value: "Random"`},
		{name: "weight above 100", obj: &runtime.Unknown{Raw: []byte(`{"scoringStrategy": {"resources": [{"name": "cpu", "weight": 101}]}}`)}, wantErr: "resource weight of cpu not in valid range"},
		{name: "negative weight", obj: &runtime.Unknown{Raw: []byte(`{"scoringStrategy": {"resources": [{"name": "cpu", "weight": -1}]}}`)}, wantErr: "not in valid range"},
		{name: "resource without name", obj: &runtime.Unknown{Raw: []byte(`{"scoringStrategy": {"resources": [{"weight": 1}]}}`)}, wantErr: "scoringStrategy.resources[0].name: Required"},
		{name: "ratio without shape", obj: &runtime.Unknown{Raw: []byte(`{"scoringStrategy": {"type": "RequestedToCapacityRatio"}}`)}, wantErr: "requestedToCapacityRatio: Required"},
		{name: "shape not increasing", obj: &runtime.Unknown{Raw: []byte(`{"scoringStrategy": {"type": "RequestedToCapacityRatio", "requestedToCapacityRatio": {"shape": [{"utilization": 50, "score": 1}, {"utilization": 10, "score": 2}]}}}`)}, wantErr: "sorted in increasing order"},
		{name: "shape score above 10", obj: &runtime.Unknown{Raw: []byte(`{"scoringStrategy": {"type": "RequestedToCapacityRatio", "requestedToCapacityRatio": {"shape": [{"utilization": 50, "score": 11}]}}}`)}, wantErr: "not in valid range [0, 10]"},
		{name: "shape with another type", obj: &runtime.Unknown{Raw: []byte(`{"scoringStrategy": {"type": "LeastAllocated", "requestedToCapacityRatio": {"shape": [{"utilization": 50, "score": 1}]}}}`)}, wantErr: "must be nil when type is not RequestedToCapacityRatio"},
		{name: "zero timeout", obj: &runtime.Unknown{Raw: []byte(`{"timeout": "0s"}`)}, wantErr: "timeout: Invalid value"},
		{name: "negative timeout", obj: &runtime.Unknown{Raw: []byte(`{"timeout": "-1s"}`)}, wantErr: "must be positive"},
		{name: "zero binding timeout", obj: &runtime.Unknown{Raw: []byte(`{"bindingTimeout": "0s"}`)}, wantErr: "bindingTimeout: Invalid value"},
		{name: "malformed timeout", obj: &runtime.Unknown{Raw: []byte(`{"timeout": "soon"}`)}, wantErr: "decoding args"},
		{name: "unix address without a path", obj: &runtime.Unknown{Raw: []byte(`{"engineAddress": "unix://"}`)}, wantErr: "engineAddress"},
		{name: "unix address with a host", obj: &runtime.Unknown{Raw: []byte(`{"engineAddress": "unix://tmp/e.sock"}`)}, wantErr: "unix:///absolute/path"},
		{name: "address with spaces", obj: &runtime.Unknown{Raw: []byte(`{"engineAddress": "local host:1"}`)}, wantErr: "whitespace"},
		{name: "misspelt field", obj: &runtime.Unknown{Raw: []byte(`{"engineAdress": "x:1"}`)}, wantErr: `unknown field "engineAdress"`},
		{name: "not an Unknown", obj: &metav1.Status{}, wantErr: "want args of type runtime.Unknown"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeArgs(tc.obj)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("DecodeArgs error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("args (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantStrategy, got.scoringStrategyProto(), protocmp.Transform()); diff != "" {
				t.Errorf("strategy sent to the engine (-want +got):\n%s", diff)
			}
		})
	}
}
