# Helpers so every module is declared the same way: warnings as errors, include root, tests labelled.
set(WOJAK_WARNINGS -Wall -Wextra -Werror -Wno-missing-field-initializers)
# GCC 12 reports -Wrestrict inside libstdc++'s own operator+(const char*, string&&) at -O2 and
# above (GCC bug 105329, fixed in GCC 13); it is not about our code.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  list(APPEND WOJAK_WARNINGS -Wno-restrict)
endif()

# wojak_library(NAME SOURCES ... DEPS ...): a static library for one src/ folder.
function(wojak_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src
                                             ${PROJECT_BINARY_DIR}/generated)
  target_compile_options(${name} PRIVATE ${WOJAK_WARNINGS})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
endfunction()

# wojak_test(NAME SOURCES ... DEPS ... LABELS ...): a gtest binary; every test case is registered with CTest.
# Unit tests carry the label "unit" so the sanitizer build can run exactly them.
function(wojak_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  if(NOT WOJAK_UNIT_TESTS AND "unit" IN_LIST ARG_LABELS)
    return()
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src
                                             ${PROJECT_BINARY_DIR}/generated)
  target_compile_options(${name} PRIVATE ${WOJAK_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  gtest_discover_tests(${name} PROPERTIES TIMEOUT ${ARG_TIMEOUT} DISCOVERY_TIMEOUT 60)
  # gtest_discover_tests (CMake 3.25) splits every list-valued property into separate arguments,
  # which turned "unit;source:http" and the two environment variables into bogus properties. A
  # file CTest includes after the discovered tests sets them on the test list instead.
  set(properties_file "${CMAKE_CURRENT_BINARY_DIR}/${name}_properties.cmake")
  file(WRITE "${properties_file}"
       "if(NOT \"\${${name}_TESTS}\" STREQUAL \"\")\n"
       "  set_tests_properties(\${${name}_TESTS} PROPERTIES\n"
       "    LABELS [==[${ARG_LABELS}]==]\n"
       "    ENVIRONMENT [==[WOJAK_SOURCE_DIR=${PROJECT_SOURCE_DIR};"
       "WOJAK_BINARY=${PROJECT_BINARY_DIR}/wojak]==])\n"
       "endif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${properties_file}")
endfunction()
