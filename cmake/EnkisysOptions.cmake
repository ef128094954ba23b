# Project-wide compile settings, applied to project targets only (never to third-party code).
add_library(enkisys_warnings INTERFACE)
target_compile_options(enkisys_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Wdouble-promotion -Wimplicit-fallthrough
  # GCC 12 reports false -Wrestrict/-Wnull-dereference positives inside libstdc++ and Boost
  # when optimising (GCC bug 105329); they are not about project code.
  $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>
  $<$<BOOL:${ENKISYS_WERROR}>:-Werror>)
target_compile_definitions(enkisys_warnings INTERFACE
  BOOST_ASIO_NO_DEPRECATED
  ENKISYS_VERSION="${ENKISYS_VERSION}")

# enkisys_link_static(TARGET): with ENKISYS_STATIC, a service binary carries its C++ runtime and
# every library that has a usable static archive (Boost, SQLite, libsodium; in the images also
# libpq, built without Kerberos/LDAP by scripts/build-libpq.sh, see ENKISYS_LIBPQ_PREFIX in
# libs/db) and OpenSSL (OPENSSL_USE_STATIC_LIBS in the root CMakeLists.txt); unused functions and
# data are dropped (-ffunction-sections -fdata-sections, --gc-sections). glibc stays shared. The
# image build copies exactly that shared-library closure (scripts/collect-runtime-libs.sh).
if(ENKISYS_STATIC)
  add_compile_options(-ffunction-sections -fdata-sections)
endif()
function(enkisys_link_static target)
  if(ENKISYS_STATIC)
    target_link_options(${target} PRIVATE -static-libgcc -static-libstdc++ -Wl,--gc-sections)
  endif()
endfunction()

# enkisys_add_test(NAME SOURCES... LIBS ...) — one GoogleTest binary registered with ctest.
function(enkisys_add_test name)
  cmake_parse_arguments(T "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main enkisys_warnings)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 300)
endfunction()
