// nats-server processes and small JetStream clients for tests and benchmarks.
#include "sidecar/sources/nats/nats_testbed.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

namespace wojak::sidecar::nats {
namespace {

using std::chrono::milliseconds;
using Steady = std::chrono::steady_clock;

constexpr milliseconds kReadyTimeout{15000};

struct ConnectionGuard {
  natsConnection* connection = nullptr;
  jsCtx* jetstream = nullptr;
  ~ConnectionGuard() {
    if (jetstream != nullptr) jsCtx_Destroy(jetstream);
    if (connection != nullptr) natsConnection_Destroy(connection);
  }
};

Status Open(const std::string& url, ConnectionGuard& guard) {
  natsStatus status = natsConnection_ConnectTo(&guard.connection, url.c_str());
  if (status != NATS_OK) return NatsError(status, "connect " + url);
  status = natsConnection_JetStream(&guard.jetstream, guard.connection, nullptr);
  if (status != NATS_OK) return NatsError(status, "jetstream context");
  return OkStatus();
}

// The server answers JetStream API requests (a meta leader exists in a cluster).
bool JetStreamReady(const std::string& url) {
  ConnectionGuard guard;
  if (!Open(url, guard).ok()) return false;
  jsAccountInfo* info = nullptr;
  if (js_GetAccountInfo(&info, guard.jetstream, nullptr, nullptr) != NATS_OK) return false;
  jsAccountInfo_Destroy(info);
  return true;
}

std::string ReadLog(const std::string& path) {
  std::ifstream file(path);
  return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

bool Exited(pid_t pid) {
  int status = 0;
  return waitpid(pid, &status, WNOHANG) == pid;
}

std::map<std::string, std::string> Headers(natsMsg* message) {
  std::map<std::string, std::string> headers;
  const char** keys = nullptr;
  int count = 0;
  if (natsMsgHeader_Keys(message, &keys, &count) != NATS_OK) return headers;
  for (int i = 0; i < count; ++i) {
    const char* value = nullptr;
    if (natsMsgHeader_Get(message, keys[i], &value) == NATS_OK && value != nullptr) {
      headers[keys[i]] = value;
    }
  }
  free(keys);
  return headers;
}

}  // namespace

int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  int port = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  close(fd);
  return port;
}

StatusOr<std::unique_ptr<NatsServerProcess>> NatsServerProcess::Spawn(
    const std::vector<std::string>& argv, const std::string& log_path, int port) {
  pid_t pid = fork();
  if (pid < 0) return Internal("fork failed");
  if (pid == 0) {
    int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  std::unique_ptr<NatsServerProcess> server(new NatsServerProcess());
  server->pid_ = pid;
  server->url_ = "nats://127.0.0.1:" + std::to_string(port);
  return server;
}

StatusOr<std::unique_ptr<NatsServerProcess>> NatsServerProcess::Start(
    const std::string& directory, const std::vector<std::string>& extra_arguments) {
  std::filesystem::create_directories(directory);
  const int port = FreeLoopbackPort();
  std::vector<std::string> argv = {
      "nats-server",        "-a",  "127.0.0.1", "-p",
      std::to_string(port), "-js", "-sd",       directory + "/jetstream"};
  argv.insert(argv.end(), extra_arguments.begin(), extra_arguments.end());
  const std::string log_path = directory + "/nats-server.log";
  WOJAK_ASSIGN_OR_RETURN(std::unique_ptr<NatsServerProcess> server, Spawn(argv, log_path, port));
  // A single node has JetStream before it says it is ready (this also works when it requires
  // TLS, which a plain probe connection could not pass).
  const Steady::time_point deadline = Steady::now() + kReadyTimeout;
  while (ReadLog(log_path).find("Server is ready") == std::string::npos) {
    if (Exited(server->pid_)) {
      server->pid_ = -1;
      return Unavailable("nats-server exited: " + ReadLog(log_path));
    }
    if (Steady::now() > deadline) return DeadlineExceeded("nats-server not ready");
    std::this_thread::sleep_for(milliseconds(10));
  }
  return server;
}

StatusOr<std::vector<std::unique_ptr<NatsServerProcess>>> NatsServerProcess::StartCluster(
    const std::string& directory, int nodes) {
  std::vector<int> client_ports;
  std::vector<int> route_ports;
  for (int i = 0; i < nodes; ++i) {
    client_ports.push_back(FreeLoopbackPort());
    route_ports.push_back(FreeLoopbackPort());
  }
  std::string routes;
  for (int port : route_ports) {
    if (!routes.empty()) routes += ", ";
    routes += "nats-route://127.0.0.1:" + std::to_string(port);
  }
  std::vector<std::unique_ptr<NatsServerProcess>> servers;
  for (int i = 0; i < nodes; ++i) {
    const std::string node_directory = directory + "/node-" + std::to_string(i);
    std::filesystem::create_directories(node_directory);
    const std::string config_path = node_directory + "/nats-server.conf";
    std::ofstream(config_path) << "server_name: n" << i << "\n"
                               << "listen: 127.0.0.1:" << client_ports[i] << "\n"
                               << "jetstream { store_dir: \"" << node_directory
                               << "/jetstream\" }\n"
                               << "cluster {\n  name: wojak\n  listen: 127.0.0.1:" << route_ports[i]
                               << "\n  routes: [" << routes << "]\n}\n";
    WOJAK_ASSIGN_OR_RETURN(std::unique_ptr<NatsServerProcess> server,
                           Spawn({"nats-server", "-c", config_path},
                                 node_directory + "/nats-server.log", client_ports[i]));
    servers.push_back(std::move(server));
  }
  const Steady::time_point deadline = Steady::now() + kReadyTimeout;
  for (auto& server : servers) {
    while (!JetStreamReady(server->url())) {
      if (Exited(server->pid_)) {
        server->pid_ = -1;
        return Unavailable("a nats-server cluster node exited; see " + directory);
      }
      if (Steady::now() > deadline) return DeadlineExceeded("nats cluster not ready");
      std::this_thread::sleep_for(milliseconds(20));
    }
  }
  return servers;
}

void NatsServerProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

NatsServerProcess::~NatsServerProcess() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  const Steady::time_point deadline = Steady::now() + milliseconds(5000);
  while (!Exited(pid_)) {
    if (Steady::now() > deadline) {
      Kill();
      return;
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
  pid_ = -1;
}

Status CreateStream(const std::string& url, const std::string& name,
                    const std::vector<std::string>& subjects, bool file_storage, int replicas) {
  ConnectionGuard guard;
  WOJAK_RETURN_IF_ERROR(Open(url, guard));
  std::vector<const char*> subject_pointers;
  for (const std::string& subject : subjects) subject_pointers.push_back(subject.c_str());
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  config.Name = name.c_str();
  config.Subjects = subject_pointers.data();
  config.SubjectsLen = static_cast<int>(subject_pointers.size());
  config.Storage = file_storage ? js_FileStorage : js_MemoryStorage;
  config.Replicas = replicas;
  jsStreamInfo* info = nullptr;
  jsErrCode js_error = jsErrCode(0);
  natsStatus status = js_AddStream(&info, guard.jetstream, &config, nullptr, &js_error);
  if (status != NATS_OK) return NatsError(status, "create stream " + name, js_error);
  jsStreamInfo_Destroy(info);
  return OkStatus();
}

StatusOr<std::vector<ReceivedMessage>> ReadStream(const std::string& url, const std::string& stream,
                                                  const std::string& subject, size_t count,
                                                  milliseconds timeout) {
  ConnectionGuard guard;
  WOJAK_RETURN_IF_ERROR(Open(url, guard));
  jsSubOptions options;
  jsSubOptions_Init(&options);
  options.Stream = stream.c_str();
  options.Config.AckPolicy = js_AckNone;
  options.Config.DeliverPolicy = js_DeliverAll;
  natsSubscription* subscription = nullptr;
  jsErrCode js_error = jsErrCode(0);
  natsStatus status = js_PullSubscribe(&subscription, guard.jetstream, subject.c_str(), nullptr,
                                       nullptr, &options, &js_error);
  if (status != NATS_OK) return NatsError(status, "read " + stream, js_error);
  std::vector<ReceivedMessage> messages;
  const Steady::time_point deadline = Steady::now() + timeout;
  while (messages.size() < count && Steady::now() < deadline) {
    natsMsgList list = {nullptr, 0};
    const int want = static_cast<int>(std::min<size_t>(count - messages.size(), 256));
    status = natsSubscription_Fetch(&list, subscription, want, 100, &js_error);
    for (int i = 0; status == NATS_OK && i < list.Count; ++i) {
      natsMsg* message = list.Msgs[i];
      ReceivedMessage received;
      received.subject = natsMsg_GetSubject(message);
      jsMsgMetaData* metadata = nullptr;
      if (natsMsg_GetMetaData(&metadata, message) == NATS_OK) {
        received.sequence = metadata->Sequence.Stream;
        jsMsgMetaData_Destroy(metadata);
      }
      received.data.assign(natsMsg_GetData(message),
                           static_cast<size_t>(natsMsg_GetDataLength(message)));
      received.headers = Headers(message);
      messages.push_back(std::move(received));
    }
    natsMsgList_Destroy(&list);
  }
  natsSubscription_Unsubscribe(subscription);
  natsSubscription_Destroy(subscription);
  return messages;
}

StatusOr<ConsumerState> ReadConsumerState(const std::string& url, const std::string& stream,
                                          const std::string& consumer) {
  ConnectionGuard guard;
  WOJAK_RETURN_IF_ERROR(Open(url, guard));
  jsConsumerInfo* info = nullptr;
  jsErrCode js_error = jsErrCode(0);
  natsStatus status = js_GetConsumerInfo(&info, guard.jetstream, stream.c_str(), consumer.c_str(),
                                         nullptr, &js_error);
  if (status != NATS_OK) return NatsError(status, "consumer " + consumer, js_error);
  ConsumerState state;
  state.ack_floor = info->AckFloor.Stream;
  state.ack_pending = info->NumAckPending;
  state.pending = info->NumPending;
  state.redelivered = info->NumRedelivered;
  jsConsumerInfo_Destroy(info);
  return state;
}

StatusOr<double> BareConsumeRate(const std::string& url, const std::string& stream,
                                 const std::string& subject, size_t count, milliseconds timeout) {
  ConnectionGuard guard;
  WOJAK_RETURN_IF_ERROR(Open(url, guard));
  jsSubOptions options;
  jsSubOptions_Init(&options);
  options.Stream = stream.c_str();
  options.Config.AckPolicy = js_AckExplicit;
  options.Config.DeliverPolicy = js_DeliverAll;
  options.Config.MaxAckPending = 100000;
  natsSubscription* subscription = nullptr;
  jsErrCode js_error = jsErrCode(0);
  natsStatus status = js_PullSubscribe(&subscription, guard.jetstream, subject.c_str(), nullptr,
                                       nullptr, &options, &js_error);
  if (status != NATS_OK) return NatsError(status, "bare consumer on " + stream, js_error);
  size_t received = 0;
  Steady::time_point first;
  Steady::time_point last;
  const Steady::time_point deadline = Steady::now() + timeout;
  while (received < count && Steady::now() < deadline) {
    natsMsgList list = {nullptr, 0};
    const int want = static_cast<int>(std::min<size_t>(count - received, 256));
    status = natsSubscription_Fetch(&list, subscription, want, 500, &js_error);
    for (int i = 0; status == NATS_OK && i < list.Count; ++i) {
      natsMsg_Ack(list.Msgs[i], nullptr);
      if (received == 0) first = Steady::now();
      last = Steady::now();
      ++received;
    }
    natsMsgList_Destroy(&list);
  }
  natsConnection_Flush(guard.connection);
  natsSubscription_Unsubscribe(subscription);
  natsSubscription_Destroy(subscription);
  if (received < count) {
    return DeadlineExceeded("bare consumer read " + std::to_string(received) + " of " +
                            std::to_string(count) + " messages");
  }
  const double seconds = std::chrono::duration<double>(last - first).count();
  return seconds > 0 ? static_cast<double>(received - 1) / seconds : 0.0;
}

}  // namespace wojak::sidecar::nats
