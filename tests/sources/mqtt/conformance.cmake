# MQTT source conformance against mosquitto (included by tests/sources/CMakeLists.txt).
if(TARGET wojak_source_mqtt)
  wojak_source_conformance(mqtt
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/mqtt_fixture.cc ${CMAKE_CURRENT_LIST_DIR}/mosquitto_broker.cc
    DEPS wojak_source_mqtt)
endif()
