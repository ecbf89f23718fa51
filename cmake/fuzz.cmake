# libFuzzer targets (tests/fuzz), included by CMakeLists.txt when LMP_FUZZ is ON.
# Everything lmpcore compiles (the whole C host, the embedded Lua table too) is built with
# coverage instrumentation for libFuzzer plus ASan and UBSan, so a finding in any area
# stops the run. The targets:
#   fuzz_model    core.json_decode, core.load_model_string, then lmp.analyze and lmp.format
#   fuzz_formula  formula_parse + formula_eval (a few variables, one {Module})
#   fuzz_cli      cli.analyze_options and cli.parse on a NUL-separated argument list
#   fuzz_reply    an LLM provider's HTTP answer: llm.complete (no network), prompt.parse,
#                 agent.validate
#   fuzz_calc     a calculator's source: loaded and checked in the sandbox, with small limits
# Each gets a smoke run in ctest (label "fuzz") over its seed corpus in tests/fuzz/corpus,
# with its dictionary tests/fuzz/<target>.dict. docs/fuzzing.md has the longer runs.
if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "LMP_FUZZ needs clang (libFuzzer): configure with CC=clang")
endif()

set(LMP_FUZZ_FLAGS -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
    -fno-omit-frame-pointer)
target_compile_options(lmpcore PUBLIC ${LMP_FUZZ_FLAGS})
target_link_options(lmpcore INTERFACE -fsanitize=address,undefined)

# smoke runs: this many mutations after the seed corpus (LMP_FUZZ_RUNS=... to change)
set(LMP_FUZZ_RUNS 20000 CACHE STRING "libFuzzer -runs of each smoke test")

# The calculator targets make up to a dozen sandboxed calls an input, each capped at 1 s of
# CPU (fuzz_small_limits in tests/fuzz/fuzz_common.h): libFuzzer's -timeout of one input is
# 30 s for them, and their smoke runs make a fraction of the mutations (a few seconds each).
set(LMP_FUZZ_TIMEOUT_reply 30)
set(LMP_FUZZ_TIMEOUT_calc 30)
set(LMP_FUZZ_SHARE_reply 2)
set(LMP_FUZZ_SHARE_calc 5)
# seed folders read beside a target's corpus: the calculators themselves, not copies that drift
set(LMP_FUZZ_SEEDS_calc ${CMAKE_SOURCE_DIR}/modules_lua ${CMAKE_SOURCE_DIR}/spec/fixtures/modules)

foreach(target model formula cli reply calc)
  if(NOT DEFINED LMP_FUZZ_TIMEOUT_${target})
    set(LMP_FUZZ_TIMEOUT_${target} 10)
  endif()
  if(NOT DEFINED LMP_FUZZ_SHARE_${target})
    set(LMP_FUZZ_SHARE_${target} 1)
  endif()
  math(EXPR runs "${LMP_FUZZ_RUNS} / ${LMP_FUZZ_SHARE_${target}}")
  add_executable(fuzz_${target} ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_${target}.c)
  target_compile_options(fuzz_${target} PRIVATE -fsanitize=fuzzer)
  target_link_options(fuzz_${target} PRIVATE -fsanitize=fuzzer)
  target_link_libraries(fuzz_${target} PRIVATE lmpcore)
  # the corpus in the source tree stays read-only: new inputs go to a scratch folder
  add_test(NAME fuzz_${target}
           COMMAND ${CMAKE_COMMAND} -DFUZZER=$<TARGET_FILE:fuzz_${target}>
                   -DCORPUS=${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/${target}
                   -DDICT=${CMAKE_SOURCE_DIR}/tests/fuzz/${target}.dict
                   -DWORK=${CMAKE_BINARY_DIR}/fuzz-work/${target} -DRUNS=${runs}
                   -DTIMEOUT=${LMP_FUZZ_TIMEOUT_${target}} "-DSEEDS=${LMP_FUZZ_SEEDS_${target}}"
                   -P ${CMAKE_SOURCE_DIR}/cmake/fuzz_smoke.cmake)
  set_tests_properties(fuzz_${target} PROPERTIES LABELS fuzz TIMEOUT 600)
endforeach()
