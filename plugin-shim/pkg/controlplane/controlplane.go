// Package controlplane starts a real, local Kubernetes control plane for Sextant's end-to-end
// tests and its live demo: etcd and kube-apiserver (both built from the upstream Go modules this
// module pins; resource.k8s.io/v1 is served by default), the Sextant engine, and the
// sextant-scheduler binary running under the service account, RBAC rules and scheduler
// configuration of deploy/kubernetes. No container engine and no kubelet: nodes are Node
// objects, and a small loop stands in for the kubelet's one duty the scheduler depends on,
// confirming that a deleted pod is gone (see kubeletStandIn). Of kube-controller-manager only
// upstream's resourceclaim controller runs, in this process, for pods with ResourceClaimTemplates.
package controlplane

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/yaml"
)

// The namespace and service account deploy/kubernetes runs the scheduler as.
const (
	SchedulerNamespace      = "sextant-system"
	SchedulerServiceAccount = "sextant-scheduler"
	// SchedulerUser is the user name the API server sees for the scheduler.
	SchedulerUser = "system:serviceaccount:" + SchedulerNamespace + ":" + SchedulerServiceAccount
	// The engine address in deploy/kubernetes/configmap.yaml, replaced by the local socket.
	deployEngineAddress = "unix:///run/sextant/engine.sock"
)

// Binaries are the executables a control plane runs.
type Binaries struct {
	Etcd      string
	APIServer string
	Scheduler string
	Engine    string // the C++ engine, `sextant` (built by CMake, not here)
}

// Options configure Start.
type Options struct {
	// Dir holds certificates, etcd's data, configuration and every component's log. Required.
	Dir      string
	Binaries Binaries
	// RepoRoot is the repository root (deploy/kubernetes is read from it). Empty: found by
	// walking up from the working directory.
	RepoRoot string
	// SchedulerVerbosity is the scheduler's -v.
	SchedulerVerbosity int
	// Logf reports progress; nil is quiet.
	Logf func(format string, args ...any)
}

// ControlPlane is a running local control plane.
type ControlPlane struct {
	opts     Options
	pki      *pki
	repoRoot string

	etcd, apiServer, engine, scheduler *process

	apiPort, schedulerPort int
	etcdClientURL          string
	// EngineSocket is the unix socket the engine listens on.
	EngineSocket string
	// AdminConfig and Admin act as cluster admin (system:masters).
	AdminConfig *rest.Config
	Admin       kubernetes.Interface
	// SchedulerConfig authenticates as the scheduler's service account.
	SchedulerConfig *rest.Config

	schedulerKubeconfig, schedulerConfigFile string
	auditLog                                 string
	stopStandIn                              context.CancelFunc
}

// FindRepoRoot walks up from the working directory to the directory holding deploy/kubernetes.
func FindRepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "deploy", "kubernetes", "rbac.yaml")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("repository root (with deploy/kubernetes/rbac.yaml) not found above the working directory")
		}
		dir = parent
	}
}

// BuildBinaries builds etcd, kube-apiserver and sextant-scheduler from this Go module into
// binDir (Go's build cache makes a rebuild quick). Names set in bins are kept as they are.
func BuildBinaries(ctx context.Context, repoRoot, binDir string, bins Binaries) (Binaries, error) {
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return bins, err
	}
	build := func(target *string, name, pkg string) error {
		if *target != "" {
			return nil
		}
		out := filepath.Join(binDir, name)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
		cmd.Dir = filepath.Join(repoRoot, "plugin-shim")
		if output, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %w\n%s", pkg, err, output)
		}
		*target = out
		return nil
	}
	if err := build(&bins.Etcd, "etcd", "go.etcd.io/etcd/server/v3"); err != nil {
		return bins, err
	}
	if err := build(&bins.APIServer, "kube-apiserver", "k8s.io/kubernetes/cmd/kube-apiserver"); err != nil {
		return bins, err
	}
	if err := build(&bins.Scheduler, "sextant-scheduler", "./cmd/sextant-scheduler"); err != nil {
		return bins, err
	}
	return bins, nil
}

// BinariesFromEnv reads SEXTANT_ENGINE_BINARY, SEXTANT_ETCD_BINARY, SEXTANT_APISERVER_BINARY and
// SEXTANT_SCHEDULER_BINARY.
func BinariesFromEnv() Binaries {
	return Binaries{
		Engine:    os.Getenv("SEXTANT_ENGINE_BINARY"),
		Etcd:      os.Getenv("SEXTANT_ETCD_BINARY"),
		APIServer: os.Getenv("SEXTANT_APISERVER_BINARY"),
		Scheduler: os.Getenv("SEXTANT_SCHEDULER_BINARY"),
	}
}

// Start brings up etcd, the API server (RBAC on), the scheduler's namespace, service account and
// RBAC from deploy/kubernetes, the engine and the scheduler, and waits until each is ready.
// On error everything started so far is stopped.
func Start(ctx context.Context, opts Options) (cp *ControlPlane, err error) {
	if opts.Dir == "" {
		return nil, errors.New("controlplane: Options.Dir is required")
	}
	if opts.Binaries.Engine == "" || opts.Binaries.Etcd == "" || opts.Binaries.APIServer == "" ||
		opts.Binaries.Scheduler == "" {
		return nil, fmt.Errorf("controlplane: every binary is required, got %+v", opts.Binaries)
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, err
	}
	c := &ControlPlane{opts: opts, repoRoot: opts.RepoRoot}
	if c.repoRoot == "" {
		if c.repoRoot, err = FindRepoRoot(); err != nil {
			return nil, err
		}
	}
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()
	if c.pki, err = newPKI(opts.Dir); err != nil {
		return nil, fmt.Errorf("controlplane: certificates: %w", err)
	}
	if err := c.startEtcd(ctx); err != nil {
		return nil, err
	}
	if err := c.startAPIServer(ctx); err != nil {
		return nil, err
	}
	if err := c.applyDeploy(ctx); err != nil {
		return nil, err
	}
	standInCtx, cancel := context.WithCancel(context.Background())
	c.stopStandIn = cancel
	go c.kubeletStandIn(standInCtx)
	go c.resourceClaimController(standInCtx)

	c.EngineSocket = filepath.Join(opts.Dir, "engine.sock")
	c.engine = &process{
		name: "engine", path: opts.Binaries.Engine, logPath: filepath.Join(opts.Dir, "engine.log"),
		args: []string{"serve", "--listen", "unix://" + c.EngineSocket},
	}
	if err := c.StartEngine(ctx); err != nil {
		return nil, err
	}
	if err := c.writeSchedulerConfig(ctx); err != nil {
		return nil, err
	}
	if err := c.StartScheduler(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// Stop ends every component (scheduler first, etcd last).
func (c *ControlPlane) Stop() {
	if c.stopStandIn != nil {
		c.stopStandIn()
	}
	for _, p := range []*process{c.scheduler, c.engine, c.apiServer, c.etcd} {
		if p != nil {
			p.stop(syscall.SIGTERM, 10*time.Second)
		}
	}
}

// Dir is the control plane's directory (logs: etcd.log, kube-apiserver.log, engine.log,
// scheduler.log).
func (c *ControlPlane) Dir() string { return c.opts.Dir }

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitFor polls check until it succeeds, p exits, or timeout passes.
func waitFor(ctx context.Context, p *process, timeout time.Duration, what string, check func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		if last = check(ctx); last == nil {
			return nil
		}
		if p != nil {
			if exitErr := p.exited(); exitErr != nil {
				return fmt.Errorf("%s exited (%v) before %s; end of %s:\n%s", p.name, exitErr, what, p.logPath, p.logTail(3000))
			}
		}
		select {
		case <-ctx.Done():
			tail := ""
			if p != nil {
				tail = fmt.Sprintf("; end of %s:\n%s", p.logPath, p.logTail(3000))
			}
			return fmt.Errorf("timed out after %v waiting for %s: %v%s", timeout, what, last, tail)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (c *ControlPlane) startEtcd(ctx context.Context) error {
	clientPort, err := freePort()
	if err != nil {
		return err
	}
	peerPort, err := freePort()
	if err != nil {
		return err
	}
	client := fmt.Sprintf("http://127.0.0.1:%d", clientPort)
	peer := fmt.Sprintf("http://127.0.0.1:%d", peerPort)
	c.etcdClientURL = client
	c.etcd = &process{
		name: "etcd", path: c.opts.Binaries.Etcd, logPath: filepath.Join(c.opts.Dir, "etcd.log"),
		args: []string{
			"--name=sextant-local",
			"--data-dir=" + filepath.Join(c.opts.Dir, "etcd"),
			"--listen-client-urls=" + client, "--advertise-client-urls=" + client,
			"--listen-peer-urls=" + peer, "--initial-advertise-peer-urls=" + peer,
			"--initial-cluster=sextant-local=" + peer,
			// A throwaway cluster: durability is not wanted, speed is.
			"--unsafe-no-fsync",
			"--log-level=warn",
		},
	}
	c.opts.Logf("starting etcd on %s", client)
	if err := c.etcd.start(); err != nil {
		return err
	}
	httpClient := &http.Client{Timeout: 2 * time.Second}
	return waitFor(ctx, c.etcd, 30*time.Second, "etcd health", func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, client+"/health", nil)
		resp, err := httpClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"health":"true"`) {
			return fmt.Errorf("etcd /health: %s %s", resp.Status, body)
		}
		return nil
	})
}

func (c *ControlPlane) startAPIServer(ctx context.Context) error {
	var err error
	if c.apiPort, err = freePort(); err != nil {
		return err
	}
	// The audit log records every binding and its answer: the ground truth for "bound exactly
	// once" (Bindings), independent of the scheduler's own events, which it may drop on shutdown.
	c.auditLog = filepath.Join(c.opts.Dir, "audit.log")
	policy := filepath.Join(c.opts.Dir, "audit-policy.yaml")
	if err := os.WriteFile(policy, []byte(auditPolicy), 0o600); err != nil {
		return err
	}
	c.apiServer = &process{
		name: "kube-apiserver", path: c.opts.Binaries.APIServer,
		logPath: filepath.Join(c.opts.Dir, "kube-apiserver.log"),
		args: []string{
			"--etcd-servers=" + c.etcdClientURL,
			"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
			"--secure-port=" + strconv.Itoa(c.apiPort),
			"--tls-cert-file=" + c.pki.serverCert, "--tls-private-key-file=" + c.pki.serverKey,
			"--client-ca-file=" + c.pki.caFile,
			"--authorization-mode=RBAC",
			"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
			"--service-account-key-file=" + c.pki.saPublic,
			"--service-account-signing-key-file=" + c.pki.saPrivate,
			"--service-cluster-ip-range=10.96.0.0/16",
			// No controller-manager creates each namespace's "default" service account, which
			// the ServiceAccount admission plugin would require of every pod, and no node lifecycle
			// controller lifts the not-ready taint TaintNodesByCondition puts on every new node.
			"--disable-admission-plugins=ServiceAccount,TaintNodesByCondition",
			"--endpoint-reconciler-type=none",
			"--profiling=false",
			"--audit-policy-file=" + policy,
			"--audit-log-path=" + c.auditLog,
			"--audit-log-mode=blocking",
			"--audit-log-format=json",
			"--v=0",
		},
	}
	c.opts.Logf("starting kube-apiserver on https://127.0.0.1:%d", c.apiPort)
	if err := c.apiServer.start(); err != nil {
		return err
	}
	c.AdminConfig = &rest.Config{
		Host: fmt.Sprintf("https://127.0.0.1:%d", c.apiPort),
		TLSClientConfig: rest.TLSClientConfig{
			CAData: c.pki.caPEM, CertData: c.pki.adminCertPEM, KeyData: c.pki.adminKeyPEM,
		},
		QPS: 500, Burst: 1000,
	}
	if c.Admin, err = kubernetes.NewForConfig(c.AdminConfig); err != nil {
		return err
	}
	return waitFor(ctx, c.apiServer, 90*time.Second, "kube-apiserver /readyz", func(ctx context.Context) error {
		body, err := c.Admin.CoreV1().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err != nil {
			return fmt.Errorf("%v %s", err, body)
		}
		// RBAC's bootstrap roles (system:kube-scheduler and friends) exist once this is served.
		_, err = c.Admin.RbacV1().ClusterRoles().Get(ctx, "system:kube-scheduler", metav1.GetOptions{})
		return err
	})
}

// auditPolicy records pod bindings (request metadata and the response code) and nothing else.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: Metadata
    resources:
      - group: ""
        resources: ["pods/binding"]
  - level: None
`

// Binding is one pods/binding request the API server answered.
type Binding struct {
	User string
	Code int32 // HTTP status: 201 bound, 409 already bound
}

// Bindings reads the API server's audit log: every pods/binding request per "namespace/name".
func (c *ControlPlane) Bindings() (map[string][]Binding, error) {
	data, err := os.ReadFile(c.auditLog)
	if err != nil {
		return nil, err
	}
	out := map[string][]Binding{}
	for i, line := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var ev auditEvent
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", c.auditLog, i+1, err)
		}
		if ev.Stage != "ResponseComplete" || ev.ObjectRef.Resource != "pods" || ev.ObjectRef.Subresource != "binding" {
			continue
		}
		key := ev.ObjectRef.Namespace + "/" + ev.ObjectRef.Name
		out[key] = append(out[key], Binding{User: ev.User.Username, Code: ev.ResponseStatus.Code})
	}
	return out, nil
}

// auditEvent is the part of an audit.k8s.io/v1 Event that Bindings reads.
type auditEvent struct {
	Stage     string `json:"stage"`
	ObjectRef struct {
		Resource    string `json:"resource"`
		Subresource string `json:"subresource"`
		Namespace   string `json:"namespace"`
		Name        string `json:"name"`
	} `json:"objectRef"`
	User struct {
		Username string `json:"username"`
	} `json:"user"`
	ResponseStatus struct {
		Code int32 `json:"code"`
	} `json:"responseStatus"`
}

// applyDeploy creates deploy/kubernetes's namespace, service account and RBAC objects, and a
// token for the service account (the TokenRequest API; no controller-manager is needed).
func (c *ControlPlane) applyDeploy(ctx context.Context) error {
	for _, file := range []string{"namespace.yaml", "serviceaccount.yaml", "rbac.yaml"} {
		path := filepath.Join(c.repoRoot, "deploy", "kubernetes", file)
		objects, err := decodeManifests(path)
		if err != nil {
			return err
		}
		for _, obj := range objects {
			if err := c.create(ctx, obj); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
		}
	}
	expiry := int64(24 * 3600)
	token, err := c.Admin.CoreV1().ServiceAccounts(SchedulerNamespace).CreateToken(ctx, SchedulerServiceAccount,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiry}},
		metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("token for %s: %w", SchedulerUser, err)
	}
	c.SchedulerConfig = &rest.Config{
		Host:            c.AdminConfig.Host,
		BearerToken:     token.Status.Token,
		TLSClientConfig: rest.TLSClientConfig{CAData: c.pki.caPEM},
	}
	kubeconfig := clientcmdapi.NewConfig()
	kubeconfig.Clusters["local"] = &clientcmdapi.Cluster{Server: c.AdminConfig.Host, CertificateAuthorityData: c.pki.caPEM}
	kubeconfig.AuthInfos["scheduler"] = &clientcmdapi.AuthInfo{Token: token.Status.Token}
	kubeconfig.Contexts["local"] = &clientcmdapi.Context{Cluster: "local", AuthInfo: "scheduler"}
	kubeconfig.CurrentContext = "local"
	c.schedulerKubeconfig = filepath.Join(c.opts.Dir, "scheduler.kubeconfig")
	if err := clientcmd.WriteToFile(*kubeconfig, c.schedulerKubeconfig); err != nil {
		return err
	}
	// An admin kubeconfig, for a person looking at a kept control plane with kubectl.
	kubeconfig.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: c.pki.adminCertPEM, ClientKeyData: c.pki.adminKeyPEM}
	kubeconfig.Contexts["local"].AuthInfo = "admin"
	return clientcmd.WriteToFile(*kubeconfig, filepath.Join(c.opts.Dir, "admin.kubeconfig"))
}

func decodeManifests(path string) ([]runtime.Object, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var objects []runtime.Object
	for i, doc := range strings.Split(string(data), "\n---") {
		if strings.TrimSpace(stripComments(doc)) == "" {
			continue
		}
		obj, _, err := scheme.Codecs.UniversalDeserializer().Decode([]byte(doc), nil, nil)
		if err != nil {
			return nil, fmt.Errorf("%s document %d: %w", path, i+1, err)
		}
		objects = append(objects, obj)
	}
	return objects, nil
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

func (c *ControlPlane) create(ctx context.Context, obj runtime.Object) error {
	var err error
	switch o := obj.(type) {
	case *corev1.Namespace:
		_, err = c.Admin.CoreV1().Namespaces().Create(ctx, o, metav1.CreateOptions{})
	case *corev1.ServiceAccount:
		_, err = c.Admin.CoreV1().ServiceAccounts(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
	case *corev1.ConfigMap:
		_, err = c.Admin.CoreV1().ConfigMaps(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
	case *rbacv1.ClusterRole:
		_, err = c.Admin.RbacV1().ClusterRoles().Create(ctx, o, metav1.CreateOptions{})
	case *rbacv1.ClusterRoleBinding:
		_, err = c.Admin.RbacV1().ClusterRoleBindings().Create(ctx, o, metav1.CreateOptions{})
	case *rbacv1.Role:
		_, err = c.Admin.RbacV1().Roles(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
	case *rbacv1.RoleBinding:
		_, err = c.Admin.RbacV1().RoleBindings(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
	default:
		return fmt.Errorf("unexpected object %T", obj)
	}
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// writeSchedulerConfig takes the scheduler configuration deploy/kubernetes/configmap.yaml ships,
// points it at the local engine socket and shortens leader election so a restarted scheduler
// takes over within seconds.
func (c *ControlPlane) writeSchedulerConfig(context.Context) error {
	path := filepath.Join(c.repoRoot, "deploy", "kubernetes", "configmap.yaml")
	objects, err := decodeManifests(path)
	if err != nil {
		return err
	}
	var text string
	for _, obj := range objects {
		if cm, ok := obj.(*corev1.ConfigMap); ok {
			text = cm.Data["config.yaml"]
		}
	}
	if strings.Count(text, deployEngineAddress) != 1 {
		return fmt.Errorf("%s: config.yaml must name the engine address %s exactly once", path, deployEngineAddress)
	}
	text = strings.Replace(text, deployEngineAddress, "unix://"+c.EngineSocket, 1)
	var config map[string]any
	if err := yaml.Unmarshal([]byte(text), &config); err != nil {
		return fmt.Errorf("%s config.yaml: %w", path, err)
	}
	election, _ := config["leaderElection"].(map[string]any)
	if election == nil {
		return fmt.Errorf("%s config.yaml: no leaderElection", path)
	}
	election["leaseDuration"] = "4s"
	election["renewDeadline"] = "3s"
	election["retryPeriod"] = "500ms"
	// With --config, the kubeconfig comes from the file, not the flag.
	connection, _ := config["clientConnection"].(map[string]any)
	if connection == nil {
		connection = map[string]any{}
		config["clientConnection"] = connection
	}
	connection["kubeconfig"] = c.schedulerKubeconfig
	out, err := yaml.Marshal(config)
	if err != nil {
		return err
	}
	c.schedulerConfigFile = filepath.Join(c.opts.Dir, "scheduler-config.yaml")
	return os.WriteFile(c.schedulerConfigFile, out, 0o600)
}

// StartEngine starts the engine (again, after KillEngine) and waits for its socket.
func (c *ControlPlane) StartEngine(ctx context.Context) error {
	_ = os.Remove(c.EngineSocket)
	c.opts.Logf("starting the engine on unix://%s", c.EngineSocket)
	if err := c.engine.start(); err != nil {
		return err
	}
	return waitFor(ctx, c.engine, 30*time.Second, "the engine's socket", func(context.Context) error {
		conn, err := net.DialTimeout("unix", c.EngineSocket, time.Second)
		if err != nil {
			return err
		}
		return conn.Close()
	})
}

// KillEngine kills the engine with SIGKILL, as a crash would.
func (c *ControlPlane) KillEngine() {
	c.opts.Logf("killing the engine")
	c.engine.stop(syscall.SIGKILL, 10*time.Second)
}

// EngineRunning reports whether the engine process is alive.
func (c *ControlPlane) EngineRunning() bool { return c.engine.running() }

// StartScheduler starts sextant-scheduler and waits until it serves /readyz.
func (c *ControlPlane) StartScheduler(ctx context.Context) error {
	var err error
	if c.schedulerPort, err = freePort(); err != nil {
		return err
	}
	c.scheduler = &process{
		name: "sextant-scheduler", path: c.opts.Binaries.Scheduler,
		logPath: filepath.Join(c.opts.Dir, "scheduler.log"),
		args: []string{
			"--config=" + c.schedulerConfigFile,
			"--authentication-kubeconfig=" + c.schedulerKubeconfig,
			"--authorization-kubeconfig=" + c.schedulerKubeconfig,
			"--bind-address=127.0.0.1",
			"--secure-port=" + strconv.Itoa(c.schedulerPort),
			"--v=" + strconv.Itoa(c.opts.SchedulerVerbosity),
		},
	}
	c.opts.Logf("starting sextant-scheduler (secure port %d)", c.schedulerPort)
	if err := c.scheduler.start(); err != nil {
		return err
	}
	client := c.schedulerHTTPClient()
	return waitFor(ctx, c.scheduler, 60*time.Second, "sextant-scheduler /readyz", func(ctx context.Context) error {
		_, err := c.schedulerGet(ctx, client, "/readyz", "")
		return err
	})
}

// StopScheduler stops the scheduler gracefully (SIGTERM).
func (c *ControlPlane) StopScheduler() {
	c.opts.Logf("stopping sextant-scheduler")
	c.scheduler.stop(syscall.SIGTERM, 15*time.Second)
}

// SchedulerRunning reports whether the scheduler process is alive.
func (c *ControlPlane) SchedulerRunning() bool { return c.scheduler.running() }

func (c *ControlPlane) schedulerHTTPClient() *http.Client {
	// The scheduler serves a self-signed certificate it made at start.
	return &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, //nolint:gosec // local, self-signed
	}
}

func (c *ControlPlane) schedulerGet(ctx context.Context, client *http.Client, path, bearer string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("https://127.0.0.1:%d%s", c.schedulerPort, path), nil)
	if err != nil {
		return "", err
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return string(body), fmt.Errorf("GET %s: %s: %s", path, resp.Status, strings.TrimSpace(string(body)))
	}
	return string(body), nil
}

// SchedulerMetrics scrapes the scheduler's /metrics the way Prometheus would in a cluster: with a
// service account token the scheduler authenticates (TokenReview) and authorizes
// (SubjectAccessReview) against the API server. The scraper's account is created on first use
// and bound to the non-resource URL /metrics only.
func (c *ControlPlane) SchedulerMetrics(ctx context.Context) (string, error) {
	token, err := c.metricsReaderToken(ctx)
	if err != nil {
		return "", err
	}
	return c.schedulerGet(ctx, c.schedulerHTTPClient(), "/metrics", token)
}

func (c *ControlPlane) metricsReaderToken(ctx context.Context) (string, error) {
	const name = "sextant-metrics-reader"
	objects := []runtime.Object{
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: SchedulerNamespace}},
		&rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Rules:      []rbacv1.PolicyRule{{NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}}},
		},
		&rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: name, Namespace: SchedulerNamespace}},
		},
	}
	for _, obj := range objects {
		if err := c.create(ctx, obj); err != nil {
			return "", err
		}
	}
	token, err := c.Admin.CoreV1().ServiceAccounts(SchedulerNamespace).CreateToken(ctx, name,
		&authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		return "", err
	}
	return token.Status.Token, nil
}

// kubeletStandIn confirms the deletion of pods bound to a node, as the node's kubelet does once
// the containers have stopped: without it a deleted pod (a preemption victim) would stay
// Terminating forever and keep its resources in the scheduler's view.
func (c *ControlPlane) kubeletStandIn(ctx context.Context) {
	factory := informers.NewSharedInformerFactory(c.Admin, 0)
	podInformer := factory.Core().V1().Pods().Informer()
	confirm := func(obj any) {
		pod, ok := obj.(*corev1.Pod)
		if !ok || pod.DeletionTimestamp == nil || pod.Spec.NodeName == "" {
			return
		}
		zero := int64(0)
		go func() {
			err := c.Admin.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
				GracePeriodSeconds: &zero,
				Preconditions:      &metav1.Preconditions{UID: &pod.UID},
			})
			if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) && ctx.Err() == nil {
				c.opts.Logf("confirming the deletion of pod %s/%s: %v", pod.Namespace, pod.Name, err)
			}
		}()
	}
	_, _ = podInformer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    confirm,
		UpdateFunc: func(_, obj any) { confirm(obj) },
	})
	factory.Start(ctx.Done())
	<-ctx.Done()
	factory.Shutdown()
}

// NodeSpec describes a node to register.
type NodeSpec struct {
	Name   string
	CPU    string // e.g. "32"
	Memory string // e.g. "128Gi"
	Pods   int    // 0: 110
	// Extended resources, e.g. {"nvidia.com/gpu": "8"}.
	Extended map[corev1.ResourceName]string
	Labels   map[string]string
	Taints   []corev1.Taint
}

// CreateNode registers a Ready node with the given capacity (allocatable = capacity), the way a
// kubelet registers itself. kubernetes.io/hostname is set to the name unless given.
func (c *ControlPlane) CreateNode(ctx context.Context, spec NodeSpec) (*corev1.Node, error) {
	return CreateNode(ctx, c.Admin, spec)
}

// CreateNode registers a node through client (see ControlPlane.CreateNode).
func CreateNode(ctx context.Context, client kubernetes.Interface, spec NodeSpec) (*corev1.Node, error) {
	pods := spec.Pods
	if pods == 0 {
		pods = 110
	}
	resources := corev1.ResourceList{}
	for name, value := range map[corev1.ResourceName]string{
		corev1.ResourceCPU: spec.CPU, corev1.ResourceMemory: spec.Memory, corev1.ResourcePods: strconv.Itoa(pods),
	} {
		q, err := resource.ParseQuantity(value)
		if err != nil {
			return nil, fmt.Errorf("node %s %s: %w", spec.Name, name, err)
		}
		resources[name] = q
	}
	for name, value := range spec.Extended {
		q, err := resource.ParseQuantity(value)
		if err != nil {
			return nil, fmt.Errorf("node %s %s: %w", spec.Name, name, err)
		}
		resources[name] = q
	}
	labels := map[string]string{corev1.LabelHostname: spec.Name, corev1.LabelOSStable: "linux"}
	for k, v := range spec.Labels {
		labels[k] = v
	}
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: spec.Name, Labels: labels},
		Spec:       corev1.NodeSpec{Taints: spec.Taints},
		Status: corev1.NodeStatus{
			Capacity:    resources,
			Allocatable: resources,
			Conditions: []corev1.NodeCondition{{
				Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
				LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now(),
			}},
		},
	}
	created, err := client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if err != nil {
		return nil, err
	}
	if len(created.Status.Allocatable) == 0 { // status dropped on create: set it as the kubelet does
		created.Status = node.Status
		if created, err = client.CoreV1().Nodes().UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
			return nil, err
		}
	}
	return created, nil
}

// WaitForPods polls the pods of namespace until done accepts them or timeout passes.
func WaitForPods(ctx context.Context, client kubernetes.Interface, namespace string, timeout time.Duration,
	done func([]corev1.Pod) (bool, error)) ([]corev1.Pod, error) {
	var pods []corev1.Pod
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		list, err := client.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil //nolint:nilerr // retried until the timeout
		}
		pods = list.Items
		return done(pods)
	})
	return pods, err
}

// Refused reports whether the scheduler last found no node for the pod: PodScheduled=False with
// reason Unschedulable (not SchedulerError, after which the pod is retried).
func Refused(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
			return true
		}
	}
	return false
}
