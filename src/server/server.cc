#include "server/server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "server/status.h"

namespace sextant::server {
namespace {

constexpr char kServiceName[] = "sextant.v1.Engine";

absl::StatusOr<std::string> ReadPemFile(const std::string& path, absl::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("cannot read ", what, " \"", path, "\": ", std::strerror(errno)));
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A socket file whose server has died is removed; one a live server answers on is not.
absl::Status RemoveStaleSocket(const std::string& path) {
  struct stat info;
  if (::lstat(path.c_str(), &info) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return absl::InternalError(absl::StrCat("cannot stat \"", path, "\": ", std::strerror(errno)));
  }
  if (!S_ISSOCK(info.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("\"", path, "\" exists and is not a socket; not removing it"));
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unix socket path \"", path, "\" is longer than ", sizeof(addr.sun_path) - 1, " bytes"));
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  const bool live = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  if (live) {
    return absl::FailedPreconditionError(
        absl::StrCat("another process is listening on \"", path, "\""));
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return absl::InternalError(
        absl::StrCat("cannot remove stale socket \"", path, "\": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace

bool IsLoopbackAddress(absl::string_view uri) {
  absl::string_view host = uri.substr(0, uri.rfind(':'));
  if (!absl::ConsumePrefix(&host, "ipv4:")) absl::ConsumePrefix(&host, "ipv6:");
  if (absl::StartsWith(host, "[") && absl::EndsWith(host, "]")) {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "localhost" || host == "::1") return true;
  // 127.0.0.0/8, written as four decimal octets.
  std::vector<absl::string_view> octets = absl::StrSplit(host, '.');
  if (octets.size() != 4 || octets[0] != "127") return false;
  for (absl::string_view octet : octets) {
    uint32_t value = 0;
    if (!absl::SimpleAtoi(octet, &value) || value > 255) return false;
  }
  return true;
}

namespace {

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> Credentials(const ServerOptions& options,
                                                                     const ListenAddress& address) {
  const bool tls = !options.tls_cert_file.empty() || !options.tls_key_file.empty() ||
                   !options.tls_client_ca_file.empty();
  const bool unix_socket = address.socket_path || absl::StartsWith(address.uri, "unix");
  if (!tls) {
    if (address.socket_path) return grpc::InsecureServerCredentials();
    if (!options.allow_insecure_loopback) {
      return absl::InvalidArgumentError(absl::StrCat(
          "listen address \"", address.uri, "\": ",
          unix_socket ? "an abstract unix socket has no file permissions to guard it"
                      : "a TCP listener needs TLS (a certificate and a key)",
          "; plaintext is allowed only on a loopback address with the insecure-loopback option"));
    }
    if (!unix_socket && !IsLoopbackAddress(address.uri)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "listen address \"", address.uri,
          "\": plaintext TCP is allowed only on a loopback address (127.0.0.0/8, ::1, localhost); "
          "other addresses need TLS"));
    }
    return grpc::InsecureServerCredentials();
  }
  if (unix_socket) {
    return absl::InvalidArgumentError(
        "TLS applies to TCP listeners; a unix socket is guarded by its file permissions");
  }
  if (options.tls_cert_file.empty() || options.tls_key_file.empty()) {
    return absl::InvalidArgumentError("TLS needs both a certificate and a key file");
  }
  ASSIGN_OR_RETURN(std::string cert, ReadPemFile(options.tls_cert_file, "TLS certificate"));
  ASSIGN_OR_RETURN(std::string key, ReadPemFile(options.tls_key_file, "TLS key"));
  std::string client_ca;
  if (!options.tls_client_ca_file.empty()) {
    ASSIGN_OR_RETURN(client_ca, ReadPemFile(options.tls_client_ca_file, "TLS client CA"));
  }
  grpc::SslServerCredentialsOptions ssl(
      client_ca.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                        : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  ssl.pem_root_certs = std::move(client_ca);
  ssl.pem_key_cert_pairs.push_back({std::move(key), std::move(cert)});
  return grpc::SslServerCredentials(ssl);
}

// The socket file is a socket with mode 0600 (made so if a filesystem ignored the umask).
absl::Status CheckOwnerOnly(const std::string& path) {
  struct stat info;
  if (::lstat(path.c_str(), &info) != 0 || !S_ISSOCK(info.st_mode)) {
    return absl::InternalError(absl::StrCat("socket \"", path, "\" was not created"));
  }
  if ((info.st_mode & 07777) != 0600 && ::chmod(path.c_str(), 0600) != 0) {
    return absl::InternalError(
        absl::StrCat("cannot make socket \"", path, "\" owner-only: ", std::strerror(errno)));
  }
  if (::lstat(path.c_str(), &info) != 0 || (info.st_mode & 07777) != 0600) {
    return absl::InternalError(absl::StrCat("socket \"", path, "\" is not owner-only (mode ",
                                            absl::StrFormat("%04o", info.st_mode & 07777), ")"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ListenAddress> ParseListenAddress(absl::string_view text) {
  auto invalid = [text] {
    return absl::InvalidArgumentError(absl::StrCat(
        "listen address \"", text, "\": expected unix:///absolute/path, unix:path or host:port"));
  };
  ListenAddress out;
  out.uri = std::string(text);
  if (absl::StartsWith(text, "unix-abstract:")) return out;  // no file behind it
  if (absl::StartsWith(text, "unix://")) {
    absl::string_view path = text.substr(7);
    if (!absl::StartsWith(path, "/")) return invalid();
    out.socket_path = std::string(path);
    return out;
  }
  if (absl::StartsWith(text, "unix:")) {
    absl::string_view path = text.substr(5);
    if (path.empty()) return invalid();
    out.socket_path = std::string(path);
    return out;
  }
  const size_t colon = text.rfind(':');
  uint32_t port = 0;
  if (colon == absl::string_view::npos || colon == 0 ||
      !absl::SimpleAtoi(text.substr(colon + 1), &port) || port > 65535) {
    return invalid();
  }
  return out;
}

absl::StatusOr<std::unique_ptr<EngineServer>> EngineServer::Start(Engine* engine,
                                                                  const ServerOptions& options) {
  ASSIGN_OR_RETURN(const ListenAddress address, ParseListenAddress(options.listen));
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials,
                   Credentials(options, address));
  if (address.socket_path) RETURN_IF_ERROR(RemoveStaleSocket(*address.socket_path));

  std::unique_ptr<EngineServer> server(new EngineServer(engine));
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(address.uri, credentials, &port);
  builder.RegisterService(&server->service_);
  builder.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  {
    // gRPC creates the socket file as bind(2) does, with the process umask: owner-only from the
    // start, so there is no moment at which another user could connect.
    const mode_t umask_before = address.socket_path ? ::umask(0177) : 0;
    server->server_ = builder.BuildAndStart();
    if (address.socket_path) ::umask(umask_before);
  }
  if (server->server_ == nullptr ||
      (!address.socket_path && port == 0 && !absl::StartsWith(address.uri, "unix"))) {
    if (server->server_ != nullptr) server->server_->Shutdown();
    server->shut_down_ = true;
    return absl::UnavailableError(absl::StrCat("cannot listen on ", address.uri));
  }
  server->socket_path_ = address.socket_path;
  if (address.socket_path) {
    if (absl::Status status = CheckOwnerOnly(*address.socket_path); !status.ok()) {
      server->Shutdown(absl::ZeroDuration());
      return status;
    }
  }
  server->address_ = address.uri;
  if (!address.socket_path && !absl::StartsWith(address.uri, "unix")) {
    server->address_ = absl::StrCat(address.uri.substr(0, address.uri.rfind(':')), ":", port);
  }
  grpc::HealthCheckServiceInterface* health = server->server_->GetHealthCheckService();
  health->SetServingStatus(true);
  health->SetServingStatus(kServiceName, true);
  return server;
}

EngineServer::~EngineServer() { Shutdown(absl::ZeroDuration()); }

void EngineServer::Shutdown(absl::Duration grace) {
  if (shut_down_.exchange(true)) return;
  server_->GetHealthCheckService()->SetServingStatus(false);
  server_->Shutdown(std::chrono::system_clock::now() + absl::ToChronoNanoseconds(grace));
  if (socket_path_) {
    struct stat info;
    if (::lstat(socket_path_->c_str(), &info) == 0 && S_ISSOCK(info.st_mode)) {
      ::unlink(socket_path_->c_str());
    }
  }
}

void EngineServer::Wait() { server_->Wait(); }

}  // namespace sextant::server
