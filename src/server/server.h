// EngineServer: the engine's gRPC listener: the EngineService and the standard health service
// (grpc.health.v1, SERVING once listening) on a unix socket (the default) or a TCP port, with
// TLS and optional client-certificate verification on TCP. Owns the grpc::Server; the Engine is
// the caller's. Shutdown and Wait may be called from different threads.
#ifndef SEXTANT_SERVER_SERVER_H_
#define SEXTANT_SERVER_SERVER_H_

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "server/service.h"
#include "sextant/engine.h"

namespace sextant::server {

struct ServerOptions {
  // unix:///absolute/path, unix:path (relative or absolute), or host:port (port 0: any free one).
  std::string listen = "unix:///tmp/sextant-engine.sock";
  // PEM files. With a certificate and key, the TCP listener speaks TLS; with a client CA as well,
  // it requires and verifies client certificates (mTLS). Unix sockets take no TLS: their file
  // permissions guard them.
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;
  // A TCP listener without TLS is refused, so that nothing on the network reaches the engine
  // unauthenticated. With this set, plaintext TCP is allowed on a loopback address (127.0.0.0/8,
  // ::1, localhost) only; for local tests and benchmarks. Abstract unix sockets (no file, hence
  // no permissions) are refused unless this is set, too.
  bool allow_insecure_loopback = false;
  // A full snapshot travels as one message: a 15,000-node cluster is tens of MiB.
  int max_receive_message_bytes = 1 << 30;
};

// A parsed --listen value: the URI gRPC listens on and, for a unix socket, its file.
struct ListenAddress {
  std::string uri;
  std::optional<std::string> socket_path;
};
// InvalidArgument unless `text` is one of the ServerOptions::listen forms.
absl::StatusOr<ListenAddress> ParseListenAddress(absl::string_view text);
// True when a host:port address names a loopback host: 127.0.0.0/8 as four decimal octets, ::1
// (bracketed or not) or localhost, with an optional ipv4: / ipv6: scheme.
bool IsLoopbackAddress(absl::string_view address);

class EngineServer {
 public:
  // Listens and starts serving. A socket file left by a dead engine is removed first; one a live
  // process still answers on is not (FailedPrecondition), nor is a path that is not a socket.
  // The socket file is created owner-only (0600) whatever the umask (which is set to 0177 while
  // gRPC binds: the umask is process-wide, so start servers before other threads create files),
  // and checked; Internal if its mode cannot be made 0600.
  // Plaintext TCP: InvalidArgument unless allow_insecure_loopback and a loopback host.
  // InvalidArgument for a bad address or TLS setting, NotFound for a missing PEM file,
  // Unavailable when gRPC cannot listen (port in use, bad PEM contents: gRPC logs why).
  static absl::StatusOr<std::unique_ptr<EngineServer>> Start(Engine* engine,
                                                             const ServerOptions& options);
  // Shuts down (no grace) if Shutdown was not called.
  ~EngineServer();
  EngineServer(const EngineServer&) = delete;
  EngineServer& operator=(const EngineServer&) = delete;

  // What it listens on: the unix URI, or host:port with the port actually bound.
  const std::string& address() const { return address_; }

  // Reports NOT_SERVING, stops accepting calls, cancels those still running after `grace`, and
  // removes the socket file. Later calls do nothing.
  void Shutdown(absl::Duration grace);
  // Blocks until Shutdown has completed.
  void Wait();

 private:
  explicit EngineServer(Engine* engine) : service_(engine) {}

  EngineService service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  std::optional<std::string> socket_path_;
  std::atomic<bool> shut_down_{false};
};

}  // namespace sextant::server

#endif  // SEXTANT_SERVER_SERVER_H_
