# RabbitMQ source conformance against rabbitmq-server (included by tests/sources/CMakeLists.txt);
# it shares the broker of the rabbitmq_broker fixture (tests/sources/rabbitmq/CMakeLists.txt).
if(TARGET wojak_source_rabbitmq)
  wojak_source_conformance(rabbitmq
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/rabbitmq_fixture.cc ${CMAKE_CURRENT_LIST_DIR}/rabbitmq_broker.cc
    DEPS wojak_source_rabbitmq)
  wojak_rabbitmq_shared_broker(conformance_rabbitmq_test)
endif()
