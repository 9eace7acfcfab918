// Package enginetest provides FakeEngine, an in-process sextant.v1 Engine server for tests of
// the shim: the engine client's Sync loop, and the plugin inside a real scheduler.
package enginetest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/proto"

	sextantv1 "sextant.io/plugin-shim/gen/sextant/v1"
)

// FakeEngine is an in-process sextant.v1 Engine with the consistency rules of the real one: one
// SyncResponse per request, deltas applied only in sequence (else resync_required), an epoch that
// changes on restart. It records every Sync message and keeps the objects it was sent, so tests
// can check that nothing is lost.
type FakeEngine struct {
	sextantv1.UnimplementedEngineServer

	mu       sync.Mutex
	Epoch    string
	restarts int
	Applied  uint64
	Synced   bool
	Objects  map[string]*sextantv1.Change // upserts by kind/namespace/name
	Received []*sextantv1.SyncRequest
	Streams  int
	Assumed  map[string]string // pod key -> node
	Assumes  []*sextantv1.AssumeRequest
	Forgets  []*sextantv1.ForgetRequest
	Evals    []*sextantv1.EvaluateRequest
	Preempts []*sextantv1.PreemptRequest

	// Knobs.
	ResyncNext   int  // answer the next N deltas with resync_required
	DropNext     bool // end the stream on the next message, applying nothing
	SilentNext   bool // swallow the next message without an answer
	EvaluateFunc func(*sextantv1.EvaluateRequest) (*sextantv1.EvaluateResponse, error)
	PreemptFunc  func(*sextantv1.PreemptRequest) (*sextantv1.PreemptResponse, error)
	// AllocateFunc gives Assume's allocations (the pod's claims allocated on the node); nil: none.
	// It runs with the fake's lock held, so it may read Objects directly.
	AllocateFunc func(*sextantv1.AssumeRequest) []*sextantv1.ClaimAllocation
	FailForgets  int           // answer the next N Forgets with UNAVAILABLE
	kill         chan struct{} // closed to end every open stream

	srv *grpc.Server
}

// New returns a fake engine at epoch "epoch-0" with no state; Serve or ServeUnix starts it.
func New() *FakeEngine {
	return &FakeEngine{Epoch: "epoch-0", Objects: map[string]*sextantv1.Change{}, Assumed: map[string]string{}, kill: make(chan struct{})}
}

// Serve starts the fake on an in-memory listener and returns dial options for it; it stops
// when the test ends.
func (f *FakeEngine) Serve(t testing.TB) []grpc.DialOption {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	f.start(t, lis)
	return []grpc.DialOption{grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
		return lis.DialContext(ctx)
	})}
}

// ServeUnix starts the fake on a unix socket at path and returns its gRPC address.
func (f *FakeEngine) ServeUnix(t testing.TB, path string) string {
	t.Helper()
	lis, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	f.start(t, lis)
	return "unix://" + path
}

func (f *FakeEngine) start(t testing.TB, lis net.Listener) {
	srv := grpc.NewServer()
	f.mu.Lock()
	f.srv = srv
	f.mu.Unlock()
	sextantv1.RegisterEngineServer(srv, f)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
}

// Stop ends the server: open streams break and new connections fail.
func (f *FakeEngine) Stop() {
	f.mu.Lock()
	srv := f.srv
	f.mu.Unlock()
	srv.Stop()
}

// ObjectKey names the object a change is about: KIND/namespace/name.
func ObjectKey(c *sextantv1.Change) string {
	switch x := c.Change.(type) {
	case *sextantv1.Change_UpsertNode:
		return "NODE//" + x.UpsertNode.Name
	case *sextantv1.Change_UpsertPod:
		return "POD/" + x.UpsertPod.Namespace + "/" + x.UpsertPod.Name
	case *sextantv1.Change_UpsertPriorityClass:
		return "PRIORITY_CLASS//" + x.UpsertPriorityClass.Name
	case *sextantv1.Change_UpsertPodDisruptionBudget:
		return "POD_DISRUPTION_BUDGET/" + x.UpsertPodDisruptionBudget.Namespace + "/" + x.UpsertPodDisruptionBudget.Name
	case *sextantv1.Change_UpsertNamespace:
		return "NAMESPACE//" + x.UpsertNamespace.Name
	case *sextantv1.Change_UpsertDeviceClass:
		return "DEVICE_CLASS//" + x.UpsertDeviceClass.Name
	case *sextantv1.Change_UpsertResourceSlice:
		return "RESOURCE_SLICE//" + x.UpsertResourceSlice.Name
	case *sextantv1.Change_UpsertResourceClaim:
		return "RESOURCE_CLAIM/" + x.UpsertResourceClaim.Namespace + "/" + x.UpsertResourceClaim.Name
	case *sextantv1.Change_Delete:
		return x.Delete.Kind.String() + "/" + x.Delete.Namespace + "/" + x.Delete.Name
	}
	return "?"
}

func (f *FakeEngine) Sync(stream sextantv1.Engine_SyncServer) error {
	f.mu.Lock()
	f.Streams++
	kill := f.kill
	f.mu.Unlock()
	requests := make(chan *sextantv1.SyncRequest)
	errs := make(chan error, 1)
	go func() {
		for {
			req, err := stream.Recv()
			if err != nil {
				errs <- err
				return
			}
			select {
			case requests <- req:
			case <-stream.Context().Done():
				return
			}
		}
	}()
	for {
		var req *sextantv1.SyncRequest
		select {
		case <-kill:
			return status.Error(codes.Unavailable, "engine stopped")
		case err := <-errs:
			return err
		case req = <-requests:
		}
		f.mu.Lock()
		f.Received = append(f.Received, proto.Clone(req).(*sextantv1.SyncRequest))
		if f.DropNext {
			f.DropNext = false
			f.mu.Unlock()
			return status.Error(codes.Unavailable, "stream dropped by the test")
		}
		if f.SilentNext {
			f.SilentNext = false
			f.mu.Unlock()
			continue
		}
		resp := f.applyLocked(req)
		f.mu.Unlock()
		if err := stream.Send(resp); err != nil {
			return err
		}
	}
}

func (f *FakeEngine) applyLocked(req *sextantv1.SyncRequest) *sextantv1.SyncResponse {
	switch m := req.Message.(type) {
	case *sextantv1.SyncRequest_Full:
		f.Objects = map[string]*sextantv1.Change{}
		for _, c := range m.Full.Objects {
			f.Objects[ObjectKey(c)] = c
		}
		f.Applied, f.Synced = m.Full.Sequence, true
	case *sextantv1.SyncRequest_Delta:
		if f.ResyncNext > 0 || !f.Synced || m.Delta.Sequence != f.Applied+1 {
			if f.ResyncNext > 0 {
				f.ResyncNext--
			}
			return &sextantv1.SyncResponse{Epoch: f.Epoch, AppliedSequence: f.Applied, ResyncRequired: true}
		}
		for _, c := range m.Delta.Changes {
			if d, ok := c.Change.(*sextantv1.Change_Delete); ok {
				key := ObjectKey(c)
				delete(f.Objects, key)
				if d.Delete.Kind == sextantv1.ObjectRef_POD {
					delete(f.Assumed, d.Delete.Namespace+"/"+d.Delete.Name)
				}
				continue
			}
			f.Objects[ObjectKey(c)] = c
		}
		f.Applied = m.Delta.Sequence
	}
	return &sextantv1.SyncResponse{Epoch: f.Epoch, AppliedSequence: f.Applied}
}

func (f *FakeEngine) Evaluate(ctx context.Context, req *sextantv1.EvaluateRequest) (*sextantv1.EvaluateResponse, error) {
	// Like the real engine, wait (within the caller's deadline) for the delta the shim has sent
	// but this engine has not applied yet, instead of answering "stale" at once.
	for {
		f.mu.Lock()
		caughtUp := f.Applied >= req.MinSequence
		f.mu.Unlock()
		if caughtUp || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Millisecond):
		}
	}
	f.mu.Lock()
	f.Evals = append(f.Evals, req)
	eval := f.EvaluateFunc
	resp := &sextantv1.EvaluateResponse{Epoch: f.Epoch, AppliedSequence: f.Applied}
	if req.Epoch != "" && req.Epoch != f.Epoch {
		f.mu.Unlock()
		return nil, status.Errorf(codes.FailedPrecondition, "engine epoch is %s, not %s", f.Epoch, req.Epoch)
	}
	if f.Applied < req.MinSequence {
		f.mu.Unlock()
		return nil, status.Errorf(codes.Unavailable, "engine is stale: applied sequence %d < %d", f.Applied, req.MinSequence)
	}
	f.mu.Unlock()
	if eval != nil {
		out, err := eval(req)
		if err != nil || out == nil || !req.ChosenOnly || out.ChosenNode == "" {
			return out, err
		}
		// chosen_only, as the real engine answers it: the chosen node's result alone.
		for _, n := range out.Nodes {
			if n.Node == out.ChosenNode {
				compact := proto.Clone(out).(*sextantv1.EvaluateResponse)
				compact.Nodes = []*sextantv1.NodeResult{n}
				return compact, nil
			}
		}
		return out, nil
	}
	return resp, nil
}

// Preempt answers as Evaluate does (waiting for min_sequence, checking the epoch); without
// PreemptFunc preemption cannot help.
func (f *FakeEngine) Preempt(ctx context.Context, req *sextantv1.PreemptRequest) (*sextantv1.PreemptResponse, error) {
	for {
		f.mu.Lock()
		caughtUp := f.Applied >= req.MinSequence
		f.mu.Unlock()
		if caughtUp || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Millisecond):
		}
	}
	f.mu.Lock()
	f.Preempts = append(f.Preempts, req)
	preempt := f.PreemptFunc
	resp := &sextantv1.PreemptResponse{Epoch: f.Epoch, AppliedSequence: f.Applied, Message: "preemption: not helpful (fake engine)"}
	if req.Epoch != "" && req.Epoch != f.Epoch {
		f.mu.Unlock()
		return nil, status.Errorf(codes.FailedPrecondition, "engine epoch is %s, not %s", f.Epoch, req.Epoch)
	}
	if f.Applied < req.MinSequence {
		f.mu.Unlock()
		return nil, status.Errorf(codes.Unavailable, "engine is stale: applied sequence %d < %d", f.Applied, req.MinSequence)
	}
	f.mu.Unlock()
	if preempt != nil {
		return preempt(req)
	}
	return resp, nil
}

func (f *FakeEngine) Assume(_ context.Context, req *sextantv1.AssumeRequest) (*sextantv1.AssumeResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if req.Epoch != "" && req.Epoch != f.Epoch {
		return nil, status.Errorf(codes.FailedPrecondition, "engine epoch is %s, not %s", f.Epoch, req.Epoch)
	}
	f.Assumes = append(f.Assumes, req)
	f.Assumed[req.Pod.Namespace+"/"+req.Pod.Name] = req.Node
	resp := &sextantv1.AssumeResponse{Epoch: f.Epoch, AppliedSequence: f.Applied}
	if f.AllocateFunc != nil {
		resp.Allocations = f.AllocateFunc(req)
	}
	return resp, nil
}

func (f *FakeEngine) Forget(_ context.Context, req *sextantv1.ForgetRequest) (*sextantv1.ForgetResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Forgets = append(f.Forgets, req)
	if f.FailForgets > 0 {
		f.FailForgets--
		return nil, status.Error(codes.Unavailable, "forget failed by the test")
	}
	key := req.Namespace + "/" + req.Name
	if _, ok := f.Assumed[key]; !ok {
		return nil, status.Errorf(codes.NotFound, "pod %s is not assumed", key)
	}
	delete(f.Assumed, key)
	return &sextantv1.ForgetResponse{Epoch: f.Epoch, AppliedSequence: f.Applied}, nil
}

// Restart simulates a new engine process: new epoch, empty state, open streams ended.
func (f *FakeEngine) Restart() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.restarts++
	f.Epoch = fmt.Sprintf("epoch-%d", f.restarts)
	f.Objects, f.Assumed = map[string]*sextantv1.Change{}, map[string]string{}
	f.Applied, f.Synced = 0, false
	close(f.kill)
	f.kill = make(chan struct{})
}

// With runs fn under the fake's lock, to read or set its fields.
func (f *FakeEngine) With(fn func(f *FakeEngine)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// WaitFor polls cond (under the fake's lock) until it holds or the test times out.
func (f *FakeEngine) WaitFor(t testing.TB, what string, cond func(f *FakeEngine) bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		f.mu.Lock()
		ok := cond(f)
		f.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			f.mu.Lock()
			defer f.mu.Unlock()
			t.Fatalf("timed out waiting for %s; engine received %d messages on %d streams, applied %d",
				what, len(f.Received), f.Streams, f.Applied)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// StartRealEngine starts `$SEXTANT_ENGINE_BINARY serve --listen unix://<tempdir>/e.sock`, with
// `args` after those (e.g. "--gpu-policy", "off" for comparisons with upstream), and returns its
// address once the socket exists; the engine is interrupted when the test ends
// (register cleanups that close clients after calling this, so they run first). It skips the
// test when the variable is unset or the binary has no `serve --listen`.
func StartRealEngine(t testing.TB, args ...string) string {
	t.Helper()
	binary := os.Getenv("SEXTANT_ENGINE_BINARY")
	if binary == "" {
		t.Skip("SEXTANT_ENGINE_BINARY is not set; set it to a built `sextant` binary to run this test against the real engine")
	}
	help, err := exec.Command(binary, "serve", "--help").CombinedOutput()
	if err != nil || !strings.Contains(string(help), "--listen") {
		t.Skipf("%s has no `serve --listen` subcommand (err %v): %s", binary, err, strings.TrimSpace(string(help)))
	}
	dir := t.TempDir()
	socket := filepath.Join(dir, "e.sock")
	logPath := filepath.Join(dir, "engine.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, append([]string{"serve", "--listen", "unix://" + socket}, args...)...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
		_ = logFile.Close()
		if t.Failed() {
			out, _ := os.ReadFile(logPath)
			t.Logf("engine log:\n%s", out)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(socket); err == nil {
			return "unix://" + socket
		}
		if time.Now().After(deadline) {
			t.Fatalf("the engine did not create %s", socket)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
