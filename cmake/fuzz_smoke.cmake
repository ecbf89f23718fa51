# cmake -DFUZZER=exe -DCORPUS=dir -DDICT=file -DWORK=dir -DRUNS=n [-DTIMEOUT=s] [-DSEEDS=dir;dir]
#       -P fuzz_smoke.cmake
# One smoke run of a libFuzzer target: the seed corpus (and any SEEDS folders), then RUNS
# mutations. New inputs and crash artifacts go to WORK (emptied first), never into the
# corpus or the seed folders in the source tree.
if(NOT TIMEOUT)
  set(TIMEOUT 10)
endif()
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}/new")
execute_process(
  COMMAND "${FUZZER}" -runs=${RUNS} -timeout=${TIMEOUT} -rss_limit_mb=2048 -dict=${DICT}
          -print_final_stats=1 -artifact_prefix=${WORK}/ "${WORK}/new" "${CORPUS}" ${SEEDS}
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  file(GLOB artifacts "${WORK}/crash-*" "${WORK}/leak-*" "${WORK}/timeout-*" "${WORK}/oom-*")
  message(FATAL_ERROR "${FUZZER} failed (${rc}); artifacts: ${artifacts}")
endif()
