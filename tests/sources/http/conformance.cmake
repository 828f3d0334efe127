# HTTP source conformance: the client side is the broker (included by tests/sources/CMakeLists.txt).
wojak_source_conformance(http SOURCES ${CMAKE_CURRENT_LIST_DIR}/http_fixture.cc DEPS wojak_http_client)
