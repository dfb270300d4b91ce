# The libFuzzer targets need clang; they are built in a sub-build of this same
# source tree with HASHLOCK_FUZZ_ONLY=ON, and a short smoke run of each is a
# CTest test. `make fuzz` runs them for longer.
find_program(CLANGXX clang++ REQUIRED)
find_program(CLANG clang REQUIRED)
include(ExternalProject)
set(HASHLOCK_FUZZ_BINARY_DIR ${CMAKE_BINARY_DIR}/fuzz-build)
ExternalProject_Add(hashlock_fuzzers
  SOURCE_DIR ${PROJECT_SOURCE_DIR}
  BINARY_DIR ${HASHLOCK_FUZZ_BINARY_DIR}
  CMAKE_ARGS
    -DHASHLOCK_FUZZ_ONLY=ON
    -DCMAKE_BUILD_TYPE=RelWithDebInfo
    -DCMAKE_C_COMPILER=${CLANG}
    -DCMAKE_CXX_COMPILER=${CLANGXX}
  BUILD_ALWAYS ON
  INSTALL_COMMAND ""
  USES_TERMINAL_BUILD ON)

set(HASHLOCK_FUZZ_SMOKE_SECONDS 10 CACHE STRING "Seconds each fuzzer runs in the test suite")
foreach(target fuzz_record fuzz_ln_consistency fuzz_manager_records)
  add_test(NAME ${target}_smoke
    COMMAND ${CMAKE_COMMAND} -E env ASAN_OPTIONS=detect_leaks=1
      ${HASHLOCK_FUZZ_BINARY_DIR}/fuzz/${target}
      -max_total_time=${HASHLOCK_FUZZ_SMOKE_SECONDS} -seed=1
      -print_final_stats=1 ${CMAKE_BINARY_DIR}/fuzz-corpus/${target}
      ${PROJECT_SOURCE_DIR}/fuzz/corpus/${target})
  file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz-corpus/${target})
  set_tests_properties(${target}_smoke PROPERTIES LABELS fuzz TIMEOUT 300)
endforeach()
