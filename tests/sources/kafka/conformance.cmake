# Kafka source conformance against librdkafka's mock cluster (included by tests/sources/CMakeLists.txt).
wojak_source_conformance(kafka SOURCES ${CMAKE_CURRENT_LIST_DIR}/kafka_fixture.cc
  DEPS wojak_source_kafka)
