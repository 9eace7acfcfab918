// The listener (addresses, stale sockets, TLS), the status conversion, and `sextant serve`.
#include "server/server.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <future>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "server/health_client.h"
#include "server/status.h"
#include "spdlog/spdlog.h"

extern char** environ;

namespace sextant::server {
namespace {

using testing::CheckHealth;
using ::testing::HasSubstr;

std::string TempPath(absl::string_view what) {
  static std::atomic<int> counter{0};
  return absl::StrCat(::testing::TempDir(), "sx-server-", getpid(), "-", counter++, what);
}

bool Exists(const std::string& path) {
  struct stat info;
  return ::lstat(path.c_str(), &info) == 0;
}

EngineOptions TestEngineOptions() {
  EngineOptions options;
  options.epoch = "e";
  options.profile.parallelism = 1;
  return options;
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override { spdlog::set_level(spdlog::level::warn); }
  Engine engine_{TestEngineOptions()};
};

TEST(ServerStatusTest, CodesMapOneToOne) {
  for (int code = 1; code <= 16; ++code) {
    SCOPED_TRACE(code);
    const absl::Status status(static_cast<absl::StatusCode>(code), "why");
    const grpc::Status converted = ToGrpcStatus(status);
    EXPECT_EQ(static_cast<int>(converted.error_code()), code);
    EXPECT_EQ(converted.error_message(), "why");
    EXPECT_FALSE(converted.ok());
  }
  EXPECT_EQ(ToGrpcStatus(absl::UnavailableError("stale")).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(ToGrpcStatus(absl::FailedPreconditionError("x")).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  // A code neither side knows is an error all the same.
  EXPECT_EQ(ToGrpcStatus(absl::Status(static_cast<absl::StatusCode>(99), "odd")).error_code(),
            grpc::StatusCode::UNKNOWN);
}

TEST(ServerAddressTest, ListenAddresses) {
  struct Case {
    std::string text;
    bool ok;
    std::string socket_path;  // empty: none
  };
  for (const Case& c : std::vector<Case>{
           {"unix:///tmp/sextant.sock", true, "/tmp/sextant.sock"},
           {"unix:/tmp/sextant.sock", true, "/tmp/sextant.sock"},
           {"unix:relative.sock", true, "relative.sock"},
           {"127.0.0.1:50051", true, ""},
           {"0.0.0.0:0", true, ""},
           {"[::1]:443", true, ""},
           {"localhost:8080", true, ""},
           {"unix://relative.sock", false, ""},
           {"unix:", false, ""},
           {"localhost", false, ""},
           {":50051", false, ""},
           {"localhost:http", false, ""},
           {"localhost:70000", false, ""},
       }) {
    SCOPED_TRACE(c.text);
    absl::StatusOr<ListenAddress> address = ParseListenAddress(c.text);
    ASSERT_EQ(address.ok(), c.ok) << address.status();
    if (!c.ok) {
      EXPECT_EQ(address.status().code(), absl::StatusCode::kInvalidArgument);
      continue;
    }
    EXPECT_EQ(address->uri, c.text);
    EXPECT_EQ(address->socket_path.value_or(""), c.socket_path);
  }
}

TEST_F(ServerTest, RemovesStaleSocketAndItsOwnOnShutdown) {
  const std::string path = TempPath(".sock");
  // A socket file nobody listens on any more, as a killed engine leaves it.
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ::close(fd);
  ASSERT_TRUE(Exists(path));

  ServerOptions options;
  options.listen = "unix://" + path;
  absl::StatusOr<std::unique_ptr<EngineServer>> server = EngineServer::Start(&engine_, options);
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ((*server)->address(), "unix://" + path);
  std::string bytes;
  auto channel = grpc::CreateChannel((*server)->address(), grpc::InsecureChannelCredentials());
  ASSERT_TRUE(CheckHealth(channel, &bytes).ok());
  EXPECT_EQ(bytes, testing::kServing);
  (*server)->Shutdown(absl::ZeroDuration());
  (*server)->Wait();
  EXPECT_FALSE(Exists(path));
}

TEST_F(ServerTest, DoesNotStealALiveSocket) {
  ServerOptions options;
  options.listen = "unix:" + TempPath(".sock");
  absl::StatusOr<std::unique_ptr<EngineServer>> first = EngineServer::Start(&engine_, options);
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<std::unique_ptr<EngineServer>> second = EngineServer::Start(&engine_, options);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(second.status().message()), HasSubstr("another process is listening"));
  // The first one still serves.
  std::string bytes;
  auto channel = grpc::CreateChannel((*first)->address(), grpc::InsecureChannelCredentials());
  EXPECT_TRUE(CheckHealth(channel, &bytes).ok());
}

TEST_F(ServerTest, DoesNotRemoveAFileThatIsNotASocket) {
  const std::string path = TempPath(".txt");
  std::ofstream(path) << "keep me";
  ServerOptions options;
  options.listen = "unix:" + path;
  absl::StatusOr<std::unique_ptr<EngineServer>> server = EngineServer::Start(&engine_, options);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(server.status().message()), HasSubstr("is not a socket"));
  EXPECT_TRUE(Exists(path));
  std::remove(path.c_str());
}

TEST_F(ServerTest, TcpOnAnyPort) {
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.allow_insecure_loopback = true;
  absl::StatusOr<std::unique_ptr<EngineServer>> server = EngineServer::Start(&engine_, options);
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string& address = (*server)->address();
  ASSERT_TRUE(absl::StartsWith(address, "127.0.0.1:"));
  EXPECT_NE(address, "127.0.0.1:0");
  std::string bytes;
  EXPECT_TRUE(
      CheckHealth(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()), &bytes).ok());
}

TEST_F(ServerTest, TlsSettingErrors) {
  ServerOptions options;
  options.listen = "unix:" + TempPath(".sock");
  options.tls_cert_file = "/nonexistent/cert.pem";
  options.tls_key_file = "/nonexistent/key.pem";
  absl::StatusOr<std::unique_ptr<EngineServer>> server = EngineServer::Start(&engine_, options);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(server.status().message()), HasSubstr("TCP"));

  options.listen = "127.0.0.1:0";
  server = EngineServer::Start(&engine_, options);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(server.status().message()), HasSubstr("/nonexistent/cert.pem"));

  options.tls_key_file.clear();
  server = EngineServer::Start(&engine_, options);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A self-signed certificate for localhost / 127.0.0.1, which also serves as its own CA.
bool MakeCertificate(const std::string& cert, const std::string& key) {
  const std::string command =
      absl::StrCat("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost ",
                   "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout ", key, " -out ",
                   cert, " > /dev/null 2>&1");
  return std::system(command.c_str()) == 0;
}

std::shared_ptr<grpc::Channel> TlsChannel(const std::string& address,
                                          const grpc::SslCredentialsOptions& ssl) {
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride("localhost");
  return grpc::CreateCustomChannel(address, grpc::SslCredentials(ssl), args);
}

TEST_F(ServerTest, TlsAndClientCertificates) {
  const std::string cert = TempPath("-cert.pem");
  const std::string key = TempPath("-key.pem");
  if (!MakeCertificate(cert, key)) GTEST_SKIP() << "openssl is not available";

  ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.tls_cert_file = cert;
  options.tls_key_file = key;
  absl::StatusOr<std::unique_ptr<EngineServer>> server = EngineServer::Start(&engine_, options);
  ASSERT_TRUE(server.ok()) << server.status();
  grpc::SslCredentialsOptions trusting;
  trusting.pem_root_certs = ReadFile(cert);
  std::string bytes;
  grpc::Status status = CheckHealth(TlsChannel((*server)->address(), trusting), &bytes);
  EXPECT_TRUE(status.ok()) << status.error_message();
  // A plaintext client cannot talk to it.
  EXPECT_FALSE(
      CheckHealth(grpc::CreateChannel((*server)->address(), grpc::InsecureChannelCredentials()),
                  &bytes)
          .ok());
  (*server)->Shutdown(absl::ZeroDuration());

  // mTLS: a client without a certificate signed by the client CA is refused.
  options.tls_client_ca_file = cert;
  server = EngineServer::Start(&engine_, options);
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_FALSE(CheckHealth(TlsChannel((*server)->address(), trusting), &bytes).ok());
  grpc::SslCredentialsOptions with_certificate = trusting;
  with_certificate.pem_cert_chain = ReadFile(cert);
  with_certificate.pem_private_key = ReadFile(key);
  status = CheckHealth(TlsChannel((*server)->address(), with_certificate), &bytes);
  EXPECT_TRUE(status.ok()) << status.error_message();
  std::remove(cert.c_str());
  std::remove(key.c_str());
}

// `sextant serve` end to end: listens, answers the health check, exits 0 on SIGTERM and removes
// its socket.
TEST(ServerCommandTest, ServeRunsUntilSigterm) {
  const std::string socket = TempPath(".sock");
  const std::string log = TempPath(".log");
  const std::string listen = "unix://" + socket;
  std::vector<std::string> args = {
      SEXTANT_BINARY,  "serve", "--listen",           listen,         "--seed", "7",
      "--parallelism", "1",     "--scoring-strategy", "MostAllocated"};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, SEXTANT_BINARY, &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);

  const absl::Time give_up = absl::Now() + absl::Seconds(20);
  while (!Exists(socket) && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(20));
  ASSERT_TRUE(Exists(socket)) << ReadFile(log);
  std::string bytes;
  // The socket file appears at bind(), a moment before listen(): wait for the server to accept.
  grpc::Status health = CheckHealth(grpc::CreateChannel(listen, grpc::InsecureChannelCredentials()),
                                    &bytes, /*wait_for_ready=*/true);
  EXPECT_TRUE(health.ok()) << health.error_message();
  EXPECT_EQ(bytes, testing::kServing);

  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_FALSE(Exists(socket));
  const std::string text = ReadFile(log);
  EXPECT_THAT(text, HasSubstr(absl::StrCat("listening on ", listen, ", epoch ")));
  EXPECT_THAT(text, HasSubstr("SIGTERM"));
  std::remove(log.c_str());
}

TEST(ServerCommandTest, ServeRefusesABadAddress) {
  const std::string log = TempPath(".log");
  const std::string command = absl::StrCat(SEXTANT_BINARY, " serve --listen nowhere 2> ", log);
  const int status = std::system(command.c_str());
  EXPECT_THAT(ReadFile(log), HasSubstr("listen address \"nowhere\""));
  std::remove(log.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
}

}  // namespace
}  // namespace sextant::server
