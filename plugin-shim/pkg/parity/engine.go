package parity

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	v1 "k8s.io/api/core/v1"
	resourceapi "k8s.io/api/resource/v1"

	sextantv1 "sextant.io/plugin-shim/gen/sextant/v1"
	"sextant.io/plugin-shim/pkg/engineclient"
)

// Engine is the engine side of a comparison: Load replaces the engine's whole state with a
// snapshot, Evaluate runs its cycle for one pod against it (with the default spread selector the
// shim would send, nil for none), Bind places a pending pod on a node.
type Engine interface {
	Load(ctx context.Context, s *Snapshot) error
	Evaluate(ctx context.Context, pod *v1.Pod, defaultSpreadSelector *sextantv1.LabelSelector) (*sextantv1.EvaluateResponse, error)
	// Preempt runs the engine's DefaultPreemption for pod (list_candidates: every candidate node
	// with its victims, and the final ties).
	Preempt(ctx context.Context, pod *v1.Pod, defaultSpreadSelector *sextantv1.LabelSelector) (*sextantv1.PreemptResponse, error)
	// Bind places pod, pending as it was evaluated, on node: with assume false as the informer
	// reports a binding (a Sync delta upserting the pod with spec.nodeName set), with assume true
	// as Reserve does (Assume of the pending pod on node).
	Bind(ctx context.Context, pod *v1.Pod, node string, assume bool) error
	// Remove takes a bound pod away: with forget true as Unreserve does (Forget; the pod is
	// pending again), else as the informer reports a deletion (a Sync delta deleting it).
	Remove(ctx context.Context, pod *v1.Pod, forget bool) error
	// Assume is Reserve for a pod with resource claims: the engine allocates the claims that are
	// not allocated yet on node and assumes the pod there; it returns those allocations
	// (AssumeResponse.allocations). A pod assumed so and then bound with Bind(assume false) is
	// confirmed by the binding.
	Assume(ctx context.Context, pod *v1.Pod, node string) ([]*sextantv1.ClaimAllocation, error)
	// UpsertClaim sends a claim as the informer reports it (a Sync delta): PreBind's write of an
	// allocation and reservation, or a reservation removed.
	UpsertClaim(ctx context.Context, claim *resourceapi.ResourceClaim) error
}

// GRPCEngine talks to a `sextant serve` over the sextant.v1 API: one Sync stream, a full snapshot
// per Load (built with engineclient's converters, in the order the production shim sends it),
// and Evaluate calls that name the snapshot's sequence and epoch.
type GRPCEngine struct {
	conn     *grpc.ClientConn
	rpc      sextantv1.EngineClient
	stream   sextantv1.Engine_SyncClient
	cancel   context.CancelFunc
	sequence uint64
	epoch    string
	assumed  [][2]string // namespace, name of the pods Bind assumed since the last Load
	Timeout  time.Duration
}

// DialEngine connects to address (unix:///path or host:port).
func DialEngine(address string) (*GRPCEngine, error) {
	conn, err := grpc.NewClient(address,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(1<<30), grpc.MaxCallSendMsgSize(1<<30)))
	if err != nil {
		return nil, err
	}
	return &GRPCEngine{conn: conn, rpc: sextantv1.NewEngineClient(conn), Timeout: 60 * time.Second}, nil
}

// Close ends the stream and the connection.
func (e *GRPCEngine) Close() error {
	if e.stream != nil {
		_ = e.stream.CloseSend()
		e.cancel()
	}
	return e.conn.Close()
}

// SnapshotChanges converts a snapshot as the shim's full snapshot does: nodes, non-terminal pods,
// priority classes, PDBs, namespaces, then the DRA objects (device classes, resource slices,
// resource claims); nodes, pods, namespaces and DRA objects sorted by key. Services and
// controllers are not sent: the engine gets their effect as each pod's default spread selector.
func SnapshotChanges(s *Snapshot) ([]*sextantv1.Change, error) {
	var out []*sextantv1.Change
	nodes := append([]*v1.Node(nil), s.Nodes...)
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].Name < nodes[j].Name })
	for _, n := range nodes {
		out = append(out, &sextantv1.Change{Change: &sextantv1.Change_UpsertNode{UpsertNode: engineclient.NodeToProto(n)}})
	}
	pods := append([]*v1.Pod(nil), s.Pods...)
	sort.Slice(pods, func(i, j int) bool { return podKey(pods[i]) < podKey(pods[j]) })
	for _, p := range pods {
		if !engineclient.IsTerminal(p) {
			out = append(out, &sextantv1.Change{Change: &sextantv1.Change_UpsertPod{UpsertPod: engineclient.PodToProto(p)}})
		}
	}
	for _, pc := range s.PriorityClasses {
		out = append(out, &sextantv1.Change{Change: &sextantv1.Change_UpsertPriorityClass{UpsertPriorityClass: engineclient.PriorityClassToProto(pc)}})
	}
	for _, pdb := range s.PDBs {
		c, err := engineclient.PodDisruptionBudgetToProto(pdb)
		if err != nil {
			return nil, err
		}
		out = append(out, &sextantv1.Change{Change: &sextantv1.Change_UpsertPodDisruptionBudget{UpsertPodDisruptionBudget: c}})
	}
	namespaces := append([]*v1.Namespace(nil), s.Namespaces...)
	sort.Slice(namespaces, func(i, j int) bool { return namespaces[i].Name < namespaces[j].Name })
	for _, ns := range namespaces {
		out = append(out, &sextantv1.Change{Change: &sextantv1.Change_UpsertNamespace{UpsertNamespace: engineclient.NamespaceToProto(ns)}})
	}
	classes := append([]*resourceapi.DeviceClass(nil), s.DeviceClasses...)
	sort.Slice(classes, func(i, j int) bool { return classes[i].Name < classes[j].Name })
	for _, c := range classes {
		out = append(out, &sextantv1.Change{Change: &sextantv1.Change_UpsertDeviceClass{UpsertDeviceClass: engineclient.DeviceClassToProto(c)}})
	}
	rss := append([]*resourceapi.ResourceSlice(nil), s.ResourceSlices...)
	sort.Slice(rss, func(i, j int) bool { return rss[i].Name < rss[j].Name })
	for _, rs := range rss {
		out = append(out, &sextantv1.Change{Change: &sextantv1.Change_UpsertResourceSlice{UpsertResourceSlice: engineclient.ResourceSliceToProto(rs)}})
	}
	claims := append([]*resourceapi.ResourceClaim(nil), s.ResourceClaims...)
	sort.Slice(claims, func(i, j int) bool { return claimKey(claims[i]) < claimKey(claims[j]) })
	for _, c := range claims {
		out = append(out, claimChange(c))
	}
	return out, nil
}

func claimChange(c *resourceapi.ResourceClaim) *sextantv1.Change {
	return &sextantv1.Change{Change: &sextantv1.Change_UpsertResourceClaim{UpsertResourceClaim: engineclient.ResourceClaimToProto(c)}}
}

func claimKey(c *resourceapi.ResourceClaim) string { return c.Namespace + "/" + c.Name }

// Load implements Engine. The engine keeps assumed pods across a full snapshot (the shim's
// snapshot may not show their binding yet), so the pods the last comparison assumed are
// forgotten first.
func (e *GRPCEngine) Load(ctx context.Context, s *Snapshot) error {
	changes, err := SnapshotChanges(s)
	if err != nil {
		return err
	}
	for _, a := range e.assumed {
		fctx, cancel := context.WithTimeout(ctx, e.Timeout)
		_, err := e.rpc.Forget(fctx, &sextantv1.ForgetRequest{Namespace: a[0], Name: a[1], Epoch: e.epoch})
		cancel()
		if err != nil && status.Code(err) != codes.NotFound {
			return fmt.Errorf("forgetting %s/%s assumed for the previous snapshot: %w", a[0], a[1], err)
		}
	}
	e.assumed = nil
	if e.stream == nil {
		sctx, cancel := context.WithCancel(context.Background())
		stream, err := e.rpc.Sync(sctx)
		if err != nil {
			cancel()
			return fmt.Errorf("opening Sync: %w", err)
		}
		e.stream, e.cancel = stream, cancel
	}
	e.sequence++
	req := &sextantv1.SyncRequest{Message: &sextantv1.SyncRequest_Full{Full: &sextantv1.FullSnapshot{Sequence: e.sequence, Objects: changes}}}
	if err := e.stream.Send(req); err != nil {
		return fmt.Errorf("sending the snapshot: %w", err)
	}
	resp, err := e.stream.Recv()
	if err != nil {
		return fmt.Errorf("snapshot answer: %w", err)
	}
	if resp.ResyncRequired || resp.AppliedSequence != e.sequence {
		return fmt.Errorf("snapshot %d answered with applied %d, resync_required %v", e.sequence, resp.AppliedSequence, resp.ResyncRequired)
	}
	e.epoch = resp.Epoch
	return nil
}

// Evaluate implements Engine.
func (e *GRPCEngine) Evaluate(ctx context.Context, pod *v1.Pod, defaultSpreadSelector *sextantv1.LabelSelector) (*sextantv1.EvaluateResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, e.Timeout)
	defer cancel()
	return e.rpc.Evaluate(ctx, &sextantv1.EvaluateRequest{
		Pod: engineclient.PodToProto(pod), MinSequence: e.sequence, Epoch: e.epoch, DefaultSpreadSelector: defaultSpreadSelector,
	})
}

// Preempt implements Engine.
func (e *GRPCEngine) Preempt(ctx context.Context, pod *v1.Pod, defaultSpreadSelector *sextantv1.LabelSelector) (*sextantv1.PreemptResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, e.Timeout)
	defer cancel()
	return e.rpc.Preempt(ctx, &sextantv1.PreemptRequest{
		Pod: engineclient.PodToProto(pod), MinSequence: e.sequence, Epoch: e.epoch, DefaultSpreadSelector: defaultSpreadSelector,
		ListCandidates: true,
	})
}

// Bind implements Engine.
func (e *GRPCEngine) Bind(ctx context.Context, pod *v1.Pod, node string, assume bool) error {
	if e.stream == nil {
		return errors.New("Bind before Load")
	}
	if assume {
		ctx, cancel := context.WithTimeout(ctx, e.Timeout)
		defer cancel()
		resp, err := e.rpc.Assume(ctx, &sextantv1.AssumeRequest{Pod: engineclient.PodToProto(pod), Node: node, Epoch: e.epoch})
		if err != nil {
			return fmt.Errorf("Assume: %w", err)
		}
		e.assumed = append(e.assumed, [2]string{pod.Namespace, pod.Name})
		if resp.Epoch != e.epoch {
			return fmt.Errorf("Assume answered from epoch %q, loaded %q", resp.Epoch, e.epoch)
		}
		return nil
	}
	bound := pod.DeepCopy()
	bound.Spec.NodeName = node
	return e.delta(&sextantv1.Change{Change: &sextantv1.Change_UpsertPod{UpsertPod: engineclient.PodToProto(bound)}})
}

// Assume implements Engine.
func (e *GRPCEngine) Assume(ctx context.Context, pod *v1.Pod, node string) ([]*sextantv1.ClaimAllocation, error) {
	if e.stream == nil {
		return nil, errors.New("Assume before Load")
	}
	ctx, cancel := context.WithTimeout(ctx, e.Timeout)
	defer cancel()
	resp, err := e.rpc.Assume(ctx, &sextantv1.AssumeRequest{Pod: engineclient.PodToProto(pod), Node: node, Epoch: e.epoch})
	if err != nil {
		return nil, err
	}
	e.assumed = append(e.assumed, [2]string{pod.Namespace, pod.Name})
	if resp.Epoch != e.epoch {
		return nil, fmt.Errorf("Assume answered from epoch %q, loaded %q", resp.Epoch, e.epoch)
	}
	return resp.Allocations, nil
}

// UpsertClaim implements Engine.
func (e *GRPCEngine) UpsertClaim(_ context.Context, claim *resourceapi.ResourceClaim) error {
	if e.stream == nil {
		return errors.New("UpsertClaim before Load")
	}
	return e.delta(claimChange(claim))
}

// Remove implements Engine.
func (e *GRPCEngine) Remove(ctx context.Context, pod *v1.Pod, forget bool) error {
	if e.stream == nil {
		return errors.New("Remove before Load")
	}
	if forget {
		ctx, cancel := context.WithTimeout(ctx, e.Timeout)
		defer cancel()
		if _, err := e.rpc.Forget(ctx, &sextantv1.ForgetRequest{Namespace: pod.Namespace, Name: pod.Name, Epoch: e.epoch}); err != nil {
			return fmt.Errorf("Forget: %w", err)
		}
		e.assumed = slices.DeleteFunc(e.assumed, func(a [2]string) bool { return a == [2]string{pod.Namespace, pod.Name} })
		return nil
	}
	return e.delta(&sextantv1.Change{Change: &sextantv1.Change_Delete{Delete: &sextantv1.ObjectRef{
		Kind: sextantv1.ObjectRef_POD, Namespace: pod.Namespace, Name: pod.Name}}})
}

// delta sends one change as the next Sync delta and checks that it was applied.
func (e *GRPCEngine) delta(change *sextantv1.Change) error {
	e.sequence++
	req := &sextantv1.SyncRequest{Message: &sextantv1.SyncRequest_Delta{Delta: &sextantv1.Delta{
		Sequence: e.sequence, Changes: []*sextantv1.Change{change},
	}}}
	if err := e.stream.Send(req); err != nil {
		return fmt.Errorf("sending the delta: %w", err)
	}
	resp, err := e.stream.Recv()
	if err != nil {
		return fmt.Errorf("delta answer: %w", err)
	}
	if resp.ResyncRequired || resp.AppliedSequence != e.sequence || resp.Epoch != e.epoch {
		return fmt.Errorf("delta %d answered with applied %d, resync_required %v, epoch %q (loaded %q)",
			e.sequence, resp.AppliedSequence, resp.ResyncRequired, resp.Epoch, e.epoch)
	}
	return nil
}

// EngineProcess is an engine started by StartEngine.
type EngineProcess struct {
	Address string // unix://<tmp>/e.sock
	Pid     int
	// Stop interrupts the engine, waits for it and removes its directory.
	Stop func() error
}

// StartEngine runs `binary serve --listen unix://<tmp>/e.sock` and waits for its socket. The
// engine's output goes to engine.log in the temporary directory, quoted when it fails to start.
func StartEngine(binary string) (*EngineProcess, error) {
	address, pid, stop, err := startEngine(binary)
	if err != nil {
		return nil, err
	}
	return &EngineProcess{Address: address, Pid: pid, Stop: stop}, nil
}

// parityEngineArgs are the engine flags of every comparison with upstream: Sextant's GPU
// placement is not an upstream plugin (docs/parity.md), so it is off.
var parityEngineArgs = []string{"--gpu-policy", "off"}

func startEngine(binary string) (address string, pid int, stop func() error, err error) {
	dir, err := os.MkdirTemp("", "sextant-parity-")
	if err != nil {
		return "", 0, nil, err
	}
	socket := filepath.Join(dir, "e.sock")
	logFile, err := os.Create(filepath.Join(dir, "engine.log"))
	if err != nil {
		return "", 0, nil, err
	}
	cmd := exec.Command(binary, append([]string{"serve", "--listen", "unix://" + socket}, parityEngineArgs...)...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		os.RemoveAll(dir)
		return "", 0, nil, fmt.Errorf("starting %s: %w", binary, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop = func() error {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		logFile.Close()
		return os.RemoveAll(dir)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(socket); err == nil {
			return "unix://" + socket, cmd.Process.Pid, stop, nil
		}
		select {
		case err := <-exited:
			logFile.Close()
			out, _ := os.ReadFile(filepath.Join(dir, "engine.log"))
			os.RemoveAll(dir)
			return "", 0, nil, fmt.Errorf("%s serve exited (%v): %s", binary, err, strings.TrimSpace(string(out)))
		default:
		}
		if time.Now().After(deadline) {
			stop()
			return "", 0, nil, errors.New("the engine did not create its socket within 20s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// engineVerdict turns an EvaluateResponse into a PodVerdict.
func engineVerdict(resp *sextantv1.EvaluateResponse) *PodVerdict {
	out := &PodVerdict{Nodes: map[string]*NodeVerdict{}}
	if resp.PrefilterPlugin != "" || resp.PrefilterMessage != "" {
		out.PreFilterPlugin, out.PreFilterMessage = resp.PrefilterPlugin, resp.PrefilterMessage
		return out
	}
	for _, n := range resp.Nodes {
		nv := &NodeVerdict{Plugin: n.Plugin}
		switch n.Code {
		case sextantv1.FilterCode_SUCCESS:
			nv.Code = "Success"
			nv.Score, nv.Scored = n.Score, true
			nv.Scores = map[string]int64{}
			for i, s := range n.PluginScores {
				if i < len(resp.ScorePlugins) {
					// The engine reports normalised scores; weigh them as upstream's Scores are.
					nv.Scores[resp.ScorePlugins[i]] = s * pluginWeight(resp.ScorePlugins[i])
				}
			}
		case sextantv1.FilterCode_UNSCHEDULABLE:
			nv.Code = "Unschedulable"
		case sextantv1.FilterCode_UNSCHEDULABLE_AND_UNRESOLVABLE:
			nv.Code = "UnschedulableAndUnresolvable"
		default:
			nv.Code = n.Code.String()
		}
		for _, id := range n.ReasonIds {
			if int(id) < len(resp.Reasons) {
				nv.Reasons = append(nv.Reasons, resp.Reasons[id])
			} else {
				nv.Reasons = append(nv.Reasons, fmt.Sprintf("<reason id %d out of range>", id))
			}
		}
		out.Nodes[n.Node] = nv
	}
	return out
}

func podKey(p *v1.Pod) string { return p.Namespace + "/" + p.Name }

func pluginWeight(name string) int64 {
	for _, p := range ProfilePlugins {
		if p.Name == name && p.Weight > 0 {
			return int64(p.Weight)
		}
	}
	return 1
}
