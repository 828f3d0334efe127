// Socket setup shared by every ZeroMQ peer that is not the engine transport itself (the outbox
// sidecar sink and the sidecar's outbox server): the same CURVE and ipc:// rules as the engine's
// ROUTER (server.cc) and EngineClient (client.cc), so security does not depend on who binds.
#pragma once

#include <string>

#include "common/status.h"

namespace wojak {

// CURVE client keys for a socket about to connect. An empty server key means plain (client keys
// must then be empty too); without client keys an ephemeral pair still encrypts the connection.
Status ConfigureCurveClient(void* socket, const std::string& server_public_key,
                            const std::string& client_public_key,
                            const std::string& client_secret_key);

// Makes the socket a CURVE server with this Z85 secret key; empty = plain.
Status ConfigureCurveServer(void* socket, const std::string& secret_key);

// Binds; for ipc:// creates the parent directory, replaces a stale socket file (refusing one
// another process serves) and gives the file mode 0660 (and `ipc_group` when not empty).
Status BindZmqEndpoint(void* socket, const std::string& endpoint, const std::string& ipc_group);

}  // namespace wojak
