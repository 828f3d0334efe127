// Socket setup shared by every ZeroMQ peer that is not the engine transport itself (the outbox
// sidecar sink and the sidecar's outbox server): the same CURVE and ipc:// rules as the engine's
// ROUTER (server.cc) and EngineClient (client.cc), so security does not depend on who binds.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace wojak {

// CURVE client keys for a socket about to connect. An empty server key means plain (client keys
// must then be empty too); without client keys an ephemeral pair still encrypts the connection.
Status ConfigureCurveClient(void* socket, const std::string& server_public_key,
                            const std::string& client_public_key,
                            const std::string& client_secret_key);

// Makes the socket a CURVE server with this Z85 secret key; empty = plain. With allowed client
// keys (Z85) the socket asks the context's ZAP handler (BindZapHandler) about every client.
Status ConfigureCurveServer(void* socket, const std::string& secret_key,
                            const std::vector<std::string>& allowed_client_keys = {});

// CURVE client allowlists, checked by a ZAP handler (https://rfc.zeromq.org/spec/27/) at every
// handshake. The Z85 keys as the sorted 32-byte keys ZAP requests carry.
StatusOr<std::vector<std::string>> DecodeCurveAllowlist(const std::vector<std::string>& keys);
// Binds the context's ZAP handler (a REP socket the caller polls and closes). Bind it before the
// server socket: libzmq lets every CURVE client in while no handler is bound.
StatusOr<void*> BindZapHandler(void* context);
// Answers every queued ZAP request: allowed when the client's key is in `allowed_keys` (from
// DecodeCurveAllowlist). Logs each refusal as `refused_event`; returns how many were refused.
uint64_t AnswerCurveZapRequests(void* zap_socket, const std::vector<std::string>& allowed_keys,
                                std::string_view refused_event);

// Binds; for ipc:// creates the parent directory, replaces a stale socket file (refusing one
// another process serves) and gives the file mode 0660 (and `ipc_group` when not empty).
Status BindZmqEndpoint(void* socket, const std::string& endpoint, const std::string& ipc_group);

}  // namespace wojak
