# What find_package(Threadprocs) adds besides the exported targets. Expects
# Threadprocs_SUPPORT_DIR: where tp_crt0.o, tp_note_default.o, libtp.a and
# threadprocs.ld are.
include_guard(GLOBAL)

if(NOT TARGET Threadprocs::slot_aware)
  # The link behaviour of a slot-aware image for targets that link it
  # directly. The note is the default one (program name = file name); use
  # threadprocs_add_executable() to set the note's fields and to have tp-link
  # check the result.
  add_library(Threadprocs::slot_aware INTERFACE IMPORTED)
  set_target_properties(Threadprocs::slot_aware PROPERTIES
    INTERFACE_LINK_LIBRARIES Threadprocs::tp
    INTERFACE_LINK_OPTIONS
      "-pie;-fuse-ld=lld;LINKER:-e,__tp_start;LINKER:--wrap=main;LINKER:-T,${Threadprocs_SUPPORT_DIR}/threadprocs.ld;${Threadprocs_SUPPORT_DIR}/tp_crt0.o;${Threadprocs_SUPPORT_DIR}/tp_note_default.o")
endif()

# threadprocs_add_executable(name [NAME label] [STACK_SIZE n] [MIN_SLOT_SIZE n] [SLOT n]
#                            [PRIVATE_HEAP] sources...)
# An executable linked by tp-link: slot-aware, with a note carrying the given
# values, checked by tp-link after the link. Links Threadprocs::tp.
function(threadprocs_add_executable name)
  cmake_parse_arguments(PARSE_ARGV 1 TP "PRIVATE_HEAP" "NAME;STACK_SIZE;MIN_SLOT_SIZE;SLOT" "")
  if(NOT TP_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "threadprocs_add_executable(${name}): no source files")
  endif()
  add_executable(${name} ${TP_UNPARSED_ARGUMENTS})
  target_link_libraries(${name} PRIVATE Threadprocs::tp)
  # LINKER_LAUNCHER takes no generator expressions (CMake 3.25): the
  # imported tool's location, read here.
  get_target_property(launcher Threadprocs::tp-link LOCATION)
  if(TP_NAME)
    list(APPEND launcher --name ${TP_NAME})
  endif()
  if(TP_STACK_SIZE)
    list(APPEND launcher --stack-size ${TP_STACK_SIZE})
  endif()
  if(TP_MIN_SLOT_SIZE)
    list(APPEND launcher --min-slot-size ${TP_MIN_SLOT_SIZE})
  endif()
  if(DEFINED TP_SLOT)
    list(APPEND launcher --slot ${TP_SLOT})
  endif()
  if(TP_PRIVATE_HEAP)
    list(APPEND launcher --private-heap)
  endif()
  list(APPEND launcher --cc)
  # The launcher is put in front of the link command: tp-link ... --cc <driver> <args>.
  set_target_properties(${name} PROPERTIES C_LINKER_LAUNCHER "${launcher}" CXX_LINKER_LAUNCHER "${launcher}")
endfunction()

# threadprocs_ordinary_executable(target): opts one target out of the
# toolchain file's slot-aware linking (it becomes an ordinary PIE).
function(threadprocs_ordinary_executable target)
  set_target_properties(${target} PROPERTIES C_LINKER_LAUNCHER "" CXX_LINKER_LAUNCHER "")
endfunction()
