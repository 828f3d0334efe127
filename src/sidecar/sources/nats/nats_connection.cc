// NATS connection options, connect, and confirmed JetStream publishing.
#include "sidecar/sources/nats/nats_connection.h"

#include <mutex>

#include "common/log.h"

namespace wojak::sidecar::nats {
namespace {

using std::chrono::milliseconds;

void OnDisconnected(natsConnection* /*connection*/, void* /*closure*/) {
  LogWarn("nats_disconnected", {});
}

void OnReconnected(natsConnection* connection, void* /*closure*/) {
  char url[256] = "";
  natsConnection_GetConnectedUrl(connection, url, sizeof(url));
  LogInfo("nats_reconnected", {{"url", url}});
}

void OnAsyncError(natsConnection* /*connection*/, natsSubscription* /*subscription*/,
                  natsStatus error, void* /*closure*/) {
  LogWarn("nats_async_error", {{"error", natsStatus_GetText(error)}});
}

struct OptionsDeleter {
  void operator()(natsOptions* options) const { natsOptions_Destroy(options); }
};

}  // namespace

Status NatsError(natsStatus status, std::string_view what, jsErrCode js_error) {
  std::string message = std::string(what) + ": " + natsStatus_GetText(status);
  const char* detail = nats_GetLastError(nullptr);
  if (detail != nullptr && *detail != '\0' && message.find(detail) == std::string::npos) {
    message += " (" + std::string(detail) + ")";
  }
  if (js_error != 0) message += " [jetstream error " + std::to_string(js_error) + "]";
  switch (status) {
    case NATS_NOT_FOUND:
      return NotFound(std::move(message));
    case NATS_TIMEOUT:
      return DeadlineExceeded(std::move(message));
    case NATS_INVALID_ARG:
      return InvalidArgument(std::move(message));
    default:
      return Unavailable(std::move(message));
  }
}

NatsConnectionOptions ReadNatsConnectionOptions(ConfigSection& section) {
  NatsConnectionOptions defaults;
  NatsConnectionOptions options;
  options.servers = section.StringList("servers", defaults.servers,
                                       "server URLs (nats://HOST:PORT or tls://HOST:PORT)");
  if (options.servers.empty()) section.Error("servers", "list at least one server");
  options.name = section.String("name", defaults.name, "connection name shown by the server");
  options.connect_timeout =
      section.Duration("connect_timeout", defaults.connect_timeout, "TCP connect timeout");
  options.reconnect_wait = section.Duration("reconnect_wait", defaults.reconnect_wait,
                                            "delay between reconnect attempts to one server");
  options.max_reconnect = static_cast<int>(
      section.Int("max_reconnect", defaults.max_reconnect,
                  "reconnect attempts before giving up (-1: forever)", -1, 1000000));
  options.request_timeout =
      section.Duration("request_timeout", defaults.request_timeout,
                       "longest a JetStream API call or publish waits for the server");

  ConfigSection tls = section.Section("tls", "TLS to the servers");
  options.tls = tls.Bool("enabled", false, "require TLS (implied by tls:// URLs)");
  options.tls_ca_file = tls.String("ca_file", "", "PEM CA bundle the server chains to");
  options.tls_cert_file = tls.String("cert_file", "", "PEM client certificate (mutual TLS)");
  options.tls_key_file = tls.String("key_file", "", "PEM client private key (mutual TLS)");
  options.tls_expected_hostname =
      tls.String("expected_hostname", "", "server certificate name when it differs from the URL");
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    tls.Error("key_file", "cert_file and key_file go together");
  }

  ConfigSection auth = section.Section("auth", "credentials (at most one kind)");
  options.user = auth.String("user", "", "user name (with password)");
  options.password = auth.Secret("password", "password of user");
  options.token = auth.Secret("token", "authentication token");
  options.credentials_file =
      auth.String("credentials_file", "", "NATS .creds file (user JWT and NKey seed)");
  options.nkey_public = auth.String("nkey", "", "user public NKey (with nkey_seed_file)");
  options.nkey_seed_file = auth.String("nkey_seed_file", "", "file holding the NKey seed");
  if (options.nkey_public.empty() != options.nkey_seed_file.empty()) {
    auth.Error("nkey_seed_file", "nkey and nkey_seed_file go together");
  }
  if (!options.user.empty() && !options.password) auth.Error("password", "user needs a password");
  for (const auto& secret : {options.password, options.token}) {
    if (secret) RegisterSecret(*secret);
  }
  return options;
}

StatusOr<std::shared_ptr<NatsConnection>> NatsConnection::Connect(
    const NatsConnectionOptions& options) {
  natsOptions* raw_options = nullptr;
  natsStatus status = natsOptions_Create(&raw_options);
  if (status != NATS_OK) return NatsError(status, "nats options");
  std::unique_ptr<natsOptions, OptionsDeleter> nats_options(raw_options);
  natsOptions* o = nats_options.get();
  std::vector<const char*> servers;
  for (const std::string& server : options.servers) servers.push_back(server.c_str());
  auto check = [](natsStatus s, std::string_view what) {
    return s == NATS_OK ? OkStatus() : NatsError(s, what);
  };
  WOJAK_RETURN_IF_ERROR(check(
      natsOptions_SetServers(o, servers.data(), static_cast<int>(servers.size())), "servers"));
  WOJAK_RETURN_IF_ERROR(check(natsOptions_SetName(o, options.name.c_str()), "name"));
  WOJAK_RETURN_IF_ERROR(
      check(natsOptions_SetTimeout(o, options.connect_timeout.count()), "connect_timeout"));
  WOJAK_RETURN_IF_ERROR(
      check(natsOptions_SetReconnectWait(o, options.reconnect_wait.count()), "reconnect_wait"));
  WOJAK_RETURN_IF_ERROR(
      check(natsOptions_SetMaxReconnect(o, options.max_reconnect), "max_reconnect"));
  natsOptions_SetDisconnectedCB(o, &OnDisconnected, nullptr);
  natsOptions_SetReconnectedCB(o, &OnReconnected, nullptr);
  natsOptions_SetErrorHandler(o, &OnAsyncError, nullptr);
  const bool tls = options.tls || !options.tls_ca_file.empty() || !options.tls_cert_file.empty();
  if (tls) {
    WOJAK_RETURN_IF_ERROR(check(natsOptions_SetSecure(o, true), "tls"));
    if (!options.tls_ca_file.empty()) {
      WOJAK_RETURN_IF_ERROR(check(
          natsOptions_LoadCATrustedCertificates(o, options.tls_ca_file.c_str()), "tls.ca_file"));
    }
    if (!options.tls_cert_file.empty()) {
      WOJAK_RETURN_IF_ERROR(
          check(natsOptions_LoadCertificatesChain(o, options.tls_cert_file.c_str(),
                                                  options.tls_key_file.c_str()),
                "tls.cert_file/key_file"));
    }
    if (!options.tls_expected_hostname.empty()) {
      WOJAK_RETURN_IF_ERROR(
          check(natsOptions_SetExpectedHostname(o, options.tls_expected_hostname.c_str()),
                "tls.expected_hostname"));
    }
  }
  if (!options.user.empty()) {
    WOJAK_RETURN_IF_ERROR(check(
        natsOptions_SetUserInfo(o, options.user.c_str(), options.password.value_or("").c_str()),
        "auth.user"));
  }
  if (options.token) {
    WOJAK_RETURN_IF_ERROR(check(natsOptions_SetToken(o, options.token->c_str()), "auth.token"));
  }
  if (!options.credentials_file.empty()) {
    WOJAK_RETURN_IF_ERROR(
        check(natsOptions_SetUserCredentialsFromFiles(o, options.credentials_file.c_str(), nullptr),
              "auth.credentials_file"));
  }
  if (!options.nkey_seed_file.empty()) {
    WOJAK_RETURN_IF_ERROR(check(
        natsOptions_SetNKeyFromSeed(o, options.nkey_public.c_str(), options.nkey_seed_file.c_str()),
        "auth.nkey_seed_file"));
  }

  std::shared_ptr<NatsConnection> connection(new NatsConnection());
  connection->request_timeout_ = options.request_timeout;
  status = natsConnection_Connect(&connection->connection_, o);
  if (status != NATS_OK) return NatsError(status, "nats connect");
  jsOptions js_options;
  jsOptions_Init(&js_options);
  js_options.Wait = options.request_timeout.count();
  status = natsConnection_JetStream(&connection->jetstream_, connection->connection_, &js_options);
  if (status != NATS_OK) return NatsError(status, "nats jetstream context");
  return connection;
}

NatsConnection::~NatsConnection() {
  if (jetstream_ != nullptr) jsCtx_Destroy(jetstream_);
  if (connection_ != nullptr) {
    // Flushes what is buffered (acks included) before closing.
    natsConnection_FlushTimeout(connection_, 2000);
    natsConnection_Close(connection_);
    natsConnection_Destroy(connection_);
  }
}

NatsPublisher::NatsPublisher(std::shared_ptr<NatsConnection> connection)
    : connection_(std::move(connection)) {}

StatusOr<std::unique_ptr<NatsPublisher>> NatsPublisher::Connect(
    const NatsConnectionOptions& options) {
  WOJAK_ASSIGN_OR_RETURN(std::shared_ptr<NatsConnection> connection,
                         NatsConnection::Connect(options));
  return std::make_unique<NatsPublisher>(std::move(connection));
}

Status NatsPublisher::Publish(const NatsRecord& record, milliseconds timeout, bool* duplicate) {
  natsMsg* message = nullptr;
  natsStatus status =
      natsMsg_Create(&message, record.subject.c_str(), nullptr, record.payload.data(),
                     static_cast<int>(record.payload.size()));
  if (status != NATS_OK) return NatsError(status, "nats message");
  for (const auto& [name, value] : record.headers) {
    natsMsgHeader_Add(message, name.c_str(), value.c_str());
  }
  jsPubOptions options;
  jsPubOptions_Init(&options);
  options.MaxWait = timeout.count();
  if (!record.message_id.empty()) options.MsgId = record.message_id.c_str();
  jsPubAck* ack = nullptr;
  jsErrCode js_error = jsErrCode(0);
  status = js_PublishMsg(&ack, connection_->jetstream(), message, &options, &js_error);
  natsMsg_Destroy(message);
  if (status != NATS_OK) {
    if (status == NATS_NO_RESPONDERS) {
      return Unavailable("nats publish to " + record.subject +
                         ": no JetStream stream captures this subject");
    }
    return NatsError(status, "nats publish to " + record.subject, js_error);
  }
  if (duplicate != nullptr) *duplicate = ack->Duplicate;
  jsPubAck_Destroy(ack);
  return OkStatus();
}

namespace {

// Outcome of one PublishAndWait batch; the ack handler runs on a libnats thread.
struct BatchOutcome {
  std::mutex mutex;
  Status first_error;
};

void OnBatchAck(jsCtx* /*jetstream*/, natsMsg* message, jsPubAck* /*ack*/, jsPubAckErr* error,
                void* closure) {
  if (error != nullptr) {
    auto* outcome = static_cast<BatchOutcome*>(closure);
    std::lock_guard<std::mutex> lock(outcome->mutex);
    if (outcome->first_error.ok()) {
      outcome->first_error =
          error->Err == NATS_NO_RESPONDERS
              ? Unavailable(std::string("nats publish to ") + natsMsg_GetSubject(message) +
                            ": no JetStream stream captures this subject")
              : NatsError(error->Err, std::string("nats publish to ") + natsMsg_GetSubject(message),
                          error->ErrCode);
    }
  }
  natsMsg_Destroy(message);  // the handler owns it
}

}  // namespace

Status NatsPublisher::PublishAndWait(std::span<const NatsRecord> records, milliseconds timeout) {
  if (records.size() == 1) return Publish(records.front(), timeout);
  // Many records: pipelined asynchronous publishes, then wait for every PubAck.
  BatchOutcome outcome;
  jsOptions options;
  jsOptions_Init(&options);
  options.Wait = timeout.count();
  options.PublishAsync.MaxPending = 4096;
  options.PublishAsync.AckHandler = &OnBatchAck;
  options.PublishAsync.AckHandlerClosure = &outcome;
  jsCtx* jetstream = nullptr;
  natsStatus status = natsConnection_JetStream(&jetstream, connection_->connection(), &options);
  if (status != NATS_OK) return NatsError(status, "nats jetstream context");
  Status result;
  for (const NatsRecord& record : records) {
    natsMsg* message = nullptr;
    status = natsMsg_Create(&message, record.subject.c_str(), nullptr, record.payload.data(),
                            static_cast<int>(record.payload.size()));
    if (status != NATS_OK) {
      result = NatsError(status, "nats message");
      break;
    }
    for (const auto& [name, value] : record.headers) {
      natsMsgHeader_Add(message, name.c_str(), value.c_str());
    }
    jsPubOptions publish;
    jsPubOptions_Init(&publish);
    if (!record.message_id.empty()) publish.MsgId = record.message_id.c_str();
    status = js_PublishMsgAsync(jetstream, &message, &publish);
    natsMsg_Destroy(message);  // no-op when the library took it
    if (status != NATS_OK) {
      result = NatsError(status, "nats publish to " + record.subject);
      break;
    }
  }
  jsPubOptions complete;
  jsPubOptions_Init(&complete);
  complete.MaxWait = timeout.count();
  status = js_PublishAsyncComplete(jetstream, &complete);
  if (status != NATS_OK) {
    // Take back what is still unacknowledged so no ack handler runs after `outcome` is gone.
    natsMsgList pending = {nullptr, 0};
    if (js_PublishAsyncGetPendingList(&pending, jetstream) == NATS_OK)
      natsMsgList_Destroy(&pending);
    if (result.ok()) result = NatsError(status, "nats publish acknowledgements");
  }
  jsCtx_Destroy(jetstream);
  std::lock_guard<std::mutex> lock(outcome.mutex);
  return result.ok() ? outcome.first_error : result;
}

}  // namespace wojak::sidecar::nats
