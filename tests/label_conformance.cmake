# Run after each build of a doctest executable (see shcx_label_conformance in
# CMakeLists.txt): lists the test cases of its doctest suite "conformance" and writes a
# CTest script giving each of them the label `conformance`.
# -DEXE=test executable -DPREFIX=ctest name prefix -DOUT=script to write
execute_process(COMMAND "${EXE}" --test-suite=conformance --list-test-cases
                OUTPUT_VARIABLE listing RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${EXE} --list-test-cases failed (${rc}): ${listing}")
endif()
string(REPLACE "\n" ";" lines "${listing}")
set(script "")
foreach(line IN LISTS lines)
  if(line STREQUAL "" OR line MATCHES "^=+$" OR line MATCHES "^\\[doctest\\] ")
    continue()
  endif()
  string(APPEND script "set_tests_properties([==[${PREFIX}${line}]==] PROPERTIES LABELS conformance)\n")
endforeach()
file(WRITE "${OUT}" "${script}")
