# ctest script: tp_crt0.o is what crt0 must be.
#   cmake -DCRT0=<tp_crt0.o> -DREADELF=<readelf> -P check_crt0.cmake
# - __tp_start is a global, default-visibility function (the entry tp-link names);
# - its code refers to nothing through the GOT and needs no absolute relocation:
#   the auxv walk runs before a static-PIE relocates itself, so .text may only
#   hold PC-relative relocations;
# - it needs nothing but glibc's _start, main (through --wrap) and libtp.
foreach(v CRT0 READELF)
  if(NOT ${v})
    message(FATAL_ERROR "${v} not set")
  endif()
endforeach()

execute_process(COMMAND ${READELF} -sW ${CRT0} OUTPUT_VARIABLE syms RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "readelf -s ${CRT0} failed")
endif()
if(NOT syms MATCHES "FUNC +GLOBAL +DEFAULT +[0-9]+ __tp_start\n")
  message(FATAL_ERROR "__tp_start is not a global default-visibility function:\n${syms}")
endif()

string(REGEX MATCHALL "[^\n]*UND [^\n]*" undefined "${syms}")
foreach(line IN LISTS undefined)
  string(REGEX REPLACE ".* UND *" "" name "${line}")
  if(name STREQUAL "" OR name MATCHES "^(_start|__real_main|tpi_[a-z0-9_]+)$")
    continue()
  endif()
  message(FATAL_ERROR "tp_crt0.o needs an unexpected symbol: ${name}")
endforeach()

execute_process(COMMAND ${READELF} -rW ${CRT0} OUTPUT_VARIABLE relocs RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "readelf -r ${CRT0} failed")
endif()
# Only the .rela.text section, up to the next section's header.
string(REGEX MATCH "Relocation section '\\.rela\\.text'[^\n]*\n[^\n]*\n(([0-9a-f]+ [^\n]*\n)*)" _ "${relocs}")
set(text "${CMAKE_MATCH_1}")
if(text STREQUAL "")
  message(FATAL_ERROR "no .rela.text in ${CRT0}:\n${relocs}")
endif()
string(REGEX MATCHALL "R_X86_64_[A-Z0-9_]+" types "${text}")
foreach(type IN LISTS types)
  if(NOT type MATCHES "^R_X86_64_(PC32|PLT32)$")
    message(FATAL_ERROR "tp_crt0.o .text has a ${type} relocation; only PC-relative ones are allowed:\n${text}")
  endif()
endforeach()
message(STATUS "tp_crt0.o: __tp_start global, .text relocations: ${types}")
