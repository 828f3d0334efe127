# NATS JetStream source conformance against nats-server -js (included by tests/sources/CMakeLists.txt).
wojak_source_conformance(nats SOURCES ${CMAKE_CURRENT_LIST_DIR}/nats_fixture.cc
  DEPS wojak_source_nats)
