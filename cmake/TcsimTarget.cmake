# Per-target settings shared by every tcsim target (no global flags).
function(tcsim_target target)
  target_compile_features(${target} PUBLIC cxx_std_20)
  set_target_properties(${target} PROPERTIES CXX_EXTENSIONS OFF)
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR})
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
                                           -Wno-missing-field-initializers)
    if(TCSIM_WERROR)
      target_compile_options(${target} PRIVATE -Werror)
    endif()
    if(TCSIM_FUZZ)
      # Coverage instrumentation for libFuzzer in every library the fuzz targets reach.
      target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link)
    endif()
    if(TCSIM_SANITIZE)
      # -O1, as AddressSanitizer's documentation recommends for usable speed (after the build type's -O0, so it
      # wins); asserts stay on in a Debug build.
      target_compile_options(${target} PUBLIC -fsanitize=address,undefined -fno-omit-frame-pointer
                                              -fno-sanitize-recover=undefined -O1)
      target_link_options(${target} PUBLIC -fsanitize=address,undefined)
    endif()
  endif()
endfunction()
