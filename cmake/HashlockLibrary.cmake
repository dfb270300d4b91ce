# hashlock_library(NAME SOURCES ... DEPS ...): one static library per layer,
# with src/ as the include root, warnings as errors.
function(hashlock_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ${ARG_DEPS} PRIVATE hashlock_warnings)
endfunction()

# hashlock_test(NAME SOURCES ... DEPS ... [ONE_PROCESS]): a GoogleTest binary.
# Its tests are registered with CTest one by one, or, with ONE_PROCESS, as one
# CTest test (for suites that share an expensive fixture such as a server).
function(hashlock_test name)
  if(HASHLOCK_FUZZ_ONLY)
    return()
  endif()
  cmake_parse_arguments(ARG "ONE_PROCESS" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main hashlock_warnings)
  if(ARG_ONE_PROCESS)
    add_test(NAME ${name} COMMAND ${name})
    set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT 600)
  else()
    include(GoogleTest)
    gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS "${ARG_LABELS}")
  endif()
endfunction()
